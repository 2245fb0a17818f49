"""Sensitive periods (DESIGN.md §6): an election, a Party congress, an NA session, Tết.

A :class:`Period` has named phases (``before``, ``during``, ``after`` or any names), each a range
of local days ``from``..``to`` (both included), and a :class:`PhasePolicy` per phase: extra
warning rungs, hot-spot types whose head of unit is notified at once (:mod:`engine.phase_policy`),
roster cover every day, weekends and holidays included (:mod:`engine.roster`), a daily report
(:mod:`engine.report_job`).
Everything here is pure: no I/O, no wall clock.

Rules checked at load (each a one-line message naming the field):

- a phase ends on or after the day it starts; phases of one period do not overlap;
- a period's ``day`` (election day, the opening of a congress), when given, lies within its
  phases' overall span;
- a policy names a phase the period declares; hot-spot types are the known ones; fractions lie
  strictly between 0 and 1;
- period ids are unique. Periods may overlap one another, of the same kind too (a Party congress
  within an election's ``before`` phase): every phase in force applies, their extra rungs are the
  union, their switches are or-ed.

How a phase's ``extra_warn_at`` reaches the deadlines: :func:`warn_windows` turns each into a
:class:`~engine.deadlines.WarnWindow` (fraction, first day, last day); the keeper adds that rung to
a deadline whose counted day for the fraction lies within the phase. The rung set is a function of
the ledger and the configuration only, never of the moment, so no re-projection is needed when a
phase starts or ends (docs/design-notes.md, "Periods").

:class:`PhaseChanges` is the scheduled job (kind ``period.phase``) that raises
``period.phase_changed`` once per phase start, slot ``<period>:<phase>``, also after downtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.calendar import BusinessCalendar
from engine.deadlines import WarnWindow
from engine.jobs import JobRun, JobSlot
from engine.model import NewEvent
from engine.reactors import Effect, Emit

__all__ = ["HOT_SPOT_TYPES", "PHASE_CHANGED", "ActivePhase", "Period", "PhaseChanges", "PhasePolicy", "PhaseSpan",
           "check_periods", "phases", "phases_at", "warn_windows"]

#: The hot-spot types a policy may name (DESIGN.md §10, ``hot_spots()``).
HOT_SPOT_TYPES = ("crowded", "early_crowded", "complex", "prolonged", "skip_level", "circular_forwarding")
#: The feed event of a phase change.
PHASE_CHANGED = "period.phase_changed"
PeriodKind = Literal["election", "congress", "na_session", "tet", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PhaseSpan(_Model):
    """The local days of one phase, both included."""

    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _not_inverted(self) -> PhaseSpan:
        if self.to < self.from_:
            raise ValueError(f"the phase ends ({self.to}) before it starts ({self.from_})")
        return self

    def covers(self, day: date) -> bool:
        """Whether ``day`` lies within the phase."""
        return self.from_ <= day <= self.to


class PhasePolicy(_Model):
    """What a phase switches on.

    ``extra_warn_at`` reaches the deadline keepers (:func:`warn_windows`), ``notify_at_once`` the
    head of unit (:mod:`engine.phase_policy`), ``roster`` the roster check
    (:func:`engine.roster.roster_gaps`: ``every_day`` makes a day of the phase without anyone on
    duty a gap, weekends and holidays included; ``working_days``, the default, only its working
    days). ``daily_report``: each day of the phase, the report job (:func:`engine.report_job.daily_report_job`)
    raises ``report.generated`` once with the day's figures and tells the head of unit and the director.
    """

    extra_warn_at: tuple[float, ...] = ()
    notify_at_once: tuple[str, ...] = ()
    daily_report: bool = False
    roster: Literal["every_day", "working_days"] = "working_days"

    @field_validator("extra_warn_at")
    @classmethod
    def _fractions(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for fraction in value:
            if not 0 < fraction < 1:
                raise ValueError(f"fractions lie strictly between 0 and 1, got {fraction}")
        return value

    @field_validator("notify_at_once")
    @classmethod
    def _hot_spot_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            if kind not in HOT_SPOT_TYPES:
                raise ValueError(f"unknown hot-spot type {kind!r} (known: {', '.join(HOT_SPOT_TYPES)})")
        return value

    def switches(self) -> dict[str, Any]:
        """What the policy switches on, as plain values (for the event and the CLI)."""
        return {"extra_warn_at": list(self.extra_warn_at), "notify_at_once": list(self.notify_at_once),
                "daily_report": self.daily_report, "roster": self.roster}


class Period(_Model):
    """A sensitive period: its phases (in order of their first day) and a policy per phase."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: PeriodKind
    label: str = Field(min_length=1)
    day: date | None = None
    phases: dict[str, PhaseSpan] = Field(min_length=1)
    policy: dict[str, PhasePolicy] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Period:
        ordered = sorted(self.phases.items(), key=lambda item: item[1].from_)
        for (a, first), (b, second) in pairwise(ordered):
            if second.from_ <= first.to:
                raise ValueError(f"phases {a!r} ({first.from_}..{first.to}) and {b!r} "
                                 f"({second.from_}..{second.to}) overlap")
        unknown = sorted(set(self.policy) - set(self.phases))
        if unknown:
            raise ValueError(f"policy names phase {unknown[0]!r}, which is not among the phases "
                             f"({', '.join(self.phases)})")
        if self.day is not None and not ordered[0][1].from_ <= self.day <= ordered[-1][1].to:
            raise ValueError(f"day {self.day} lies outside the period's phases "
                             f"({ordered[0][1].from_}..{ordered[-1][1].to})")
        return self

    def ordered(self) -> list[tuple[str, PhaseSpan]]:
        """The phases by first day."""
        return sorted(self.phases.items(), key=lambda item: item[1].from_)

    def policy_of(self, phase: str) -> PhasePolicy:
        """The phase's policy (an empty one when the period gives none)."""
        return self.policy.get(phase) or PhasePolicy()


