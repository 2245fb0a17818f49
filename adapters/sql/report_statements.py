"""The report's aggregate statements (``Transaction.report_figures``): group-bys, never a row per case.

What each kind's events mean comes from :data:`engine.reports.COUNTING` (baked into the compiled
text, so adapters/sql/compiled.py keys its cache on engine/reports.py too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, Integer, String, and_, bindparam, case, false, func, literal_column, or_, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.sql.elements import ClauseElement

from adapters.sql import tables as t
from engine.reports import (
    COUNTING,
    CROWDED_AT,
    DIALOGUE_EVENTS,
    EXTEND_EVENTS,
    HANDLING_EVENTS,
    HEAD_DAY_EVENT,
)

__all__ = ["report_statements"]


def _any(col: Any, values: Sequence[str]) -> Any:
    """``col = v1 OR col = v2 ...`` (literals, so the compiled text needs no expanding parameter)."""
    return or_(*(col == v for v in values)) if values else false()


def report_statements(dialect: str) -> dict[str, ClauseElement]:
    """The report's aggregates (``Transaction.report_figures``): group-bys, never a row per case.

    A moment's local day: PostgreSQL converts it in the zone ``:zone`` (its name); SQLite shifts
    the UTC text by ``:zone`` (the zone's offset at the period's start, e.g. ``+420 minutes``).
    The window is ``[:start, :end)``; a history entry's moment is ``occurred_at`` (back-dated) or
    ``at``. Rows group by their select list's positions (``GROUP BY 1, 2``): one ``:zone``.
    """
    zone = bindparam("zone", type_=String)
    pg = dialect == "postgresql"

    def day(col: Any) -> Any:  # PostgreSQL: the local timestamp as a date; SQLite's date() is one
        return (sa_cast(func.timezone(zone, col), Date) if pg else func.date(col, zone)).label("day")

    def within(col: Any) -> Any:
        return and_(col >= bindparam("start"), col < bindparam("end"))

    def by(n: int) -> list[Any]:
        return [literal_column(str(i)) for i in range(1, n + 1)]

    h, c, d = t.history, t.cases, t.deadlines
    moment = func.coalesce(h.c.occurred_at, h.c.at)
    ending = sorted({e for k in COUNTING.values() for e in k.ends_by})
    ends = or_(*(and_(c.c.kind == kind, _any(h.c.event, k.ends_by)) for kind, k in COUNTING.items()))
    # the flat event filter reads the index on (event, at); the per-kind one keeps each kind's own events
    first = (select(h.c.case_id, c.c.kind, func.min(moment).label("at")).join(c, c.c.id == h.c.case_id)
             .where(_any(h.c.event, ending), ends).group_by(h.c.case_id, c.c.kind).subquery("first_end"))
    limits = {kind: k.time_limit for kind, k in COUNTING.items() if k.time_limit}
    size = c.c.fields.op("->>")("delegation_size") if pg else func.json_extract(c.c.fields, "$.delegation_size")
    persons = func.coalesce(sa_cast(size, Integer), c.c.petitioner_count)
    acts = sorted({*HANDLING_EVENTS.values(), *DIALOGUE_EVENTS, *EXTEND_EVENTS, HEAD_DAY_EVENT})
    late = case((d.c.status == "missed", 1), else_=0)
    start: Any = bindparam("start")
    carried = case((and_(c.c.received_at < start, or_(first.c.at.is_(None), first.c.at >= start)), 1), else_=0)
    as_of: Any = bindparam("as_of")
    return {
        "report_received_all": select(c.c.kind, c.c.channel, day(c.c.received_at), func.count(),
                                      func.sum(persons), func.sum(case((persons >= CROWDED_AT, 1), else_=0)))
        .where(within(c.c.received_at)).group_by(*by(3)),
        "report_acts_all": select(c.c.kind, h.c.event, day(moment), func.count())
        # an act recorded at ``at`` happened at or before it: ``at >= :start`` only narrows the index range
        .join(c, c.c.id == h.c.case_id).where(_any(h.c.event, acts), h.c.at >= start, within(moment))
        .group_by(*by(3)),
        # one pass over each case's first resolution: resolved in the window (day, late) and carried over
        "report_ends_all": select(c.c.kind, day(first.c.at), late, carried,
                                  case((within(first.c.at), 1), else_=0), func.count()).select_from(c)
        .outerjoin(first, first.c.case_id == c.c.id)
        .outerjoin(d, and_(d.c.case_id == c.c.id, d.c.name == case(limits, value=c.c.kind)))
        .where(or_(carried == 1, within(first.c.at))).group_by(*by(5)),
        "report_overdue_all": select(c.c.kind, func.count()).select_from(d).join(c, c.c.id == d.c.case_id)
        .where(d.c.name == case(limits, value=c.c.kind), d.c.due_at < as_of, d.c.started_at < as_of,
               or_(d.c.closed_at.is_(None), d.c.closed_at >= as_of)).group_by(c.c.kind),
        "report_extensions_all": select(h.c.case_id, c.c.kind, h.c.event, day(moment), h.c.payload)
        .join(c, c.c.id == h.c.case_id)
        .where(_any(h.c.event, list(EXTEND_EVENTS)), h.c.at >= start, within(moment))
        .order_by(moment, h.c.case_id, h.c.seq),
        "report_hot_spots_all": select(t.hot_spots.c.type, day(t.hot_spots.c.detected_at), func.count())
        .where(within(t.hot_spots.c.detected_at)).group_by(*by(2)),
        "report_escalations_all": select(day(t.events.c.at), func.count())
        .where(t.events.c.type == "escalation.raised", within(t.events.c.at)).group_by(*by(1)),
    }
