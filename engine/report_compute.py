"""The report use case (DESIGN §6c): the store's aggregates turned into the tables of a :class:`Report`.

:func:`compute_report` reads :meth:`engine.ports.Transaction.report_figures` in one reader
transaction (a bounded number of group-by queries, never a walk over the cases) and
:func:`build_report` lays the figures out as the tables of :data:`engine.reports.TABLE_TITLES`.

Conventions (``Report.notes`` repeats them):

- **Cut-off**: the local days ``start`` .. ``end``, both included (00:00 of ``start`` to 00:00 of
  the day after ``end``, in the calendar's zone). A quarter, 6, 9 or 12 months, or the NĐ 09/2019
  convention (the 15th of the month before to the 14th of the last month) are just the dates given.
- **Received**: cases whose receipt moment lies in the window, by kind and channel.
- **Resolved**: a case's first event of its kind's ``ends_by`` (:data:`engine.reports.COUNTING`)
  in the window; late when the kind's time-limit ledger is ``missed``.
- **Carried over**: received before ``start`` and not resolved before it, from the history (a
  case resolved since still counts), so carried_over(Q2) = carried_over(Q1) + received(Q1) -
  resolved(Q1) for every kind.
- **Overdue now**: time-limit ledgers past due and not closed at the window's end (or now, if
  earlier).
- **Phase**: ``<period>:<phase>`` of the first phase in force (by period id) on the local day of
  the act, "" outside any sensitive period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from engine.errors import ValidationError
from engine.periods import HOT_SPOT_TYPES, Period, phases_at
from engine.reports import (
    COUNTING,
    DIALOGUE_EVENTS,
    EXTEND_EVENTS,
    HANDLING_EVENTS,
    HEAD_DAY_EVENT,
    KIND_LABELS,
    Report,
    ReportFigures,
)

if TYPE_CHECKING:
    from engine.runtime import Runtime

__all__ = ["CUT_OFF", "build_report", "compute_report", "phase_of", "require_period"]

#: How the window is cut (Report.notes["cut_off"]).
CUT_OFF = "calendar days start..end, both included, local time"


def require_period(start: object, end: object) -> tuple[date, date]:
    """``start`` and ``end`` as dates, ``start <= end``; else ValidationError naming the field."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError(name, f"must be a date (YYYY-MM-DD), got {type(value).__name__}")
    assert isinstance(start, date) and isinstance(end, date)
    if start > end:
        raise ValidationError("start", f"{start.isoformat()} is after end {end.isoformat()}")
    return start, end


def phase_of(periods: Sequence[Period], day: date) -> str:
    """``<period>:<phase>`` of the first phase in force on ``day`` (by period id); "" outside any."""
    active = phases_at(periods, day)
    return f"{active[0].period}:{active[0].phase}" if active else ""


def compute_report(rt: Runtime, start: date, end: date) -> Report:
    """The report of the local days ``start`` .. ``end`` (both included), from one reader transaction."""
    start, end = require_period(start, end)
    calendar, now = rt.calendar, rt.now()
    begin = datetime.combine(start, time(0), tzinfo=calendar.timezone)
    stop = datetime.combine(end + timedelta(days=1), time(0), tzinfo=calendar.timezone)
    as_of = min(stop, now)
    with rt.store.reader() as tx:
        found = tx.report_figures(begin, stop, as_of, calendar.timezone)
    return build_report(found, start, end, kinds=sorted(rt.workflows), periods=rt.periods,
                        generated_at=now.astimezone(calendar.timezone))


