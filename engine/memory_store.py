"""The store port in memory: real transactions (a failed command leaves no trace) and the same
contract as the SQL store (the contract suite runs on both). Shipped for portals' tests through
:mod:`engine.testing`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.errors import ValidationError
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry, NewEvent

__all__ = ["MemoryStore"]


@dataclass
class _Data:
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    parties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deadlines: dict[tuple[str, str], DeadlineLedger] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    fired: set[tuple[str, str, int, int]] = field(default_factory=set)
    definitions: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)


class _MemoryTransaction:
    def __init__(self, data: _Data) -> None:
        self.d = data

    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        record = self.d.cases.get(case_id)
        return replace(record, fields=dict(record.fields)) if record else None

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        if case.id in self.d.cases:
            raise ValidationError("case_id", f"{case.id} exists already")
        self.d.cases[case.id] = replace(case)
        self.d.parties[case.id] = [dict(p) for p in parties]

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        stored = self.d.cases.get(case.id)
        if stored is None or stored.version != expected_version:
            return False
        self.d.cases[case.id] = replace(case, fields=dict(case.fields))
        return True

    def get_deadlines(self, case_id: str) -> list[DeadlineLedger]:
        return [replace(d) for (cid, _), d in self.d.deadlines.items() if cid == case_id]

    def save_deadlines(self, inserted: Sequence[DeadlineLedger], updated: Sequence[DeadlineLedger]) -> None:
        for state in [*inserted, *updated]:
            self.d.deadlines[(state.case_id, state.name)] = replace(state, pauses=list(state.pauses))

    def append_history(self, case_id: str, entry: HistoryEntry) -> None:
        self.d.history.setdefault(case_id, []).append(entry)

    def append_events(self, events: Sequence[NewEvent]) -> None:
        for e in events:
            seq = len(self.d.events) + 1
            self.d.events.append(Event(seq=seq, type=e.type, case_id=e.case_id, at=e.at, data=dict(e.data)))

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        due = sorted((d for d in self.d.deadlines.values() if d.next_fire_at is not None and d.next_fire_at <= now),
                     key=lambda d: (d.next_fire_at, d.case_id, d.name))
        return [(replace(self.d.cases[d.case_id]), replace(d)) for d in due[:limit]]

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        key = (case_id, deadline, cycle, rung)
        if key in self.d.fired:
            return False
        self.d.fired.add(key)
        return True

    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        self.d.definitions.setdefault(content_hash, body)

    def get_definition(self, content_hash: str) -> str | None:
        return self.d.definitions.get(content_hash)

    def history(self, case_id: str) -> list[HistoryEntry]:
        return list(self.d.history.get(case_id, []))

    def events(self, after: int, limit: int) -> list[Event]:
        return self.d.events[after:after + limit]

    def iter_cases(self) -> Iterator[CaseRecord]:
        return iter([replace(c) for c in self.d.cases.values()])

    def open_deadlines(self, after: tuple[str, str] | None, limit: int) -> list[DeadlineLedger]:
        keys = sorted(k for k, d in self.d.deadlines.items() if d.closed_at is None and (after is None or k > after))
        return [replace(self.d.deadlines[k]) for k in keys[:limit]]

    def outbox_cursor(self, channel: str) -> int:
        return self.d.cursors.get(channel, 0)

    def set_outbox_cursor(self, channel: str, seq: int) -> None:
        self.d.cursors[channel] = seq

    def get_meta(self, key: str) -> str | None:
        return self.d.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.d.meta[key] = value


class MemoryStore:
    """The store port in memory. One writer at a time; a failed transaction is undone."""

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        """A write transaction (snapshot and restore on error)."""
        with self._lock:
            snapshot = copy.deepcopy(self._data)
            try:
                yield _MemoryTransaction(self._data)
            except BaseException:
                self._data.__dict__.update(snapshot.__dict__)
                raise

    @contextmanager
    def reader(self) -> Iterator[_MemoryTransaction]:
        """A read transaction."""
        with self._lock:
            yield _MemoryTransaction(self._data)

    def parties(self, case_id: str) -> list[dict[str, Any]]:
        """The stored petitioners of a case (tests check they are kept apart)."""
        return list(self._data.parties.get(case_id, []))
