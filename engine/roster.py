"""The duty roster: who receives citizens on which day, and the days nobody covers.

A :class:`Duty` is one officer on duty on one local day (at a place, with a note). The roster is
kept in the ``duty_roster`` table (``kntc roster import``); this module is pure: it finds the
gaps of a roster over a span of days and, as a daily job, reports each gap once.

A day without anyone on duty is a :class:`RosterGap` when

- a phase in force that day (:func:`engine.periods.phases_at`) has ``roster: every_day`` (the
  plan of the 2026 elections asks for officers at reception "trước và trong các ngày diễn ra bầu
  cử (kể cả ngày nghỉ)"): weekends and holidays included; or
- it is a working day of the calendar (``ngày làm việc không có người trực``).

A day is reported once; the every-day reason wins over the working-day one.

:func:`roster_check_job` is the daily job (kind ``roster.check``): each run of day D checks
``[D, D + look_ahead_days]`` (from today on: a catch-up run after downtime warns of no day already
past) and, for a gap day not reported yet (claimed in the jobs table as
``("roster.gap", "roster", <day ISO>)``, in the run's transaction), raises the caseless feed
event ``roster.gap`` and queues a ``notify`` message to the head of the unit given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from engine.calendar import BusinessCalendar
from engine.jobs import Daily, JobRun
from engine.model import NewEvent
from engine.periods import Period, phases_at
from engine.reactors import Effect, Emit, Enqueue

__all__ = ["GAP_CLAIM", "ROSTER_GAP", "WORKING_DAY_REASON", "Duty", "RosterGap", "days", "roster_check_job",
           "roster_gaps"]

#: The feed event of a day nobody covers.
ROSTER_GAP = "roster.gap"
#: The jobs-table kind under which a gap day is claimed (reported once).
GAP_CLAIM = "roster.gap"
#: Why a working day without anyone on duty is a gap.
WORKING_DAY_REASON = "ngày làm việc không có người trực"
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Duty:
    """One officer on duty on one local day (``place``: where they receive citizens)."""

    day: date
    person_id: str
    place: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RosterGap:
    """A day nobody is on duty although cover is required; ``period``/``phase``: the phase requiring it."""

    day: date
    reason: str
    period: str | None
    phase: str | None

    def data(self) -> dict[str, Any]:
        """The ``roster.gap`` event's data (the day as an ISO date)."""
        return {"day": self.day.isoformat(), "reason": self.reason, "period": self.period, "phase": self.phase}


def days(start: date, end: date) -> Iterator[date]:
    """Each day from ``start`` to ``end``, both included (none when ``end < start``)."""
    day = start
    while day <= end:
        yield day
        day += _ONE_DAY


def roster_gaps(duties: Iterable[Duty], start: date, end: date, calendar: BusinessCalendar,
                periods: Sequence[Period]) -> list[RosterGap]:
    """The days of ``[start, end]`` with nobody on duty that need cover, in day order.

    A day needs cover when a phase in force has ``roster: every_day`` (the first such phase by
    period id names the gap) or when it is a working day of ``calendar`` (CalendarError for a
    day outside the calendar's years).
    """
    covered = {duty.day for duty in duties}
    gaps: list[RosterGap] = []
    for day in days(start, end):
        if day in covered:
            continue
        every_day = [a for a in phases_at(periods, day) if a.policy.roster == "every_day"]
        if every_day:
            first = every_day[0]
            gaps.append(RosterGap(day, f"giai đoạn {first.phase} của {first.period} yêu cầu trực mọi ngày",
                                  first.period, first.phase))
        elif calendar.is_working_day(day):
            gaps.append(RosterGap(day, WORKING_DAY_REASON, None, None))
    return gaps


def roster_check_job(periods: Sequence[Period], *, unit: str | None, look_ahead_days: int = 7,
                     at: time = time(7, 0)) -> Daily:
    """The daily job (kind ``roster.check``) reporting each roster gap once (see the module doc).

    ``unit``: whose head of unit is notified (the inspectorate; None: every head of unit).
    The notification's data: ``{"event": "roster.gap", "day": "dd/mm/yyyy", "reason", "role":
    "head_of_unit", "unit"}``; the router turns the role and unit into people.
    """
    found = tuple(periods)

    def check_roster(job: JobRun) -> Iterable[Effect]:
        slot_day = date.fromisoformat(job.slot.slot)
        # a catch-up run (a daemon that was down) warns of no day already past
        first, last = max(slot_day, job.calendar.local_date(job.now)), slot_day + timedelta(days=look_ahead_days)
        if last < first:
            return []
        effects: list[Effect] = []
        for gap in roster_gaps(job.tx.duties(first, last), first, last, job.calendar, found):
            if not job.tx.claim_job(GAP_CLAIM, "roster", gap.day.isoformat(), job.now):
                continue  # reported by an earlier run
            effects.append(Emit(NewEvent(ROSTER_GAP, None, job.now, gap.data())))
            effects.append(Enqueue("notify", "roster_gap", None, {
                "event": ROSTER_GAP, "day": gap.day.strftime("%d/%m/%Y"), "reason": gap.reason,
                "role": "head_of_unit", "unit": unit}))
        return effects

    return Daily(kind="roster.check", action=check_roster, at=at, subject="roster")