def check_periods(periods: Sequence[Period]) -> Sequence[Period]:
    """Refuse two periods with one id (ValueError naming it); return ``periods``."""
    seen: set[str] = set()
    for period in periods:
        if period.id in seen:
            raise ValueError(f"period id {period.id!r} is declared twice")
        seen.add(period.id)
    return periods


@dataclass(frozen=True, slots=True)
class ActivePhase:
    """A phase in force on a day: its period, name, days, label and policy."""

    period: str
    phase: str
    label: str
    kind: str
    from_: date
    to: date
    policy: PhasePolicy


def phases_at(periods: Iterable[Period], day: date) -> list[ActivePhase]:
    """The phases in force on the local ``day`` (several when periods overlap), by period id."""
    found = [ActivePhase(p.id, name, p.label, p.kind, span.from_, span.to, p.policy_of(name))
             for p in periods for name, span in p.phases.items() if span.covers(day)]
    return sorted(found, key=lambda a: a.period)


def phases(periods: Iterable[Period], now: datetime, calendar: BusinessCalendar) -> list[ActivePhase]:
    """The phases in force at the aware moment ``now`` (its local day on ``calendar``)."""
    return phases_at(periods, calendar.local_date(now))


def warn_windows(periods: Iterable[Period]) -> tuple[WarnWindow, ...]:
    """Each extra warning fraction of a phase, with the phase's days, for the deadline keeper."""
    return tuple(WarnWindow(fraction, span.from_, span.to)
                 for p in periods for name, span in p.ordered() for fraction in p.policy_of(name).extra_warn_at)


@dataclass(frozen=True)
class PhaseChanges:
    """The job raising ``period.phase_changed`` once per phase start (kind ``period.phase``).

    Due slots: every phase whose first day has begun (00:00 local), earliest first, so a daemon
    that was down raises each missed change once, in order. Slot ``<period>:<phase>``, subject the
    period id; the tick's claim of the slot makes it once, whatever the number of daemons.
    """

    periods: tuple[Period, ...]
    kind: str = "period.phase"

    def due(self, now: datetime, calendar: BusinessCalendar) -> Iterator[JobSlot]:
        """The phase starts at or before ``now``, in order of their moment."""
        slots = [JobSlot(p.id, f"{p.id}:{name}", calendar.start_of_day(span.from_))
                 for p in self.periods for name, span in p.ordered()]
        yield from sorted((s for s in slots if s.at <= now), key=lambda s: (s.at, s.slot))

    def run(self, job: JobRun) -> Iterable[Effect]:
        """Emit the phase's ``period.phase_changed`` event."""
        period_id, name = job.slot.slot.split(":", 1)
        period = next(p for p in self.periods if p.id == period_id)
        span = period.phases[name]
        data: dict[str, Any] = {"period": period.id, "phase": name, "label": period.label, "kind": period.kind,
                                "from": span.from_.isoformat(), "to": span.to.isoformat(),
                                **period.policy_of(name).switches()}
        return [Emit(NewEvent(PHASE_CHANGED, None, job.now, data))]
