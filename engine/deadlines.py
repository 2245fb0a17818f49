"""Deadlines: budgets on a pausable clock, kept as a ledger, projected on the business calendar.

A deadline's ledger (:class:`~engine.model.DeadlineLedger`) records only facts: the day its clock
started, its pauses ``(paused_on, resumed_on)``, the extensions granted, the rungs already fired.
Everything else — the budget in force, the due date, the warning moments, the next timer — is
derived from the ledger, the definition and the calendar every time it is needed, so a change of
calendar, a resumption or an extension re-projects the pending rungs without editing history.

Which budget applies:

1. the effective-dated ``rules`` entry with the latest ``from`` not after the day the clock
   started (the law of 01/07/2026 applies to clocks started from that day), else the base;
2. within it, the first ``variants`` entry whose CEL condition holds for the case's current
   fields (so marking a case complex lengthens a running resolution clock), else its budget;
3. plus the extensions granted.

Rungs are keyed by what they are (:data:`~engine.model.RUNG_DUE`): a warning by its fraction of
the budget in per-mille (at the end of the day on which that many units have been counted; for a
budget in months or years, that fraction of the calendar days of the whole period, counted as
calendar days: the 0.5 rung of "01 năm" from 01/03/2027, 366 days, falls on the 183rd day,
31/08/2027, see ``BusinessCalendar.period_days``), the due moment by 1000 (the end of the last
day; a period in calendar days, months or years ending on a day off runs to the end of the next
working day). The ledger keeps the key of the last rung fired, so a warning added
later (``extra_warn_at``, a period's policy) never re-fires or skips another: it fires if its key
is above the last one fired. A rung fires once per clock cycle; a ``restart`` pause policy starts
a new cycle.

A sensitive period's phase adds its rungs as :class:`WarnWindow` values: the fraction's rung
belongs to a deadline whose counted day for that fraction lies within the phase's days, whenever
the deadline started (docs/design-notes.md, "Periods"). So the rung set depends on the ledger and
the configuration only, never on the moment of the projection.

A case reaching a final state stops its clocks, except one that ``outlives_final``: it runs on
(its rungs fire) until its ``stops_on`` event, fired on the final case. A deadline counted back
from a date field (``before``) is projected by :mod:`engine.counted_back`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta
from typing import Any

from engine.calendar import BusinessCalendar, Unit
from engine.counted_back import moments as counted_back_moments
from engine.definitions import Budget, DeadlineSpec
from engine.errors import ConditionError, NotAllowedError, ValidationError
from engine.expressions import ExpressionError
from engine.machines import CompiledWorkflow
from engine.model import RUNG_DUE, Deadline, DeadlineLedger, NewEvent

__all__ = ["DeadlineChanges", "DeadlineKeeper", "DeadlineViews", "Projection", "WarnWindow"]


@dataclass(frozen=True, slots=True)
class WarnWindow:
    """A warning rung at ``fraction`` for deadlines whose day for it lies in ``first``..``last``."""

    fraction: float
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Projection:
    """A deadline's budget in force and the moments derived from it."""

    amount: int
    unit: Unit
    legal_basis: str
    due_date: date | None
    rungs: tuple[datetime | None, ...]  # warnings..., due
    keys: tuple[int, ...]  # the rungs' keys: per-mille fractions..., RUNG_DUE

    @property
    def due_at(self) -> datetime | None:
        return self.rungs[-1]


@dataclass(slots=True)
class DeadlineChanges:
    """What one command did to a case's deadlines."""

    inserted: list[DeadlineLedger] = field(default_factory=list)
    updated: list[DeadlineLedger] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    projections: dict[str, Projection] = field(default_factory=dict)