def build_report(found: ReportFigures, start: date, end: date, *, kinds: Iterable[str],
                 periods: Sequence[Period], generated_at: datetime | None = None) -> Report:
    """Lay the figures out as the report's tables (pure; see the module doc for what each counts)."""
    kinds = sorted(set(kinds) | {r[0] for r in found.received} | {r[0] for r in found.acts})
    phase_cache: dict[date, str] = {}

    def phase(day: date) -> str:
        if day not in phase_cache:
            phase_cache[day] = phase_of(periods, day)
        return phase_cache[day]

    received = Counter[str]()
    by_channel = Counter[tuple[str, str, str]]()
    for kind, channel, day, n, _, _ in found.received:
        received[kind] += n
        by_channel[(kind, channel, phase(day))] += n
    on_time, late = Counter[str](), Counter[str]()
    for kind, _, is_late, n in found.resolved:
        (late if is_late else on_time)[kind] += n
    acts = Counter[tuple[str, str]]()
    head_days: set[date] = set()
    for kind, event, day, n in found.acts:
        acts[(kind, event)] += n
        if kind == "reception_schedule" and event == HEAD_DAY_EVENT:
            head_days.add(day)

    def count(kind: str, events: Iterable[str]) -> int:
        return sum(acts[(kind, e)] for e in events)

    summary = [{"kind": k, "kind_label": KIND_LABELS.get(k, k), "carried_over": found.carried_over.get(k, 0),
                "received": received[k], "resolved": on_time[k] + late[k], "resolved_on_time": on_time[k],
                "resolved_late": late[k], "overdue_now": found.overdue.get(k, 0),
                "extended": count(k, EXTEND_EVENTS), "dialogues": count(k, DIALOGUE_EVENTS)} for k in kinds]
    handling = [{"kind": k, **{column: acts[(k, event)] for column, event in HANDLING_EVENTS.items()}}
                for k in kinds]
    extensions = [{"case_id": case_id, "kind": kind,
                   "deadline": EXTEND_EVENTS.get(event) or _limit(kind), "reason": reason, "on": on.isoformat()}
                  for case_id, kind, event, on, reason in found.extensions]
    visits = [r for r in found.received if r[0] == "reception"]
    reception = [{"visits": sum(r[3] for r in visits), "persons": sum(r[4] for r in visits),
                  "crowded_delegations": sum(r[5] for r in visits), "head_days_held": len(head_days)}]
    spots = Counter[str]()
    for kind, _, n in found.hot_spots:
        spots[kind] += n
    hot_spots = [{"type": k, "count": spots[k]} for k in sorted(set(HOT_SPOT_TYPES) | set(spots))]
    tables: dict[str, list[dict[str, Any]]] = {
        "summary_by_kind": summary,
        "received_by_channel": [{"kind": k, "channel": ch, "phase": ph, "count": n}
                                for (k, ch, ph), n in sorted(by_channel.items())],
        "handling": handling, "extensions": extensions, "reception": reception, "hot_spots_by_type": hot_spots,
        "by_phase": _by_phase(found, start, end, phase), "weekly": _weekly(found, start, end),
    }
    notes = {"cut_off": CUT_OFF, "phases": sorted({phase(d) for d in _days(start, end)} - {""})}
    return Report(start=start, end=end, tables=tables, generated_at=generated_at, notes=notes)


def _limit(kind: str) -> str:
    counting = COUNTING.get(kind)
    return (counting.time_limit if counting else None) or ""


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _by_phase(found: ReportFigures, start: date, end: date, phase: Any) -> list[dict[str, Any]]:
    """One row per phase met in the window (in order of its first day; "" outside any period)."""
    order = list(dict.fromkeys(phase(d) for d in _days(start, end)))
    rows = {p: {"phase": p, "received": 0, "resolved": 0, "hot_spots": 0, "escalations": 0} for p in order}
    def row(day: date) -> dict[str, Any]:
        key = phase(day)
        return rows.setdefault(key, {"phase": key, "received": 0, "resolved": 0, "hot_spots": 0, "escalations": 0})

    for _, _, day, n, _, _ in found.received:
        row(day)["received"] += n
    for _, day, _, n in found.resolved:
        row(day)["resolved"] += n
    for _, day, n in found.hot_spots:
        row(day)["hot_spots"] += n
    for day, n in found.escalations:
        row(day)["escalations"] += n
    return list(rows.values())


def _weekly(found: ReportFigures, start: date, end: date) -> list[dict[str, Any]]:
    """One row per week (its Monday, ISO) touching the window, with the received and resolved in it."""
    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    rows: dict[date, dict[str, Any]] = {}
    week = monday(start)
    while week <= end:
        rows[week] = {"week": week.isoformat(), "received": 0, "resolved": 0}
        week += timedelta(days=7)
    def row(day: date) -> dict[str, Any]:
        key = monday(day)
        return rows.setdefault(key, {"week": key.isoformat(), "received": 0, "resolved": 0})

    for _, _, day, n, _, _ in found.received:
        row(day)["received"] += n
    for _, day, _, n in found.resolved:
        row(day)["resolved"] += n
    return [rows[k] for k in sorted(rows)]
