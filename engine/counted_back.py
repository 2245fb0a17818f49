"""Deadlines counted back from a date in the case (DESIGN.md §3): "invite at least 5 days before it".

A deadline with ``before: {field: dialogue_date, amount: 5, unit: calendar}`` is due at the end
of the day ``amount`` units before the date in ``fields.dialogue_date``
(:meth:`~engine.calendar.BusinessCalendar.count_back`: the date itself is not counted, and a due
day that is a day off moves back to the working day before it, never forward, so the citizen
keeps the whole lead). Otherwise it is a clock like any other: it starts on its ``starts_on``
events (an ``opened`` start needs the date at opening), its ``stops_on`` event is the act, and an
act after the due moment is recorded ``missed``. The due day follows the field: an event that
changes the date (``set: {dialogue_date: "$payload.dialogue_date"}``) re-projects it.

Warnings fire at the ``warn_at`` fractions of the calendar days from the start day to the due day
(started 01/07, due 10/07: 9 days, the 0.5 rung at the end of 05/07); a span too short for a
fraction has no such rung. Sensitive-period windows do not apply to it.

Checks, before anything is written (:func:`check_dates`): an event after which such a clock is
running needs the date (refused naming the field); a new date (the clock starts, or the date
changes while it runs) may not be before the act's day, nor so close that the due day is past.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from engine.calendar import BusinessCalendar, CalendarError
from engine.definitions import DeadlineSpec
from engine.errors import ValidationError
from engine.model import DeadlineLedger

__all__ = ["check_dates", "counted_date", "moments"]


def counted_date(spec: DeadlineSpec, fields: Mapping[str, Any]) -> date | None:
    """The date ``spec`` is counted back from: its field's value (an ISO date, or a date), or None if empty."""
    assert spec.before is not None
    value = fields.get(spec.before.field)
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def moments(calendar: BusinessCalendar, spec: DeadlineSpec, start: date, fractions: Iterable[float],
            fields: Mapping[str, Any]) -> tuple[date | None, tuple[datetime | None, ...]]:
    """The due day and the rungs' moments (warnings..., due) of a clock started on ``start``."""
    assert spec.before is not None
    target = counted_date(spec, fields)
    if target is None:
        return None, (*(None for _ in fractions), None)
    due = calendar.count_back(target, spec.before.amount, spec.before.unit)
    span = (due - start).days
    rungs: list[datetime | None] = []
    for fraction in fractions:
        days = math.floor(fraction * span)
        rungs.append(calendar.end_of_day(start + timedelta(days=days)) if 0 < days < span else None)
    return due, (*rungs, calendar.end_of_day(due))


def check_dates(calendar: BusinessCalendar, specs: Mapping[str, DeadlineSpec], ledgers: Iterable[DeadlineLedger],
                *, event: str, final: bool, before: Mapping[str, Any], after: Mapping[str, Any], today: date,
                applies: Callable[[DeadlineSpec], bool], named: Mapping[str, str]) -> None:
    """Refuse (ValidationError naming the field) an event that leaves a counted-back clock without a sound date.

    ``before`` / ``after``: the case's fields before and after the event; ``today``: the act's
    local day; ``applies``: whether a clock's ``when`` holds after the event; ``named``: what to
    call a field in the refusal (``payload.x`` when the event copies it from the payload).
    """
    open_clocks = {d.name for d in ledgers if d.open}
    for name, spec in specs.items():
        if spec.before is None:
            continue
        starts = event in spec.starts_on and name not in open_clocks and applies(spec)
        stays = name in open_clocks and event not in spec.stops_on and not (final and not spec.outlives_final)
        if not (starts or stays):
            continue
        field = spec.before.field
        where = named.get(field, f"fields.{field}")
        target = counted_date(spec, after)
        if target is None:
            raise ValidationError(where, f"deadline {name!r} is counted back from this date ({spec.legal_basis}): "
                                         f"{event!r} needs it")
        if not starts and target == counted_date(spec, before):
            continue
        if target < today:
            raise ValidationError(where, f"{target.isoformat()} is in the past (today {today.isoformat()})")
        lead = f"{spec.before.amount} {spec.before.unit} day(s)"
        try:
            due = calendar.count_back(target, spec.before.amount, spec.before.unit)
        except CalendarError as exc:
            raise ValidationError(where, str(exc)) from None
        if due < today:
            raise ValidationError(where, f"{target.isoformat()} leaves less than the lead of {lead} from today "
                                         f"{today.isoformat()}: deadline {name!r} would have been due by "
                                         f"{due.isoformat()} ({spec.legal_basis})")
