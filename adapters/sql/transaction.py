"""What a transaction does on either SQL dialect: the port's methods over named statements.

:class:`SqlTransaction` implements :class:`engine.ports.Transaction` once for both dialects; the
dialects differ in how a transaction begins and ends, how the feed's ``seq`` is assigned and (on
PostgreSQL) in pipeline mode, so each has a subclass next to its other specifics (``sqlite.py``,
``postgres.py``). :class:`adapters.sql.store.SqlStore` opens the connection and drives the
life cycle hooks (``_begin``, ``_finish``, ``_end``, ``_end_pipeline``, ``_rollback``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar

import adapters.sql.rows as rows
from adapters.secrets import Cipher
from adapters.sql.compiled import Compiled
from adapters.sql.report_rows import figures_of
from adapters.sql.rows import Codec
from engine.errors import ValidationError
from engine.grouping import BANDS, Candidate, GroupMember, HotSpotRecord
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry, JobState, NewEvent, OutboxMessage, Priority
from engine.people import Person
from engine.reports import ReportFigures
from engine.roster import Duty

__all__ = ["Prepared", "SqlTransaction"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every transaction of one store shares: its compiled statements, codec, driver module and cipher."""

    compiled: Mapping[str, Compiled]
    codec: Codec
    dbapi: Any
    cipher: Cipher