class DeadlineKeeper:
    """Applies events to the deadline ledgers of one workflow and projects them."""

    def __init__(self, workflow: CompiledWorkflow, calendar: BusinessCalendar,
                 extra_warn_at: tuple[float, ...] = (), windows: tuple[WarnWindow, ...] = ()) -> None:
        self.workflow = workflow
        self.calendar = calendar
        self.specs: dict[str, DeadlineSpec] = dict(workflow.definition.deadlines)
        self._warn: dict[str, tuple[tuple[float, ...], tuple[int, ...]]] = {}
        # per-mille key -> the day ranges a windowed rung applies in (a key always fired has none)
        self._windows: dict[str, dict[int, tuple[tuple[date, date], ...]]] = {}
        for name, spec in self.specs.items():
            by_key = {round(f * RUNG_DUE): f for f in (*spec.warn_at, *extra_warn_at)}
            always = set(by_key)
            ranges: dict[int, tuple[tuple[date, date], ...]] = {}
            for w in windows:
                key = round(w.fraction * RUNG_DUE)
                if key not in always:
                    by_key.setdefault(key, w.fraction)
                    ranges[key] = (*ranges.get(key, ()), (w.first, w.last))
            fractions = tuple(by_key[k] for k in sorted(by_key) if 0 < k < RUNG_DUE)
            self._warn[name] = fractions, (*(round(f * RUNG_DUE) for f in fractions), RUNG_DUE)
            self._windows[name] = ranges
        #: some deadline is counted back from a date field (commands check the date: engine.counted_back)
        self.counts_back = any(spec.before is not None for spec in self.specs.values())
        self._budgets: dict[tuple[Any, ...], tuple[Budget, str]] = {}
        self._moments: dict[tuple[Any, ...], tuple[date | None, tuple[datetime | None, ...]]] = {}

    # -- projection ---------------------------------------------------------------------------
    def budget(self, spec: DeadlineSpec, state: DeadlineLedger,
               context: Mapping[str, Any]) -> tuple[int, Unit, str]:
        """The budget in force (amount including extensions), its unit and legal basis."""
        rule_index = next((i for i in range(len(spec.rules) - 1, -1, -1)
                           if spec.rules[i].effective_from <= state.start_date), -1)
        key = _cache_key(state.name, rule_index, context)
        found = self._budgets.get(key) if key is not None else None
        if found is None:
            found = self._choose_budget(spec, rule_index, context)
            if key is not None:
                if len(self._budgets) > 4096:
                    self._budgets.clear()
                self._budgets[key] = found
        chosen, basis = found
        plus = int(context["fields"].get(spec.plus_field) or 0) if spec.plus_field else 0
        return chosen.amount + state.extended_by + max(plus, 0), chosen.unit, basis

    def _choose_budget(self, spec: DeadlineSpec, rule_index: int,
                       context: Mapping[str, Any]) -> tuple[Budget, str]:
        budget, variants, basis = spec.budget, spec.variants, spec.legal_basis
        if rule_index >= 0:
            rule = spec.rules[rule_index]
            budget = rule.budget or budget
            variants = rule.variants if rule.variants is not None else variants
            basis = rule.legal_basis
        for variant in variants:
            if self._holds(variant.when, context, spec):
                return variant.budget, variant.legal_basis or basis
        return budget, basis

    def _holds(self, condition: str, context: Mapping[str, Any], spec: DeadlineSpec) -> bool:
        try:
            return self.workflow.conditions[condition].evaluate(context)
        except ExpressionError as exc:
            name = next(n for n, s in self.specs.items() if s is spec)
            raise ConditionError(self.workflow.name, name, condition, str(exc)) from None

    def project(self, spec: DeadlineSpec, state: DeadlineLedger, context: Mapping[str, Any]) -> Projection:
        """Due date, due moment and warning moments of ``state`` under the current calendar."""
        amount, unit, basis = self.budget(spec, state, context)
        fractions, keys = self._warn[state.name]
        if spec.before is not None:  # due a lead before a date field: no pauses, no windows
            due, rungs = counted_back_moments(self.calendar, spec, state.start_date, fractions, context["fields"])
            return Projection(amount, unit, basis, due, rungs, keys)
        windowed = state.name if self._windows[state.name] else None  # windows differ by deadline
        key = (amount, unit, state.start_date, tuple(state.pauses), fractions, windowed)
        found = self._moments.get(key)
        if found is None:
            if len(self._moments) > 8192:
                self._moments.clear()
            found = self._moments[key] = self._moments_of(fractions, state, amount, unit,
                                                          self._windows[state.name])
        return Projection(amount, unit, basis, found[0], found[1], keys)

    def _moments_of(self, fractions: tuple[float, ...], state: DeadlineLedger, amount: int,
                    unit: Unit, windows: Mapping[int, tuple[tuple[date, date], ...]],
                    ) -> tuple[date | None, tuple[datetime | None, ...]]:
        """The due date and the rungs' moments; a windowed rung whose day lies in no window has none."""
        cal, pauses = self.calendar, state.pauses
        span = cal.period_days(state.start_date, amount, unit)  # a month or a year: its calendar days
        rung_unit: Unit = "calendar" if unit in ("month", "year") else unit
        rungs: list[datetime | None] = []
        for fraction in fractions:
            units = max(1, math.floor(fraction * span))
            day = cal.count_date(state.start_date, units, rung_unit, pauses) if units < span else None
            ranges = windows.get(round(fraction * RUNG_DUE))
            if day is not None and ranges is not None and not any(lo <= day <= hi for lo, hi in ranges):
                day = None
            rungs.append(cal.end_of_day(day) if day is not None else None)
        due = cal.due_date(state.start_date, amount, unit, pauses)
        rungs.append(cal.end_of_day(due) if due is not None else None)
        return due, tuple(rungs)

    def next_rung(self, state: DeadlineLedger, projection: Projection) -> tuple[int, datetime | None]:
        """The key of the next rung to fire and its moment (None while paused or when all have fired)."""
        if not state.open or state.paused:
            return RUNG_DUE, None
        for key, moment in zip(projection.keys, projection.rungs, strict=True):
            if key > state.fired_through and moment is not None:
                return key, moment
        return RUNG_DUE, None

    def refresh(self, state: DeadlineLedger, context: Mapping[str, Any]) -> Projection:
        """Re-derive ``due_at`` and ``next_fire_at`` of ``state`` from its ledger."""
        spec = self.specs[state.name]
        projection = self.project(spec, state, context)
        state.due_at = projection.due_at
        state.next_fire_at = self.next_rung(state, projection)[1]
        return projection

    def public(self, state: DeadlineLedger, context: Mapping[str, Any],
               projection: Projection | None = None) -> Deadline:
        """The portal's view of a deadline (``projection`` if the caller has it already)."""
        spec = self.specs[state.name]
        tz = self.calendar.timezone
        if projection is None and not state.open and state.due_at is not None:
            # closed: its moments no longer matter, only what it was (no re-projection)
            amount, unit, basis = self.budget(spec, state, context)
            due_at = state.due_at.astimezone(tz)
            return Deadline(name=state.name, label=spec.label, status=state.status, due_at=due_at,
                            due_date=(due_at - timedelta(microseconds=1)).date(), warn_at=(), amount=amount,
                            unit=unit, legal_basis=basis, started_at=state.started_at.astimezone(tz),
                            extensions=state.extensions)
        p = projection or self.project(spec, state, context)
        return Deadline(
            name=state.name, label=spec.label, status=state.status,
            due_at=p.due_at.astimezone(tz) if p.due_at else None, due_date=p.due_date,
            warn_at=tuple(m.astimezone(tz) for m in p.rungs[:-1] if m is not None),
            amount=p.amount, unit=p.unit, legal_basis=p.legal_basis,
            started_at=state.started_at.astimezone(tz), extensions=state.extensions)

    # -- commands -----------------------------------------------------------------------------
    def apply(self, *, case_id: str, event: str, source: str | None, target: str, at: datetime,
              clock_start: datetime, existing: list[DeadlineLedger], context: Mapping[str, Any],
              actor: str, payload: Mapping[str, Any], occurred_at: datetime | None = None) -> DeadlineChanges:
        """Start, stop, extend, pause or resume the case's clocks for one transition.

        ``clock_start`` is when a clock started by this event starts (the date of receipt for
        ``opened``). ``occurred_at``: when an act recorded late happened (DESIGN.md §4): clocks
        pause, resume and stop on its date, and a clock it stops by its due moment is met, even
        if the overdue rung fired meanwhile. Raises NotAllowedError, before anything is written,
        when an extension would pass the bound of the definition.
        """
        changes = DeadlineChanges()
        ledgers = {d.name: d for d in existing}
        moment = occurred_at or at
        today = self.calendar.local_date(moment)
        final = self.workflow.definition.states[target].final
        for name, spec in self.specs.items():
            state = ledgers.get(name)
            touched = False
            if state is not None and state.open:
                if (final and not spec.outlives_final) or event in spec.stops_on:
                    touched = self._stop(spec, state, moment, event, late=occurred_at is not None)
                else:
                    touched = (self._extend(spec, state, event, source or "", at, actor, payload, changes)
                               | self._pause_or_resume(spec, state, source, target, today))
            if event in spec.starts_on and (state is None or not state.open) and self.applies(spec, context):
                started_at, start_date = self._start_of(spec, clock_start, context)
                fresh = DeadlineLedger(case_id=case_id, name=name, status="running", started_at=started_at,
                                      start_date=start_date)
                if state is not None:  # started again after it closed: a new cycle
                    fresh.cycle = state.cycle + 1
                    for f in dataclass_fields(fresh):
                        setattr(state, f.name, getattr(fresh, f.name))
                    touched = True
                else:
                    state = fresh
                    self._pause_or_resume(spec, state, None, target, today)
                    changes.inserted.append(state)
            if state is not None and state.open:
                before = (state.due_at, state.next_fire_at)
                changes.projections[name] = self.refresh(state, context)
                touched |= before != (state.due_at, state.next_fire_at)
            if touched and state is not None and state not in changes.inserted:
                changes.updated.append(state)
        return changes

    def _start_of(self, spec: DeadlineSpec, clock_start: datetime,
                  context: Mapping[str, Any]) -> tuple[datetime, date]:
        """When a clock started now starts and the day it counts from (``start_from``, DESIGN.md §3)."""
        source = spec.start_from
        if source is None:
            return clock_start, self.calendar.local_date(clock_start)
        value = context["received_at"] if source == "received" else context["fields"].get(source.field)
        if value is None:  # an empty date field: the event's own day
            return clock_start, self.calendar.local_date(clock_start)
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        if day > self.calendar.local_date(clock_start):
            what = "the receipt" if source == "received" else "the act that starts it"
            where = "received_at" if source == "received" else f"fields.{source.field}"
            raise ValidationError(where, f"{day.isoformat()} is after {what} "
                                         f"({self.calendar.local_date(clock_start).isoformat()}): deadline "
                                         f"{next(n for n, s in self.specs.items() if s is spec)!r} counts from it "
                                         f"({spec.legal_basis})")
        return min(clock_start, self.calendar.start_of_day(day)), day

    def applies(self, spec: DeadlineSpec, context: Mapping[str, Any]) -> bool:
        """Whether the clock ``spec`` starts for a case in ``context`` (its ``when`` holds)."""
        return spec.when is None or self._holds(spec.when, context, spec)

    @staticmethod
    def _stop(spec: DeadlineSpec, state: DeadlineLedger, at: datetime, event: str, *, late: bool = False) -> bool:
        """Meet the deadline (or leave it missed); a case reaching a final state stops every clock
        but those that outlive it (``outlives_final``).

        ``late``: ``at`` is a back-dated act's moment; by the due moment it meets even a missed clock.
        A duty (not an ``on_due`` timer) stopped after its due moment is missed, even if no tick
        marked it so yet (DESIGN.md §10: met when its stopping event came in time).
        """
        after_due = spec.on_due is None and state.due_at is not None and at > state.due_at
        if after_due:
            state.status = "missed"
        elif state.status != "missed" or (late and state.due_at is not None and at <= state.due_at):
            state.status = "met"
        state.closed_at, state.closed_by, state.next_fire_at = at, event, None
        return True

    def check_extensions(self, event: str, source: str, existing: list[DeadlineLedger],
                         allowed: Callable[[], list[str]]) -> None:
        """Refuse ``event`` if it would extend a running deadline past the definition's bound."""
        for state in existing:
            spec = self.specs.get(state.name)
            ext = spec.extensions if spec else None
            if spec is None or ext is None or ext.event != event or not state.open:
                continue
            if state.extensions >= ext.max_times:
                raise NotAllowedError(
                    case_id=state.case_id, state=source, event=event, allowed=allowed(), why="bound",
                    reason=f"deadline {state.name!r} was already extended {state.extensions} time(s), "
                           f"the most {ext.legal_basis or spec.legal_basis} allows")

    def _extend(self, spec: DeadlineSpec, state: DeadlineLedger, event: str, source: str, at: datetime,
                actor: str, payload: Mapping[str, Any], changes: DeadlineChanges) -> bool:
        ext = spec.extensions
        if ext is None or event != ext.event:
            return False
        self.check_extensions(event, source, [state], list)
        state.extensions += 1
        state.extended_by += ext.amount
        changes.events.append(NewEvent("deadline.extended", state.case_id, at, {
            "deadline": state.name, "times": state.extensions, "amount": ext.amount,
            "unit": ext.unit or spec.budget.unit, "actor": actor,
            "legal_basis": ext.legal_basis or spec.legal_basis, "has_reason": bool(payload.get("reason"))}))
        return True

    def _pause_or_resume(self, spec: DeadlineSpec, state: DeadlineLedger, source: str | None,
                         target: str, today: date) -> bool:
        """Open or close a pause; a missed deadline stays ``missed`` while its ledger records the pause."""
        paused_before = source in spec.pauses_in if source else False
        paused_after = target in spec.pauses_in
        if paused_after and not paused_before and not state.paused:
            state.pauses = [*state.pauses, (today, None)]
            state.status = "missed" if state.status == "missed" else "paused"
            return True
        if paused_before and not paused_after and state.paused:
            if spec.pause_policy == "restart":  # a new clock: a new cycle of rungs, nothing missed yet
                state.pauses, state.start_date = [], today
                state.cycle, state.fired_through, state.status = state.cycle + 1, 0, "running"
            else:
                paused_on, _ = state.pauses[-1]
                state.pauses = [*state.pauses[:-1], (paused_on, today)]
                state.status = "missed" if state.status == "missed" else "running"
            return True
        return False


