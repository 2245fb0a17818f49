"""The store port in memory: real transactions (a failed command leaves no trace) and the same
contract as the SQL store (the contract suite runs on both). Shipped for portals' tests through
:mod:`engine.testing`.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import Any

from engine.errors import ValidationError
from engine.grouping import Candidate, GroupMember, HotSpotRecord
from engine.model import (
    CaseRecord,
    DeadlineLedger,
    Event,
    HistoryEntry,
    JobState,
    NewEvent,
    OutboxMessage,
    Priority,
)
from engine.people import Person
from engine.report_memory import figures
from engine.reports import ReportFigures
from engine.roster import Duty

__all__ = ["MemoryStore"]


@dataclass
class _Data:
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    parties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deadlines: dict[tuple[str, str], DeadlineLedger] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    fired: set[tuple[str, str, int, int]] = field(default_factory=set)
    jobs: dict[tuple[str, str, str], JobState] = field(default_factory=dict)
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    groups: dict[str, datetime] = field(default_factory=dict)
    case_groups: dict[str, str] = field(default_factory=dict)
    bands: dict[str, set[str]] = field(default_factory=dict)  # band key -> case ids: the index
    hot_spots: dict[str, HotSpotRecord] = field(default_factory=dict)
    resolved: dict[str, datetime] = field(default_factory=dict)  # grouped case id -> its first resolution
    overdues: dict[str, int] = field(default_factory=dict)  # grouped case id -> its deadline.overdue count
    grouped_at: dict[str, datetime] = field(default_factory=dict)  # grouped case id -> received_at when grouped
    transferred: dict[str, list[str]] = field(default_factory=dict)  # grouped case id -> bodies it went to
    signatures: dict[str, bytes] = field(default_factory=dict)  # grouped case id -> its stored signature
    people: dict[str, Person] = field(default_factory=dict)  # imported officers by id
    duties: dict[tuple[date, str], Duty] = field(default_factory=dict)  # (day, person id) -> duty


class _MemoryTransaction:
    def __init__(self, data: _Data) -> None:
        self.d = data

    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        record = self.d.cases.get(case_id)
        return _copy_case(record) if record else None

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        if case.id in self.d.cases:
            raise ValidationError("case_id", f"{case.id} exists already")
        self.d.cases[case.id] = _copy_case(case)
        self.d.parties[case.id] = [dict(p) for p in parties]

    def parties(self, case_id: str) -> list[dict[str, Any]]:
        # in memory, not at rest: kept in clear, read through the same reveal path as the SQL stores'
        return [dict(p) for p in self.d.parties.get(case_id, [])]

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        stored = self.d.cases.get(case.id)
        if stored is None or stored.version != expected_version:
            return False
        # the flags are set_case_flags' alone: a later write of the case keeps a reactor's
        self.d.cases[case.id] = replace(_copy_case(case), flags=stored.flags)
        return True

    def set_case_flags(self, case_id: str, flags: Sequence[Mapping[str, Any]]) -> None:
        if case_id in self.d.cases:
            self.d.cases[case_id] = replace(self.d.cases[case_id], flags=[copy.deepcopy(dict(f)) for f in flags])

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

    def set_priority(self, case_id: str, priority: Priority) -> None:
        if case_id in self.d.cases:
            self.d.cases[case_id] = replace(self.d.cases[case_id], priority=priority)

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        due = sorted((d for d in self.d.deadlines.values() if d.next_fire_at is not None and d.next_fire_at <= now),
                     key=lambda d: (d.next_fire_at, d.case_id, d.name))
        return [(_copy_case(self.d.cases[d.case_id]), replace(d)) for d in due[:limit]]

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        key = (case_id, deadline, cycle, rung)
        if key in self.d.fired:
            return False
        self.d.fired.add(key)
        return True

    def job_state(self, kind: str, subject: str, slot: str) -> JobState | None:
        found = self.d.jobs.get((kind, subject, slot))
        return replace(found) if found else None

    def claim_job(self, kind: str, subject: str, slot: str, at: datetime) -> bool:
        job = self.d.jobs.setdefault((kind, subject, slot), JobState())
        if job.done_at is not None:
            return False
        job.done_at = at
        return True

    def fail_job(self, kind: str, subject: str, slot: str, *, attempts: int, error: str,
                 next_try_at: datetime | None) -> None:
        self.d.jobs[(kind, subject, slot)] = JobState(None, attempts, error, next_try_at)

    def failed_jobs(self, limit: int) -> list[tuple[str, str, str, JobState]]:
        return [(*key, replace(job)) for key, job in sorted(self.d.jobs.items())
                if job.attempts and job.done_at is None][:limit]

    def failing_deadlines(self, limit: int) -> list[DeadlineLedger]:
        return [replace(d) for d in self.d.deadlines.values() if d.attempts][:limit]

    def enqueue(self, channel: str, kind: str, case_id: str | None, data: dict[str, Any], at: datetime, *,
                attempts: int = 0, last_error: str | None = None, next_attempt_at: datetime | None = None,
                key: str | None = None) -> None:
        ident = len(self.d.outbox) + 1
        self.d.outbox[ident] = OutboxMessage(id=ident, channel=channel, kind=kind, case_id=case_id, data=dict(data),
                                             status="pending", attempts=attempts, last_error=last_error,
                                             next_attempt_at=next_attempt_at or at, created_at=at,
                                             idempotency_key=key)

    def outbox(self, *, channel: str | None = None, status: str | None = None, due_at: datetime | None = None,
               message_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
        found = [m for m in self.d.outbox.values()
                 if (channel is None or m.channel == channel) and (status is None or m.status == status)
                 and (message_id is None or m.id == message_id)
                 and (due_at is None or (m.next_attempt_at is not None and m.next_attempt_at <= due_at))]
        return found[:limit]

    def update_message(self, message_id: int, *, status: str, attempts: int, last_error: str | None,
                       next_attempt_at: datetime | None, sent_at: datetime | None) -> None:
        message = self.d.outbox[message_id]
        self.d.outbox[message_id] = replace(message, status=status, attempts=attempts,  # type: ignore[arg-type]
                                            last_error=last_error, next_attempt_at=next_attempt_at, sent_at=sent_at)

    def acquire_channel(self, channel: str, holder: str, now: datetime, until: datetime) -> bool:
        held = self.d.leases.get(channel)
        if held is not None and held[0] != holder and held[1] >= now:
            return False
        self.d.leases[channel] = (holder, until)
        return True

    def release_channel(self, channel: str, holder: str) -> None:
        if self.d.leases.get(channel, ("",))[0] == holder:
            del self.d.leases[channel]

    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        self.d.definitions.setdefault(content_hash, body)

    def get_definition(self, content_hash: str) -> str | None:
        return self.d.definitions.get(content_hash)

    def history(self, case_id: str) -> list[HistoryEntry]:
        return list(self.d.history.get(case_id, []))

    def events(self, after: int, limit: int) -> list[Event]:
        return self.d.events[after:after + limit]

    def iter_cases(self) -> Iterator[CaseRecord]:
        return iter([_copy_case(c) for c in self.d.cases.values()])

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

    def create_group(self, group_id: str, at: datetime) -> None:
        if group_id in self.d.groups:
            raise ValidationError("group_id", f"{group_id} exists already")
        self.d.groups[group_id] = at

    def group_candidates(self, bands: Sequence[str], limit: int) -> list[Candidate]:
        counts: dict[str, int] = {}
        for band in bands:
            for case_id in self.d.bands.get(band, ()):
                counts[case_id] = counts.get(case_id, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        found = [(case_id, n, self.d.cases.get(case_id)) for case_id, n in ranked]
        return [Candidate(case_id, self.d.case_groups[case_id], n, self.d.signatures.get(case_id),
                          c.respondent if c else None, c.subject if c else "", c.content if c else "")
                for case_id, n, c in found]

    def save_grouping(self, case_id: str, group_id: str, respondent_key: str, received_at: datetime,
                      bands: Sequence[str], signature: bytes | None = None,
                      new_group_at: datetime | None = None) -> None:
        if case_id in self.d.case_groups:
            raise ValidationError("case_id", f"{case_id} is grouped already")
        if new_group_at is not None:
            self.create_group(group_id, new_group_at)
        self.d.case_groups[case_id] = group_id
        self.d.grouped_at[case_id] = received_at
        if signature is not None:
            self.d.signatures[case_id] = signature
        for band in bands:
            self.d.bands.setdefault(band, set()).add(case_id)

    def save_signature(self, case_id: str, signature: bytes) -> None:
        if case_id in self.d.case_groups:
            self.d.signatures[case_id] = signature

    def case_group(self, case_id: str) -> str | None:
        return self.d.case_groups.get(case_id)

    def lock_group(self, group_id: str) -> None:
        return  # one writer at a time

    def group_members(self, group_id: str) -> list[GroupMember]:
        found = [self.d.cases[cid] for cid, gid in self.d.case_groups.items() if gid == group_id]
        return [GroupMember(c.id, c.received_at, c.petitioner_count, c.state, c.kind, c.channel,
                            self.d.resolved.get(c.id), self.d.overdues.get(c.id, 0),
                            forwarded_from=dict(c.forwarded_from) if c.forwarded_from is not None else None,
                            transferred_to=tuple(self.d.transferred.get(c.id, ())),
                            flags=tuple(copy.deepcopy(c.flags)), fields=dict(c.fields))
                for c in sorted(found, key=lambda c: (c.received_at, c.id))]

    def group_state(self, group_id: str) -> tuple[list[GroupMember], list[HotSpotRecord]]:
        return self.group_members(group_id), self.group_hot_spots(group_id)  # one writer: nothing to lock

    def groups_received_between(self, start: datetime, end: datetime) -> list[str]:
        return sorted({gid for cid, gid in self.d.case_groups.items()
                       if start <= self.d.grouped_at[cid] < end and cid not in self.d.resolved})

    def mark_transferred(self, case_id: str, body: str) -> None:
        if case_id in self.d.case_groups:
            self.d.transferred.setdefault(case_id, []).append(body)

    def mark_resolved(self, case_id: str, at: datetime) -> None:
        if case_id in self.d.case_groups:
            self.d.resolved.setdefault(case_id, at)

    def count_overdue(self, case_id: str) -> None:
        if case_id in self.d.case_groups:
            self.d.overdues[case_id] = self.d.overdues.get(case_id, 0) + 1

    def move_to_group(self, case_ids: Sequence[str], group_id: str) -> None:
        for case_id in case_ids:
            if case_id in self.d.case_groups:
                self.d.case_groups[case_id] = group_id

    def group_hot_spots(self, group_id: str) -> list[HotSpotRecord]:
        return sorted((_copy_spot(h) for h in self.d.hot_spots.values() if h.group_id == group_id),
                      key=lambda h: h.type)

    def save_hot_spot(self, spot: HotSpotRecord, *, new: bool) -> None:
        if new and spot.id in self.d.hot_spots:
            raise ValidationError("hot_spot", f"{spot.id} exists already")
        self.d.hot_spots[spot.id] = _copy_spot(spot)

    def hot_spots(self, *, open_only: bool = True) -> list[HotSpotRecord]:
        return sorted((_copy_spot(h) for h in self.d.hot_spots.values() if h.is_open or not open_only),
                      key=lambda h: (h.detected_at, h.id))

    def people(self) -> list[Person]:
        return [self.d.people[k] for k in sorted(self.d.people)]

    def upsert_people(self, people: Sequence[Person], at: datetime) -> None:
        self.d.people.update({p.id: p for p in people})

    def duties(self, start: date, end: date) -> list[Duty]:
        return [d for key, d in sorted(self.d.duties.items()) if start <= key[0] <= end]

    def replace_duties(self, start: date, end: date, duties: Sequence[Duty]) -> None:
        outside = next((d.day for d in duties if not start <= d.day <= end), None)
        if outside is not None:
            raise ValidationError("duties", f"a duty on {outside.isoformat()} lies outside {start.isoformat()}.."
                                  f"{end.isoformat()}")
        keys = [(d.day, d.person_id) for d in duties]
        if len(set(keys)) != len(keys):
            raise ValidationError("duties", "an officer is on duty twice on one day")
        for key in [k for k in self.d.duties if start <= k[0] <= end]:
            del self.d.duties[key]
        self.d.duties.update(zip(keys, duties, strict=True))

    def report_figures(self, start: datetime, end: datetime, as_of: datetime, zone: tzinfo) -> ReportFigures:
        d = self.d
        return figures(d.cases.values(), d.history, d.deadlines.values(), d.hot_spots.values(), d.events,
                       start=start, end=end, as_of=as_of, zone=zone)


def _copy_case(case: CaseRecord) -> CaseRecord:
    """A copy the caller may mutate (fields, forwarding and flags included)."""
    return replace(case, fields=dict(case.fields), flags=copy.deepcopy(case.flags),
                   forwarded_from=dict(case.forwarded_from) if case.forwarded_from is not None else None)


def _copy_spot(spot: HotSpotRecord) -> HotSpotRecord:
    return replace(spot, case_ids=list(spot.case_ids), reasons=copy.deepcopy(spot.reasons))


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
