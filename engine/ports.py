"""The ports the engine needs: a clock and a store. Adapters implement them.

A :class:`Store` hands out transactions. Every command of the engine is one write transaction:
load, compute, write case + history + deadlines + feed, commit; an exception inside the ``with``
rolls everything back, so a failed call changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from engine.grouping import Candidate, GroupMember, HotSpotRecord
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry, JobState, NewEvent, OutboxMessage, Priority

if TYPE_CHECKING:  # engine.roster imports engine.jobs, which imports this module
    from engine.people import Person
    from engine.reports import ReportFigures
    from engine.roster import Duty

__all__ = ["Clock", "Store", "Transaction"]


class Clock(Protocol):
    """Where "now" comes from: the system clock in production, ManualClock in tests."""

    def now(self) -> datetime:
        """An aware datetime."""
        ...


class Transaction(Protocol):
    """One unit of work against the store."""

    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        """The case, locked against other writers when ``for_update`` (PostgreSQL); None if unknown.

        The record is a fresh copy: the caller may mutate it (and then write it with
        :meth:`update_case`). Every record and ledger the store returns is one. On PostgreSQL,
        ``for_update=True`` also reads that case's deadlines in the same round trip; the next
        :meth:`get_deadlines` of the same case returns them without asking the server again.
        """
        ...

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        """Insert a new case and its parties (petitioners), stored apart from the case row."""
        ...

    def parties(self, case_id: str) -> list[dict[str, Any]]:
        """The case's parties in clear, in the order given (:mod:`engine.identity` alone reads them).

        A SQL store keeps them sealed at rest and opens them here; empty for an unknown case.
        """
        ...

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        """Write ``case`` if the stored version is ``expected_version``; False if it is not.

        ``fields_changed=False`` promises that only state, previous state, version, update time
        and history head differ from the stored row (the store may write just those).

        On PostgreSQL, after ``get_case(for_update=True)`` the write is pipelined: this returns
        True at once and a version conflict surfaces as :class:`~engine.errors.ConflictError` when
        the transaction commits. (Under that row lock the version cannot change, so the conflict
        is a safeguard.) Callers must handle both outcomes.
        """
        ...

    def get_deadlines(self, case_id: str) -> list[DeadlineLedger]:
        """Every deadline ledger of the case."""
        ...

    def save_deadlines(self, inserted: Sequence[DeadlineLedger], updated: Sequence[DeadlineLedger]) -> None:
        """Insert new ledgers and update changed ones."""
        ...

    def append_history(self, case_id: str, entry: HistoryEntry) -> None:
        """Append one history row (never updated, never deleted)."""
        ...

    def append_events(self, events: Sequence[NewEvent]) -> None:
        """Append feed events; their ``seq`` grows in commit order."""
        ...

    def set_priority(self, case_id: str, priority: Priority) -> None:
        """Set a case's priority (not versioned: it is the engine's mark, not the officers' act)."""
        ...

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        """Up to ``limit`` deadlines with ``next_fire_at <= now``, with their cases.

        Ordered by ``(next_fire_at, case_id, name)``. Rows are locked for this transaction; rows
        another transaction holds are skipped (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite has
        one writer at a time).
        """
        ...

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        """Claim a rung by its key (``rung``: per-mille, due = 1000); False if it had fired already.

        The claim is the insert of a unique key: a second firing is impossible by construction.
        """
        ...

    def job_state(self, kind: str, subject: str, slot: str) -> JobState | None:
        """The stored state of a scheduled job's slot (None: never tried)."""
        ...

    def claim_job(self, kind: str, subject: str, slot: str, at: datetime) -> bool:
        """Claim a job's slot (insert, or take over a failed try); False if it was done already."""
        ...

    def fail_job(self, kind: str, subject: str, slot: str, *, attempts: int, error: str,
                 next_try_at: datetime | None) -> None:
        """Record that a slot's run raised (``next_try_at`` None: dead)."""
        ...

    def failed_jobs(self, limit: int) -> list[tuple[str, str, str, JobState]]:
        """Job slots whose last run raised (failing and dead), as ``(kind, subject, slot, state)``."""
        ...

    def failing_deadlines(self, limit: int) -> list[DeadlineLedger]:
        """Deadlines whose next rung raised at least once (``attempts > 0``), oldest error first."""
        ...

    def enqueue(self, channel: str, kind: str, case_id: str | None, data: dict[str, Any], at: datetime, *,
                attempts: int = 0, last_error: str | None = None, next_attempt_at: datetime | None = None,
                key: str | None = None) -> None:
        """Queue an outbox message for ``channel``, due at ``next_attempt_at`` (default: ``at``).

        ``key``: its idempotency key when it must be the one a first try used (else from its id).
        """
        ...

    def outbox(self, *, channel: str | None = None, status: str | None = None, due_at: datetime | None = None,
               message_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
        """Outbox messages by id (oldest first); ``due_at``: only those whose next attempt is due by then."""
        ...

    def update_message(self, message_id: int, *, status: str, attempts: int, last_error: str | None,
                       next_attempt_at: datetime | None, sent_at: datetime | None) -> None:
        """Record a delivery attempt's result."""
        ...

    def acquire_channel(self, channel: str, holder: str, now: datetime, until: datetime) -> bool:
        """Lease ``channel`` to ``holder`` until ``until`` if it is free, expired or already theirs."""
        ...

    def release_channel(self, channel: str, holder: str) -> None:
        """Give the lease back (if ``holder`` still has it)."""
        ...

    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        """Store a definition by content hash (idempotent)."""
        ...

    def get_definition(self, content_hash: str) -> str | None:
        """A stored definition's canonical JSON."""
        ...

    def history(self, case_id: str) -> list[HistoryEntry]:
        """The case's history in order."""
        ...

    def events(self, after: int, limit: int) -> list[Event]:
        """Feed events with ``seq > after``, in order."""
        ...

    def iter_cases(self) -> Iterator[CaseRecord]:
        """Every case (for audits and re-projection; not on a hot path)."""
        ...

    def open_deadlines(self, after: tuple[str, str] | None, limit: int) -> list[DeadlineLedger]:
        """Open deadlines in (case id, name) order after the key ``after``, at most ``limit``.

        For re-projection, page by page, so a million open cases never sit in memory at once.
        """
        ...

    def outbox_cursor(self, channel: str) -> int:
        """The last feed seq a channel has delivered (0 for a new channel)."""
        ...

    def set_outbox_cursor(self, channel: str, seq: int) -> None:
        """Record that a channel delivered every event up to ``seq``."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A small key/value setting kept by the engine (e.g. the calendar fingerprint)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set a key/value setting."""
        ...

    # content groups and hot spots (DESIGN.md §6; :mod:`engine.groups`) ----------------------
    def create_group(self, group_id: str, at: datetime) -> None:
        """Create an empty content group (ids are never reused)."""
        ...

    def group_candidates(self, bands: Sequence[str], limit: int) -> list[Candidate]:
        """Grouped cases sharing at least one of ``bands`` (exactly :data:`engine.grouping.BANDS` keys).

        Found through the band keys' index, never by a scan; at most ``limit``, most shared bands
        first, then by case id. Each comes with its stored signature, respondent, subject and
        content, read in the same statement (confirming it needs no further read).
        """
        ...

    def save_grouping(self, case_id: str, group_id: str, respondent_key: str, received_at: datetime,
                      bands: Sequence[str], signature: bytes | None = None,
                      new_group_at: datetime | None = None) -> None:
        """Place a case, not grouped yet, in ``group_id`` and store its band keys and its signature.

        ``signature``: :func:`engine.grouping.encode_signature` of the case's text (None: none kept);
        ``new_group_at``: create the group first, at that moment (as :meth:`create_group`, in the
        same round trip on PostgreSQL).
        """
        ...

    def save_signature(self, case_id: str, signature: bytes) -> None:
        """Store the signature of a grouped case grouped before signatures were kept (ungrouped: nothing)."""
        ...

    def case_group(self, case_id: str) -> str | None:
        """The group of a case (None: not grouped)."""
        ...

    def lock_group(self, group_id: str) -> None:
        """Hold the group against other writers until the transaction ends (PostgreSQL ``FOR UPDATE``).

        Two letters joining one group at once then refresh its hot spots one after the other (a
        hot spot is detected once). Today PostgreSQL writers already queue on the feed counter row
        before any reactor runs; this keeps the guarantee should that lock ever go. SQLite and
        memory have one writer at a time: nothing to do.
        """
        ...

    def group_members(self, group_id: str) -> list[GroupMember]:
        """The cases of a group, by receipt moment then id (empty for an unknown group)."""
        ...

    def group_state(self, group_id: str) -> tuple[list[GroupMember], list[HotSpotRecord]]:
        """:meth:`lock_group`, then the group's members and its hot spots (PostgreSQL: one round trip).

        What a refresh of the group's hot spots reads, as ``group_members`` and ``group_hot_spots``
        return them. On PostgreSQL the statements after it in the transaction are pipelined.
        """
        ...

    def mark_resolved(self, case_id: str, at: datetime) -> None:
        """Record that a grouped case was resolved at ``at`` (the first resolution stays; ungrouped: nothing)."""
        ...

    def count_overdue(self, case_id: str) -> None:
        """Count one more ``deadline.overdue`` of a grouped case (ungrouped: nothing)."""
        ...

    def mark_transferred(self, case_id: str, body: str) -> None:
        """Append ``body`` to a grouped case's ``transferred_to`` (ungrouped: nothing)."""
        ...

    def set_case_flags(self, case_id: str, flags: Sequence[Mapping[str, Any]]) -> None:
        """Replace a case's stored flags (no new version, no history: flags are derived marks)."""
        ...

    def groups_received_between(self, start: datetime, end: datetime) -> list[str]:
        """Ids of groups with a member received in ``[start, end)`` and not resolved, by group id."""
        ...

    def move_to_group(self, case_ids: Sequence[str], group_id: str) -> None:
        """Move grouped cases to ``group_id`` (an officer's split or merge); their bands stay theirs."""
        ...

    def group_hot_spots(self, group_id: str) -> list[HotSpotRecord]:
        """Every hot spot of a group, open or closed, by type."""
        ...

    def save_hot_spot(self, spot: HotSpotRecord, *, new: bool) -> None:
        """Insert a hot spot (``new``) or update its case ids, reasons, update time and open flag."""
        ...

    def hot_spots(self, *, open_only: bool = True) -> list[HotSpotRecord]:
        """Hot spots (only the open ones unless ``open_only`` is False), by detection moment then id."""
        ...

    # officers and the duty roster (:mod:`engine.people`, :mod:`engine.roster`) ----------------
    def people(self) -> list[Person]:
        """The officers imported into the database (``kntc people import``), by id."""
        ...

    def upsert_people(self, people: Sequence[Person], at: datetime) -> None:
        """Insert each officer, or replace the stored one with the same id (``updated_at``: ``at``)."""
        ...

    def duties(self, start: date, end: date) -> list[Duty]:
        """The duties of the days ``start``..``end`` (both included), by day then person id."""
        ...

    def replace_duties(self, start: date, end: date, duties: Sequence[Duty]) -> None:
        """Delete every duty of ``start``..``end`` (both included), then insert ``duties``."""
        ...

    # reports (DESIGN.md §6c; :mod:`engine.report_compute`) -----------------------------------
    def report_figures(self, start: datetime, end: datetime, as_of: datetime, zone: tzinfo) -> ReportFigures:
        """The report's aggregates over the moments ``[start, end)`` (local days in ``zone``).

        A bounded number of group-by queries (:data:`engine.reports.COUNTING` says what each kind's
        events mean); ``as_of``: the moment ``overdue`` is counted at.
        """
        ...


class Store(Protocol):
    """A factory of transactions."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: serialised per case (and, on SQLite, globally)."""
        ...

    def reader(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction."""
        ...