def _cache_key(name: str, rule_index: int, context: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key of what a variant condition can read (fields, case, dates, clocks); None if unhashable.

    Field order is the definition's (validation dumps fields in declared order), so no sort is needed.
    """
    try:
        key = (name, rule_index, tuple(context["fields"].items()), tuple(context["case"].values()),
               context.get("now"), context.get("received_at"),  # conditions may read dates and other clocks
               tuple((n, *d.values()) for n, d in context.get("deadlines", {}).items()))
        hash(key)
    except TypeError:
        return None
    return key


class DeadlineViews(Mapping[str, Deadline]):
    """A case's deadlines by name, each computed when first read (most callers read none or one)."""

    __slots__ = ("_context", "_done", "_keeper", "_projections", "_states")

    def __init__(self, keeper: DeadlineKeeper, states: Iterable[DeadlineLedger], context: Mapping[str, Any],
                 projections: Mapping[str, Projection] | None = None) -> None:
        self._keeper, self._context = keeper, context
        self._states = {s.name: s for s in states if s.name in keeper.specs}
        self._projections = projections or {}
        self._done: dict[str, Deadline] = {}

    def __getitem__(self, name: str) -> Deadline:
        found = self._done.get(name)
        if found is None:
            state = self._states[name]  # KeyError for an unknown name, as a dict would
            found = self._done[name] = self._keeper.public(state, self._context, self._projections.get(name))
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __repr__(self) -> str:
        return repr(dict(self.items()))