class SqlTransaction(ABC):
    """One transaction on a DBAPI connection (implements :class:`engine.ports.Transaction`).

    Every record it returns is built from the rows just read: a fresh copy the caller may mutate.
    """

    #: the statement ``claim_due`` runs (locking differs per dialect)
    CLAIM_DUE: ClassVar[str]

    def __init__(self, prepared: Prepared, raw: Any, cursor: Any) -> None:
        self.compiled = prepared.compiled
        self.c = prepared.codec
        self.dbapi = prepared.dbapi
        self.cipher = prepared.cipher
        self.raw = raw
        self.cur = cursor

    def _run(self, name: str, values: Mapping[str, Any] | None = None) -> Any:
        stmt = self.compiled[name]
        self.cur.execute(stmt.sql, stmt.params(values or {}))
        return self.cur

    def _count(self, name: str, values: Mapping[str, Any]) -> int:
        """Run a statement whose row count the caller reads (a claim: 1 if this transaction won it)."""
        return int(self._run(name, values).rowcount)

    def _run_many(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        stmt = self.compiled[name]
        self.cur.executemany(stmt.sql, [stmt.params(r) for r in rows])

    # life cycle (driven by SqlStore) --------------------------------------------------------
    @abstractmethod
    def _begin(self, write: bool) -> None:
        """Start the transaction (a writer's or a reader's)."""

    def _finish(self) -> None:
        """Before the commit: complete deferred work (only PostgreSQL's pipeline defers any)."""
        return

    @abstractmethod
    def _end(self, commit: bool) -> None:
        """Commit, or (a reader) roll back."""

    @abstractmethod
    def _rollback(self) -> None:
        """Roll back after a failure; never raises (the connection may be gone)."""

    def _end_pipeline(self) -> None:
        """After the commit or the rollback: leave PostgreSQL's pipeline mode (a no-op elsewhere)."""
        return

    # cases --------------------------------------------------------------------------------
    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        row = self._run("get_case_one", {"case_id": case_id}).fetchone()
        return rows.case_record(self.c, row) if row is not None else None

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        # sealed before anything is sent: a refused key (PostgreSQL without one) writes nothing
        sealed = [{"case_id": case.id, "idx": i, "data": self.c.json_in(self.cipher.seal(p))}
                  for i, p in enumerate(parties)]
        try:
            self._run("insert_case", rows.case_row(self.c, case))
        except self.dbapi.IntegrityError:
            raise ValidationError("case_id", f"{case.id} exists already") from None
        if sealed:
            self._run_many("insert_party", sealed)

    # parties: sealed at rest (adapters/secrets.py), opened for engine.identity alone ------------
    def parties(self, case_id: str) -> list[dict[str, Any]]:
        found = self._run("parties_all", {"case_id": case_id}).fetchall()
        return [self.cipher.open(self.c.json_out(r[2])) for r in found]

    def party_page(self, after: tuple[str, int] | None, limit: int) -> list[tuple[str, int, dict[str, Any]]]:
        """Stored parties (as stored: sealed or, before 0010, plain) after the key ``after``, by (case, idx)."""
        case_id, idx = after or ("", -1)
        found = self._run("parties_page_all", {"case_id": case_id, "idx": idx, "limit": limit}).fetchall()
        return [(str(r[0]), int(r[1]), self.c.json_out(r[2])) for r in found]

    def replace_party(self, case_id: str, idx: int, stored: Mapping[str, Any]) -> None:
        """Overwrite one stored party (its new sealed form)."""
        self._run("update_party", {"b_case_id": case_id, "b_idx": idx, "data": self.c.json_in(dict(stored))})

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        name, row = self._case_update(case, expected_version, fields_changed)
        return bool(self._run(name, row).rowcount == 1)

    def _case_update(self, case: CaseRecord, expected: int, fields_changed: bool) -> tuple[str, dict[str, Any]]:
        """The statement and parameters of ``update_case`` (guarded by the expected version)."""
        if not fields_changed:  # the common transition: only the state moves (less to encode and write)
            row = rows.case_state_row(self.c, case)
            row["b_id"], row["b_expected"] = case.id, expected
            return "update_case_state", row
        row = rows.case_row(self.c, case, flags=False)  # the flags are set_case_flags' alone
        row["b_id"], row["b_expected"] = row.pop("id"), expected
        return "update_case", row

    def set_priority(self, case_id: str, priority: Priority) -> None:
        self._run("set_priority", {"case_id": case_id, "priority": priority})

    def set_case_flags(self, case_id: str, flags: Sequence[Mapping[str, Any]]) -> None:
        self._run("set_case_flags", {"case_id": case_id, "flags": self.c.json_in([dict(f) for f in flags])})

    def iter_cases(self) -> Iterator[CaseRecord]:
        return iter([rows.case_record(self.c, r) for r in self._run("iter_cases_all").fetchall()])

    # deadlines ----------------------------------------------------------------------------
    def get_deadlines(self, case_id: str) -> list[DeadlineLedger]:
        return self._deadlines(self._run("get_deadlines_all", {"case_id": case_id}).fetchall())

    def _deadlines(self, found: Sequence[Sequence[Any]]) -> list[DeadlineLedger]:
        return [rows.deadline_ledger(self.c, r) for r in found]

    def save_deadlines(self, inserted: Sequence[DeadlineLedger], updated: Sequence[DeadlineLedger]) -> None:
        if inserted:
            self._run_many("insert_deadline", [rows.deadline_row(self.c, d) for d in inserted])
        for d in updated:
            row = rows.deadline_row(self.c, d)
            row["b_case_id"], row["b_name"] = row.pop("case_id"), row.pop("name")
            self._run("update_deadline", row)

    def open_deadlines(self, after: tuple[str, str] | None, limit: int) -> list[DeadlineLedger]:
        if after is None:
            found = self._run("open_deadlines_all", {"limit": limit}).fetchall()
        else:
            found = self._run("open_deadlines_after_all",
                              {"case_id": after[0], "name": after[1], "limit": limit}).fetchall()
        return self._deadlines(found)

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        found = self._run(self.CLAIM_DUE, {"now": self.c.dt_in(now), "limit": limit}).fetchall()
        return [rows.due_pair(self.c, r) for r in found]

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        return self._count("mark_fired", {"case_id": case_id, "deadline": deadline, "cycle": cycle, "rung": rung,
                                          "fired_at": self.c.dt_in(at)}) == 1

    # scheduled jobs and failures -------------------------------------------------------------
    def job_state(self, kind: str, subject: str, slot: str) -> JobState | None:
        row = self._run("job_state_one", {"kind": kind, "subject": subject, "slot": slot}).fetchone()
        return rows.job_state(self.c, row) if row is not None else None

    def claim_job(self, kind: str, subject: str, slot: str, at: datetime) -> bool:
        return self._count("claim_job", {"kind": kind, "subject": subject, "slot": slot, "at": self.c.dt_in(at)}) == 1

    def fail_job(self, kind: str, subject: str, slot: str, *, attempts: int, error: str,
                 next_try_at: datetime | None) -> None:
        self._run("fail_job", {"kind": kind, "subject": subject, "slot": slot, "attempts": attempts, "error": error,
                               "next_try_at": self.c.dt_in(next_try_at)})

    def failed_jobs(self, limit: int) -> list[tuple[str, str, str, JobState]]:
        return [(r[0], r[1], r[2], rows.job_state(self.c, r[3:]))
                for r in self._run("failed_jobs_all", {"limit": limit}).fetchall()]

    def failing_deadlines(self, limit: int) -> list[DeadlineLedger]:
        return self._deadlines(self._run("failing_deadlines_all", {"limit": limit}).fetchall())

    # outbox -------------------------------------------------------------------------------
    def enqueue(self, channel: str, kind: str, case_id: str | None, data: dict[str, Any], at: datetime, *,
                attempts: int = 0, last_error: str | None = None, next_attempt_at: datetime | None = None,
                key: str | None = None) -> None:
        self._run("enqueue", rows.outbox_row(self.c, channel, kind, case_id, data, at, attempts, last_error,
                                             next_attempt_at, key))

    def outbox(self, *, channel: str | None = None, status: str | None = None, due_at: datetime | None = None,
               message_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
        if message_id is not None:
            found = self._run("outbox_one", {"id": message_id}).fetchall()
        elif due_at is not None and channel is not None:
            found = self._run("outbox_due_all", {"channel": channel, "due_at": self.c.dt_in(due_at),
                                                 "limit": limit}).fetchall()
        elif status is not None:
            found = self._run("outbox_status_all", {"status": status, "limit": limit}).fetchall()
        else:
            found = self._run("outbox_all", {"limit": limit}).fetchall()
        messages = [rows.outbox_message(self.c, r) for r in found]
        return [m for m in messages if (channel is None or m.channel == channel)
                and (status is None or m.status == status)]

    def update_message(self, message_id: int, *, status: str, attempts: int, last_error: str | None,
                       next_attempt_at: datetime | None, sent_at: datetime | None) -> None:
        self._run("update_message", {"b_id": message_id, "status": status, "attempts": attempts,
                                     "last_error": last_error, "next_attempt_at": self.c.dt_in(next_attempt_at),
                                     "sent_at": self.c.dt_in(sent_at)})

    def acquire_channel(self, channel: str, holder: str, now: datetime, until: datetime) -> bool:
        return self._count("acquire_channel", {"channel": channel, "holder": holder, "now": self.c.dt_in(now),
                                               "until": self.c.dt_in(until)}) == 1

    def release_channel(self, channel: str, holder: str) -> None:
        self._run("release_channel", {"channel": channel, "holder": holder})

    # history and feed ---------------------------------------------------------------------
    def append_history(self, case_id: str, entry: HistoryEntry) -> None:
        self._run("insert_history", rows.history_row(self.c, case_id, entry))

    def history(self, case_id: str) -> list[HistoryEntry]:
        return [rows.history_entry(self.c, r) for r in self._run("history_all", {"case_id": case_id}).fetchall()]

    @abstractmethod
    def append_events(self, events: Sequence[NewEvent]) -> None:
        """Append feed events; how their ``seq`` is assigned is the dialect's."""

    def events(self, after: int, limit: int) -> list[Event]:
        return [rows.event(self.c, r) for r in self._run("events_all", {"after": after, "limit": limit}).fetchall()]

    def outbox_cursor(self, channel: str) -> int:
        row = self._run("get_cursor_one", {"channel": channel}).fetchone()
        return int(row[0]) if row else 0

    def set_outbox_cursor(self, channel: str, seq: int) -> None:
        self._run("set_cursor", {"channel": channel, "seq": seq})

    # definitions and settings ---------------------------------------------------------------
    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        self._run("save_definition", {"hash": content_hash, "name": name, "body": body, "stored_at": None})

    def get_definition(self, content_hash: str) -> str | None:
        row = self._run("get_definition_one", {"hash": content_hash}).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        row = self._run("get_meta_one", {"key": key}).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._run("set_meta", {"key": key, "value": value})

    # content groups and hot spots -----------------------------------------------------------
    def create_group(self, group_id: str, at: datetime) -> None:
        self._run("insert_group", {"id": group_id, "created_at": self.c.dt_in(at)})

    def group_candidates(self, bands: Sequence[str], limit: int) -> list[Candidate]:
        if len(bands) != BANDS:
            raise ValidationError("bands", f"a signature has {BANDS} band keys, got {len(bands)}")
        values: dict[str, Any] = {f"band_{i}": band for i, band in enumerate(bands)}
        values["limit"] = limit
        return [Candidate(r[0], r[1], int(r[2]), bytes(r[3]) if r[3] is not None else None, r[4], r[5], r[6])
                for r in self._run("group_candidates_all", values).fetchall()]

    def save_grouping(self, case_id: str, group_id: str, respondent_key: str, received_at: datetime,
                      bands: Sequence[str], signature: bytes | None = None,
                      new_group_at: datetime | None = None) -> None:
        group = {"id": group_id, "created_at": self.c.dt_in(new_group_at)} if new_group_at is not None else None
        try:
            self._insert_grouping(group, self._grouping_row(case_id, group_id, respondent_key, received_at, signature),
                                  [{"band": band, "case_id": case_id} for band in dict.fromkeys(bands)])
        except self.dbapi.IntegrityError:
            what = f"{case_id} is grouped already" if group is None else f"{case_id} is grouped, or {group_id} " \
                "exists, already"
            raise ValidationError("case_id", what) from None

    def _grouping_row(self, case_id: str, group_id: str, respondent_key: str, received_at: datetime,
                      signature: bytes | None) -> dict[str, Any]:
        return {"case_id": case_id, "group_id": group_id, "respondent_key": respondent_key[:200],
                "received_at": self.c.dt_in(received_at), "signature": signature}

    def _insert_grouping(self, group: Mapping[str, Any] | None, row: Mapping[str, Any],
                         bands: Sequence[Mapping[str, Any]]) -> None:
        """The new group (if any), the case's group row, then its band rows (PostgreSQL: one round trip)."""
        if group is not None:
            self._run("insert_group", group)
        self._run("insert_case_group", row)
        self._run_many("insert_band", bands)

    def save_signature(self, case_id: str, signature: bytes) -> None:
        self._run("save_signature", {"b_case_id": case_id, "signature": signature})

    def case_group(self, case_id: str) -> str | None:
        row = self._run("case_group_one", {"case_id": case_id}).fetchone()
        return row[0] if row else None

    def lock_group(self, group_id: str) -> None:
        self._run("lock_group_one", {"id": group_id}).fetchone()

    def group_members(self, group_id: str) -> list[GroupMember]:
        return [rows.group_member(self.c, r) for r in self._run("group_members_all", {"group_id": group_id}).fetchall()]

    def group_state(self, group_id: str) -> tuple[list[GroupMember], list[HotSpotRecord]]:
        self.lock_group(group_id)
        return self.group_members(group_id), self.group_hot_spots(group_id)

    def mark_resolved(self, case_id: str, at: datetime) -> None:
        self._run("mark_resolved", {"b_case_id": case_id, "resolved_at": self.c.dt_in(at)})

    def count_overdue(self, case_id: str) -> None:
        self._run("count_overdue", {"b_case_id": case_id})

    def mark_transferred(self, case_id: str, body: str) -> None:
        self._run("mark_transferred", {"b_case_id": case_id, "body": body})

    def groups_received_between(self, start: datetime, end: datetime) -> list[str]:
        found = self._run("groups_received_between_all", {"start": self.c.dt_in(start), "end": self.c.dt_in(end)})
        return [r[0] for r in found.fetchall()]

    def move_to_group(self, case_ids: Sequence[str], group_id: str) -> None:
        if case_ids:
            self._run_many("move_to_group", [{"b_case_id": cid, "group_id": group_id} for cid in case_ids])

    def group_hot_spots(self, group_id: str) -> list[HotSpotRecord]:
        return [rows.hot_spot(self.c, r) for r in self._run("group_hot_spots_all", {"group_id": group_id}).fetchall()]

    def save_hot_spot(self, spot: HotSpotRecord, *, new: bool) -> None:
        row = rows.hot_spot_row(self.c, spot)
        if new:
            self._run("insert_hot_spot", row)
            return
        self._run("update_hot_spot", {"b_id": spot.id, "case_ids": row["case_ids"], "reasons": row["reasons"],
                                      "updated_at": row["updated_at"], "is_open": row["is_open"]})

    def hot_spots(self, *, open_only: bool = True) -> list[HotSpotRecord]:
        found = (self._run("open_hot_spots_all", {"is_open": True}) if open_only
                 else self._run("all_hot_spots_all")).fetchall()
        return [rows.hot_spot(self.c, r) for r in found]

    # officers and the duty roster -----------------------------------------------------------
    def people(self) -> list[Person]:
        return [rows.person(self.c, r) for r in self._run("people_all").fetchall()]

    def upsert_people(self, people: Sequence[Person], at: datetime) -> None:
        if people:
            self._run_many("upsert_person", [rows.person_row(self.c, p, at) for p in people])

    def duties(self, start: date, end: date) -> list[Duty]:
        found = self._run("duties_all", {"start": self.c.date_in(start), "end": self.c.date_in(end)}).fetchall()
        return [rows.duty(self.c, r) for r in found]

    def replace_duties(self, start: date, end: date, duties: Sequence[Duty]) -> None:
        outside = next((d.day for d in duties if not start <= d.day <= end), None)
        if outside is not None:
            raise ValidationError("duties", f"a duty on {outside.isoformat()} lies outside {start.isoformat()}.."
                                  f"{end.isoformat()}")
        self._run("delete_duties", {"start": self.c.date_in(start), "end": self.c.date_in(end)})
        if duties:
            try:
                self._run_many("insert_duty", [rows.duty_row(self.c, d) for d in duties])
            except self.dbapi.IntegrityError:
                raise ValidationError("duties", "an officer is on duty twice on one day") from None

    # reports ------------------------------------------------------------------------------
    def report_figures(self, start: datetime, end: datetime, as_of: datetime, zone: tzinfo) -> ReportFigures:
        c = self.c
        window = {"start": c.dt_in(start), "end": c.dt_in(end), "zone": rows.zone_param(c, zone, start)}
        return figures_of(c, lambda name, **extra: list(self._run(name, {**window, **extra}).fetchall()), as_of)
