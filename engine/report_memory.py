"""The report's aggregates over plain records: what :class:`engine.memory_store.MemoryStore` answers.

The same figures as the SQL store's group-by statements (``adapters/sql/statements.py``,
``_reports``), computed by walking the records: the memory store is for tests and small demos,
where a walk is cheap. Both read :data:`engine.reports.COUNTING` for what each kind's events mean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo

from engine.grouping import HotSpotRecord
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry
from engine.reports import (
    COUNTING,
    CROWDED_AT,
    DIALOGUE_EVENTS,
    EXTEND_EVENTS,
    HANDLING_EVENTS,
    HEAD_DAY_EVENT,
    ReportFigures,
)

__all__ = ["ESCALATION", "figures"]

#: The feed event counted as an escalation.
ESCALATION = "escalation.raised"
_ACTS = frozenset({*HANDLING_EVENTS.values(), *DIALOGUE_EVENTS, *EXTEND_EVENTS, HEAD_DAY_EVENT})


def _moment(entry: HistoryEntry) -> datetime:
    return entry.occurred_at if entry.occurred_at is not None else entry.at


def _persons(case: CaseRecord) -> int:
    size = case.fields.get("delegation_size")
    return size if isinstance(size, int) and not isinstance(size, bool) else case.petitioner_count


def figures(cases: Iterable[CaseRecord], history: Mapping[str, Sequence[HistoryEntry]],
            deadlines: Iterable[DeadlineLedger], hot_spots: Iterable[HotSpotRecord], events: Iterable[Event], *,
            start: datetime, end: datetime, as_of: datetime, zone: tzinfo) -> ReportFigures:
    """The figures of ``[start, end)`` (local days in ``zone``), as ``Transaction.report_figures`` gives them."""
    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    def within(moment: datetime) -> bool:
        return start <= moment < end

    kinds = {c.id: c.kind for c in cases}
    received: Counter[tuple[str, str, date]] = Counter()
    persons: Counter[tuple[str, str, date]] = Counter()
    crowded: Counter[tuple[str, str, date]] = Counter()
    carried: Counter[str] = Counter()
    acts: Counter[tuple[str, str, date]] = Counter()
    extensions: list[tuple[datetime, str, int, str, str, date, str]] = []
    first_end: dict[str, datetime] = {}
    for case in cases:
        entries = history.get(case.id, ())
        counting = COUNTING.get(case.kind)
        ends = [_moment(h) for h in entries if counting is not None and h.event in counting.ends_by]
        if ends:
            first_end[case.id] = min(ends)
        if within(case.received_at):
            key = (case.kind, case.channel, day(case.received_at))
            received[key] += 1
            persons[key] += _persons(case)
            crowded[key] += _persons(case) >= CROWDED_AT
        elif case.received_at < start and (case.id not in first_end or first_end[case.id] >= start):
            carried[case.kind] += 1
        for h in entries:
            if h.event in _ACTS and within(_moment(h)):
                acts[(case.kind, h.event, day(_moment(h)))] += 1
                if h.event in EXTEND_EVENTS:
                    reason = h.payload.get("reason")
                    extensions.append((_moment(h), case.id, h.seq, case.kind, h.event, day(_moment(h)),
                                       reason if isinstance(reason, str) else ""))
    ledgers = {(d.case_id, d.name): d for d in deadlines}
    resolved: Counter[tuple[str, date, bool]] = Counter()
    for case_id, moment in first_end.items():
        if within(moment):
            limit = COUNTING[kinds[case_id]].time_limit
            ledger = ledgers.get((case_id, limit)) if limit else None
            resolved[(kinds[case_id], day(moment), ledger is not None and ledger.status == "missed")] += 1
    overdue: Counter[str] = Counter()
    for ledger in ledgers.values():
        counting = COUNTING.get(kinds.get(ledger.case_id, ""))
        if (counting is not None and ledger.name == counting.time_limit and ledger.due_at is not None
                and ledger.due_at < as_of and ledger.started_at < as_of
                and (ledger.closed_at is None or ledger.closed_at >= as_of)):
            overdue[kinds[ledger.case_id]] += 1
    spots = Counter((s.type, day(s.detected_at)) for s in hot_spots if within(s.detected_at))
    raised = Counter(day(e.at) for e in events if e.type == ESCALATION and within(e.at))
    return ReportFigures(
        received=[(*key, n, persons[key], crowded[key]) for key, n in sorted(received.items())],
        acts=[(*key, n) for key, n in sorted(acts.items())],
        resolved=[(*key, n) for key, n in sorted(resolved.items())],
        carried_over=dict(carried), overdue=dict(overdue),
        extensions=[(case_id, kind, event, on, reason)
                    for _, case_id, _, kind, event, on, reason in sorted(extensions)],
        hot_spots=[(*key, n) for key, n in sorted(spots.items())],
        escalations=sorted(raised.items()))
