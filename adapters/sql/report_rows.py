"""The report's rows decoded into :class:`engine.reports.ReportFigures` (no SQLAlchemy: a command on a
current database runs its compiled statements from the cache and never imports it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import adapters.sql.rows as rows
from adapters.sql.rows import Codec
from engine.reports import ReportFigures

__all__ = ["figures_of"]


def figures_of(c: Codec, all_of: Callable[..., list[Any]], as_of: datetime) -> ReportFigures:
    """The figures of adapters/sql/report_statements.py: ``all_of(name, **params)`` runs one, gives its rows."""
    ends = all_of("report_ends_all")
    carried: dict[str, int] = {}
    for kind, _, _, was_carried, _, n in ends:
        if was_carried:
            carried[kind] = carried.get(kind, 0) + int(n)
    return ReportFigures(
        received=[(k, ch, c.date_out(d), int(n), int(p or 0), int(cr or 0))
                  for k, ch, d, n, p, cr in all_of("report_received_all")],
        acts=[(k, e, c.date_out(d), int(n)) for k, e, d, n in all_of("report_acts_all")],
        resolved=[(k, c.date_out(d), bool(late), int(n)) for k, d, late, _, ended, n in ends if ended],
        carried_over=carried,
        overdue={k: int(n) for k, n in all_of("report_overdue_all", as_of=c.dt_in(as_of))},
        extensions=[(i, k, e, c.date_out(d), rows.reason(c.json_out(p)))
                    for i, k, e, d, p in all_of("report_extensions_all")],
        hot_spots=[(ty, c.date_out(d), int(n)) for ty, d, n in all_of("report_hot_spots_all")],
        escalations=[(c.date_out(d), int(n)) for d, n in all_of("report_escalations_all")])
