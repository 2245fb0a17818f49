"""The store port on SQLAlchemy Core: SQLite (file, WAL, one writer) and PostgreSQL.

Statements are built once (module level, with ``bindparam``) so a command spends its time in
the database, not in building SQL. Every write transaction on SQLite starts with
``BEGIN IMMEDIATE`` (one writer at a time, so several daemons serialise); on PostgreSQL the case
row is locked ``FOR UPDATE`` and due timers are claimed ``FOR UPDATE SKIP LOCKED``.

The event feed's ``seq`` comes from a counter row updated in the same transaction: the row lock
is held until commit, so seqs become visible in increasing order and a portal polling with a
cursor never skips an event that commits late.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from adapters.sql import tables as t
from engine.errors import StorageError, ValidationError
from engine.model import CaseRecord, DeadlineState, Event, HistoryEntry, NewEvent

__all__ = ["SqlStore", "SqlTransaction", "make_sql_engine"]

_CASE_COLUMNS = [c.name for c in t.cases.c]
_DEADLINE_COLUMNS = [c.name for c in t.deadlines.c]
_GET_CASE = select(t.cases).where(t.cases.c.id == bindparam("case_id"))
_GET_CASE_LOCKED = _GET_CASE.with_for_update()
_UPDATE_CASE = (
    update(t.cases)
    .where(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_expected"))
    .values({c: bindparam(c) for c in _CASE_COLUMNS if c != "id"})
)
_GET_DEADLINES = select(t.deadlines).where(t.deadlines.c.case_id == bindparam("case_id"))
_UPDATE_DEADLINE = (
    update(t.deadlines)
    .where(t.deadlines.c.case_id == bindparam("b_case_id"), t.deadlines.c.name == bindparam("b_name"))
    .values({c: bindparam(c) for c in _DEADLINE_COLUMNS if c not in ("case_id", "name")})
)
_NEXT_SEQ = (
    update(t.feed_counter).where(t.feed_counter.c.id == 1)
    .values(last_seq=t.feed_counter.c.last_seq + bindparam("n")).returning(t.feed_counter.c.last_seq)
)
_HISTORY = select(t.history).where(t.history.c.case_id == bindparam("case_id")).order_by(t.history.c.seq)
_EVENTS = (select(t.events).where(t.events.c.seq > bindparam("after"))
           .order_by(t.events.c.seq).limit(bindparam("limit")))
_DUE = (
    select(t.deadlines, t.cases)
    .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
    .where(t.deadlines.c.next_fire_at.is_not(None), t.deadlines.c.next_fire_at <= bindparam("now"))
    .order_by(t.deadlines.c.next_fire_at)
    .limit(bindparam("limit"))
)
_DUE_LOCKED = _DUE.with_for_update(of=[t.deadlines, t.cases], skip_locked=True)


def make_sql_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine set up for kntc (SQLite: WAL, ``BEGIN IMMEDIATE`` for writers)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            readonly = conn.get_execution_options().get("kntc_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True)


class SqlTransaction:
    """One transaction on a connection (implements :class:`engine.ports.Transaction`)."""

    def __init__(self, conn: Connection, *, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    # cases --------------------------------------------------------------------------------
    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        stmt = _GET_CASE_LOCKED if for_update and self.postgres else _GET_CASE
        row = self.conn.execute(stmt, {"case_id": case_id}).first()
        return _case(row._mapping) if row is not None else None

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        try:
            self.conn.execute(insert(t.cases), [_case_row(case)])
        except IntegrityError:
            raise ValidationError("case_id", f"{case.id} exists already") from None
        if parties:
            self.conn.execute(insert(t.parties), [{"case_id": case.id, "idx": i, "data": p}
                                                  for i, p in enumerate(parties)])

    def update_case(self, case: CaseRecord, expected_version: int) -> bool:
        row = _case_row(case)
        params = {**{k: v for k, v in row.items() if k != "id"}, "b_id": case.id, "b_expected": expected_version}
        return self.conn.execute(_UPDATE_CASE, params).rowcount == 1

    # deadlines ----------------------------------------------------------------------------
    def get_deadlines(self, case_id: str) -> list[DeadlineState]:
        return [_deadline(r._mapping) for r in self.conn.execute(_GET_DEADLINES, {"case_id": case_id})]

    def save_deadlines(self, inserted: Sequence[DeadlineState], updated: Sequence[DeadlineState]) -> None:
        if inserted:
            self.conn.execute(insert(t.deadlines), [_deadline_row(d) for d in inserted])
        if updated:
            rows = []
            for d in updated:
                row = _deadline_row(d)
                row["b_case_id"], row["b_name"] = row.pop("case_id"), row.pop("name")
                rows.append(row)
            self.conn.execute(_UPDATE_DEADLINE, rows)

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineState]]:
        stmt = _DUE_LOCKED if self.postgres else _DUE
        out = []
        for row in self.conn.execute(stmt, {"now": now, "limit": limit}):
            m = row._mapping
            out.append((_case({c: m[t.cases.c[c]] for c in _CASE_COLUMNS}),
                        _deadline({c: m[t.deadlines.c[c]] for c in _DEADLINE_COLUMNS})))
        return out

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        dialect_insert = postgresql.insert if self.postgres else sqlite.insert
        stmt = dialect_insert(t.fired_rungs).values(case_id=case_id, deadline=deadline, cycle=cycle,
                                                    rung=rung, fired_at=at).on_conflict_do_nothing()
        return self.conn.execute(stmt).rowcount == 1

    def open_deadlines(self) -> Iterator[DeadlineState]:
        stmt = select(t.deadlines).where(t.deadlines.c.closed_at.is_(None))
        return iter([_deadline(r._mapping) for r in self.conn.execute(stmt)])

    # history and feed ---------------------------------------------------------------------
    def append_history(self, case_id: str, entry: HistoryEntry) -> None:
        self.conn.execute(insert(t.history), [{
            "case_id": case_id, "seq": entry.seq, "event": entry.event, "source": entry.source,
            "target": entry.target, "actor": entry.actor, "role": entry.role, "at": entry.at,
            "payload": entry.payload, "hash": entry.hash}])

    def append_events(self, events: Sequence[NewEvent]) -> list[int]:
        if not events:
            return []
        last = self.conn.execute(_NEXT_SEQ, {"n": len(events)}).scalar_one()
        first = last - len(events) + 1
        self.conn.execute(insert(t.events), [
            {"seq": first + i, "type": e.type, "case_id": e.case_id, "at": e.at, "data": e.data}
            for i, e in enumerate(events)])
        return list(range(first, last + 1))

    def history(self, case_id: str) -> list[HistoryEntry]:
        return [HistoryEntry(seq=r.seq, event=r.event, source=r.source, target=r.target, actor=r.actor,
                             role=r.role, at=r.at, payload=r.payload, hash=r.hash)
                for r in self.conn.execute(_HISTORY, {"case_id": case_id})]

    def events(self, after: int, limit: int) -> list[Event]:
        return [Event(seq=r.seq, type=r.type, case_id=r.case_id, at=r.at, data=r.data)
                for r in self.conn.execute(_EVENTS, {"after": after, "limit": limit})]

    def iter_cases(self) -> Iterator[CaseRecord]:
        for row in self.conn.execute(select(t.cases).order_by(t.cases.c.id)):
            yield _case(row._mapping)

    # definitions and settings ---------------------------------------------------------------
    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        exists = self.conn.execute(select(t.definitions.c.hash).where(t.definitions.c.hash == content_hash))
        if exists.first() is None:
            self.conn.execute(insert(t.definitions), [{"hash": content_hash, "name": name, "body": body,
                                                       "stored_at": datetime.now(UTC)}])

    def get_definition(self, content_hash: str) -> str | None:
        stmt = select(t.definitions.c.body).where(t.definitions.c.hash == content_hash)
        return self.conn.execute(stmt).scalar_one_or_none()

    def outbox_cursor(self, channel: str) -> int:
        stmt = select(t.outbox_cursors.c.last_seq).where(t.outbox_cursors.c.channel == channel)
        return int(self.conn.execute(stmt).scalar_one_or_none() or 0)

    def set_outbox_cursor(self, channel: str, seq: int) -> None:
        stmt = update(t.outbox_cursors).where(t.outbox_cursors.c.channel == channel).values(last_seq=seq)
        if self.conn.execute(stmt).rowcount == 0:
            self.conn.execute(insert(t.outbox_cursors), [{"channel": channel, "last_seq": seq}])

    def get_meta(self, key: str) -> str | None:
        return self.conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar_one_or_none()

    def set_meta(self, key: str, value: str) -> None:
        if self.conn.execute(update(t.meta).where(t.meta.c.key == key).values(value=value)).rowcount == 0:
            self.conn.execute(insert(t.meta), [{"key": key, "value": value}])


class SqlStore:
    """The store port over a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A write transaction; commits on success, rolls back on any exception."""
        with self._guard(), self.engine.connect() as conn, conn.begin():
            yield SqlTransaction(conn, postgres=self.postgres)

    @contextmanager
    def reader(self) -> Iterator[SqlTransaction]:
        """A read-only transaction (no writer lock on SQLite)."""
        with self._guard(), self.engine.connect() as conn:
            conn = conn.execution_options(kntc_readonly=True)
            with conn.begin():
                yield SqlTransaction(conn, postgres=self.postgres)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (DBAPIError, SQLAlchemyError) as exc:
            first = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
            raise StorageError(f"database error: {first}") from exc

    def ensure_feed_counter(self) -> None:
        """Create the feed counter row if missing (migrations do it; this repairs)."""
        with self.transaction() as tx:
            if tx.conn.execute(select(t.feed_counter.c.id)).first() is None:
                tx.conn.execute(insert(t.feed_counter), [{"id": 1, "last_seq": 0}])


def _case_row(case: CaseRecord) -> dict[str, Any]:
    return {c: getattr(case, c) for c in _CASE_COLUMNS}


def _case(m: Any) -> CaseRecord:
    return CaseRecord(**{c: m[c] for c in _CASE_COLUMNS})


def _deadline_row(d: DeadlineState) -> dict[str, Any]:
    row = {c: getattr(d, c) for c in _DEADLINE_COLUMNS}
    row["pauses"] = [[p.isoformat(), r.isoformat() if r else None] for p, r in d.pauses]
    return row


def _deadline(m: Any) -> DeadlineState:
    row = {c: m[c] for c in _DEADLINE_COLUMNS}
    row["pauses"] = [(date.fromisoformat(p), date.fromisoformat(r) if r else None) for p, r in row["pauses"]]
    return DeadlineState(**row)
