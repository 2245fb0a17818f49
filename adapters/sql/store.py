"""The store port over SQLite (file, WAL, one writer) and PostgreSQL.

SQLAlchemy Core describes the schema and builds every statement once (module level, with
``bindparam``); each is compiled once per dialect and executed straight on the pooled DBAPI
cursor. A command then spends its time in the database: going through SQLAlchemy's execution
layer cost ~10x the driver's own time per statement here (see ``bench/RESULTS.md``).

Transactions: SQLite writers start with ``BEGIN IMMEDIATE`` (one writer at a time, so several
daemons serialise); on PostgreSQL the case row is locked ``FOR UPDATE`` and due timers are
claimed ``FOR UPDATE SKIP LOCKED``. The event feed's ``seq`` comes from a counter row updated in
the same transaction: its row lock is held until commit, so seqs become visible in increasing
order and a portal polling with a cursor never skips an event that commits late.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Engine, String, bindparam, create_engine, event, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from adapters.sql import tables as t
from engine.errors import ConflictError, StorageError, ValidationError
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry, NewEvent

__all__ = ["SqlStore", "SqlTransaction", "make_sql_engine"]

# one encoder for all: json.dumps with arguments builds a new encoder on every call
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_CASE = [c.name for c in t.cases.c]
_DEADLINE = [c.name for c in t.deadlines.c]
_HISTORY_COLS = [c.name for c in t.history.c]
_EVENT_COLS = [c.name for c in t.events.c]

_STATEMENTS: dict[str, Any] = {
    "get_case": select(t.cases).where(t.cases.c.id == bindparam("case_id")),
    "get_case_locked": select(t.cases).where(t.cases.c.id == bindparam("case_id")).with_for_update(),
    "insert_case": insert(t.cases).values({c: bindparam(c) for c in _CASE}),
    "update_case": update(t.cases)
    .where(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_expected"))
    .values({c: bindparam(c) for c in _CASE if c != "id"}),
    "update_case_state": update(t.cases)
    .where(t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_expected"))
    .values({c: bindparam(c) for c in ("state", "previous_state", "version", "updated_at", "history_head")}),
    "insert_party": insert(t.parties).values(case_id=bindparam("case_id"), idx=bindparam("idx"),
                                             data=bindparam("data")),
    "get_deadlines": select(t.deadlines).where(t.deadlines.c.case_id == bindparam("case_id")),
    "insert_deadline": insert(t.deadlines).values({c: bindparam(c) for c in _DEADLINE}),
    "update_deadline": update(t.deadlines)
    .where(t.deadlines.c.case_id == bindparam("b_case_id"), t.deadlines.c.name == bindparam("b_name"))
    .values({c: bindparam(c) for c in _DEADLINE if c not in ("case_id", "name")}),
    "open_deadlines": select(t.deadlines).where(t.deadlines.c.closed_at.is_(None))
    .order_by(t.deadlines.c.case_id, t.deadlines.c.name).limit(bindparam("limit")),
    "open_deadlines_after": select(t.deadlines).where(
        t.deadlines.c.closed_at.is_(None),
        tuple_(t.deadlines.c.case_id, t.deadlines.c.name) > tuple_(bindparam("case_id"), bindparam("name")))
    .order_by(t.deadlines.c.case_id, t.deadlines.c.name).limit(bindparam("limit")),
    "insert_history": insert(t.history).values({c: bindparam(c) for c in _HISTORY_COLS}),
    "history": select(t.history).where(t.history.c.case_id == bindparam("case_id")).order_by(t.history.c.seq),
    "next_seq": update(t.feed_counter).where(t.feed_counter.c.id == 1)
    .values(last_seq=t.feed_counter.c.last_seq + bindparam("n")).returning(t.feed_counter.c.last_seq),
    "insert_event": insert(t.events).values({c: bindparam(c) for c in _EVENT_COLS}),
    # SQLite has one writer at a time, so its rowid order is commit order: no counter needed
    "insert_event_rowid": insert(t.events).values({c: bindparam(c) for c in _EVENT_COLS if c != "seq"}),
    "events": select(t.events).where(t.events.c.seq > bindparam("after"))
    .order_by(t.events.c.seq).limit(bindparam("limit")),
    "due": select(t.deadlines, t.cases).join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
    .where(t.deadlines.c.next_fire_at.is_not(None), t.deadlines.c.next_fire_at <= bindparam("now"))
    .order_by(t.deadlines.c.next_fire_at).limit(bindparam("limit")),
    "iter_cases": select(t.cases).order_by(t.cases.c.id),
    "get_definition": select(t.definitions.c.body).where(t.definitions.c.hash == bindparam("hash")),
    "get_meta": select(t.meta.c.value).where(t.meta.c.key == bindparam("key")),
    "get_cursor": select(t.outbox_cursors.c.last_seq).where(t.outbox_cursors.c.channel == bindparam("channel")),
}
_DUE_LOCKED = _STATEMENTS["due"].with_for_update(of=[t.deadlines, t.cases], skip_locked=True)
# PostgreSQL, one event (the usual transition): bump the counter and write the row in one round trip
_BUMP = (update(t.feed_counter).where(t.feed_counter.c.id == 1)
         .values(last_seq=t.feed_counter.c.last_seq + 1).returning(t.feed_counter.c.last_seq).cte("bump"))
_INSERT_ONE_EVENT = insert(t.events).from_select(
    list(_EVENT_COLS),
    select(_BUMP.c.last_seq, bindparam("type", type_=String), bindparam("case_id", type_=String),
           bindparam("at", type_=DateTime(timezone=True)), bindparam("data", type_=JSONB)),
).returning(t.events.c.seq)


def _upserts(dialect: str) -> dict[str, ClauseElement]:
    """Statements that must not race: each is one INSERT ... ON CONFLICT (both dialects have it)."""
    ins: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    cursor = ins(t.outbox_cursors).values(channel=bindparam("channel"), last_seq=bindparam("seq"))
    meta = ins(t.meta).values(key=bindparam("key"), value=bindparam("value"))
    return {
        # the claim of a rung *is* this insert: a second firing finds the key taken
        "mark_fired": ins(t.fired_rungs).values(
            case_id=bindparam("case_id"), deadline=bindparam("deadline"), cycle=bindparam("cycle"),
            rung=bindparam("rung"), fired_at=bindparam("fired_at")).on_conflict_do_nothing(),
        "save_definition": ins(t.definitions).values(
            hash=bindparam("hash"), name=bindparam("name"), body=bindparam("body"),
            stored_at=bindparam("stored_at")).on_conflict_do_nothing(),
        "set_meta": meta.on_conflict_do_update(index_elements=[t.meta.c.key], set_={"value": meta.excluded.value}),
        # a cursor only moves forward, whichever daemon delivers last
        "set_cursor": cursor.on_conflict_do_update(
            index_elements=[t.outbox_cursors.c.channel], set_={"last_seq": cursor.excluded.last_seq},
            where=t.outbox_cursors.c.last_seq < cursor.excluded.last_seq),
    }


def make_sql_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine (pool, dialect) set up for kntc; SQLite runs in WAL mode."""
    if url.startswith("sqlite"):
        # kntc ends every transaction itself (COMMIT or ROLLBACK), so the pool need not reset on return
        engine = create_engine(url, echo=echo, pool_reset_on_return=None,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # kntc issues BEGIN IMMEDIATE / COMMIT itself
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:  # for SQLAlchemy-level transactions (migrations)
            conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # no pre-ping (a round trip per command): a connection found dead is invalidated instead
    return create_engine(url, echo=echo, pool_recycle=3600)


class _Compiled:
    """A statement compiled for one dialect, with its parameter order."""

    __slots__ = ("defaults", "named", "names", "sql")

    def __init__(self, stmt: ClauseElement, engine: Engine) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=engine.dialect))
        self.sql = str(compiled)
        self.named = engine.dialect.paramstyle in ("named", "pyformat")
        self.names = tuple(compiled.positiontup or ()) if not self.named else ()
        # literals in the statement (``id == 1``) become parameters with their value as default
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}

    def params(self, values: Mapping[str, Any]) -> Any:
        if self.defaults:
            values = {**self.defaults, **values}
        return values if self.named else tuple(values[n] for n in self.names)


class _Codec:
    """Python values <-> driver values, per column kind (datetime, date, JSON)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        if postgres:
            from psycopg.types.json import Jsonb
            self._jsonb = Jsonb

    def dt_in(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value if self.postgres else value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def dt_out(self, value: Any) -> datetime | None:
        return None if value is None else self.dt_required(value)

    def dt_required(self, value: Any) -> datetime:
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def json_in(self, value: Any) -> Any:
        return self._jsonb(value) if self.postgres else _ENCODE(value)

    def json_out(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def date_in(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def date_out(self, value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value


class SqlTransaction:
    """One transaction on a pooled DBAPI connection (implements :class:`engine.ports.Transaction`)."""

    def __init__(self, store: SqlStore, cursor: Any) -> None:
        self.store = store
        self.cur = cursor
        self.c = store.codec
        self._prefetched: tuple[str, list[Any]] | None = None
        self._pipeline: Any = None
        self._pipeline_cm: Any = None
        self._version_checks: list[tuple[Any, str, int]] = []

    def _run(self, name: str, values: Mapping[str, Any] | None = None) -> Any:
        stmt = self.store.compiled[name]
        self.cur.execute(stmt.sql, stmt.params(values or {}))
        return self.cur

    def _run_many(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        stmt = self.store.compiled[name]
        self.cur.executemany(stmt.sql, [stmt.params(r) for r in rows])

    # cases --------------------------------------------------------------------------------
    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        if for_update and self.store.postgres:
            # A command: from here the transaction runs in pipeline mode. The case (locked) and its
            # deadlines come back in one round trip; the writes that follow are sent without
            # waiting, and `finish` checks them in one more before the commit.
            if self._pipeline is None:
                self._pipeline_cm = self.cur.connection.pipeline()
                self._pipeline = self._pipeline_cm.__enter__()
            deadlines = self.cur.connection.cursor()
            stmt = self.store.compiled["get_deadlines"]
            self._run("get_case_locked", {"case_id": case_id})
            deadlines.execute(stmt.sql, stmt.params({"case_id": case_id}))
            row = self.cur.fetchone()
            self._prefetched = (case_id, deadlines.fetchall())
            deadlines.close()
        else:
            row = self._run("get_case", {"case_id": case_id}).fetchone()
        return self._case(row) if row is not None else None

    def insert_case(self, case: CaseRecord, parties: Sequence[dict[str, Any]]) -> None:
        try:
            self._run("insert_case", self._case_row(case))
        except self.store.dbapi.IntegrityError:
            raise ValidationError("case_id", f"{case.id} exists already") from None
        if parties:
            self._run_many("insert_party", [{"case_id": case.id, "idx": i, "data": self.c.json_in(p)}
                                            for i, p in enumerate(parties)])

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        if not fields_changed:  # the common transition: only the state moves (less to encode and write)
            name = "update_case_state"
            row = {"state": case.state, "previous_state": case.previous_state, "version": case.version,
                   "updated_at": self.c.dt_in(case.updated_at), "history_head": case.history_head,
                   "b_id": case.id, "b_expected": expected_version}
        else:
            name, row = "update_case", self._case_row(case)
            row["b_id"], row["b_expected"] = row.pop("id"), expected_version
        if self._pipeline is None:
            return bool(self._run(name, row).rowcount == 1)
        cursor = self.cur.connection.cursor()  # pipelined: its row count is checked by `finish`
        stmt = self.store.compiled[name]
        cursor.execute(stmt.sql, stmt.params(row))
        self._version_checks.append((cursor, case.id, expected_version))
        return True

    def finish(self) -> None:
        """Before the commit: wait for pipelined writes and check the versions they were guarded by."""
        if self._pipeline is None:
            return
        self._pipeline.sync()
        for cursor, case_id, expected in self._version_checks:
            if cursor.rowcount != 1:
                actual = self._run("get_case", {"case_id": case_id}).fetchone()
                raise ConflictError(case_id, expected, actual[_CASE.index("version")] if actual else -1)
            cursor.close()

    def end_pipeline(self) -> None:
        """Leave pipeline mode (after the commit or the rollback)."""
        manager, self._pipeline_cm, self._pipeline, self._version_checks = self._pipeline_cm, None, None, []
        if manager is not None:
            with suppress(Exception):
                manager.__exit__(None, None, None)

    def iter_cases(self) -> Iterator[CaseRecord]:
        return iter([self._case(r) for r in self._run("iter_cases").fetchall()])

    # deadlines ----------------------------------------------------------------------------
    def get_deadlines(self, case_id: str) -> list[DeadlineLedger]:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == case_id:
            rows = prefetched[1]
        else:
            rows = self._run("get_deadlines", {"case_id": case_id}).fetchall()
        return [self._deadline(r) for r in rows]

    def save_deadlines(self, inserted: Sequence[DeadlineLedger], updated: Sequence[DeadlineLedger]) -> None:
        if inserted:
            self._run_many("insert_deadline", [self._deadline_row(d) for d in inserted])
        for d in updated:
            row = self._deadline_row(d)
            row["b_case_id"], row["b_name"] = row.pop("case_id"), row.pop("name")
            self._run("update_deadline", row)

    def open_deadlines(self, after: tuple[str, str] | None, limit: int) -> list[DeadlineLedger]:
        if after is None:
            rows = self._run("open_deadlines", {"limit": limit}).fetchall()
        else:
            rows = self._run("open_deadlines_after", {"case_id": after[0], "name": after[1], "limit": limit}).fetchall()
        return [self._deadline(r) for r in rows]

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        name = "due_locked" if self.store.postgres else "due"
        split = len(_DEADLINE)
        return [(self._case(r[split:]), self._deadline(r[:split]))
                for r in self._run(name, {"now": self.c.dt_in(now), "limit": limit}).fetchall()]

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        cur = self._run("mark_fired", {"case_id": case_id, "deadline": deadline, "cycle": cycle, "rung": rung,
                                       "fired_at": self.c.dt_in(at)})
        return bool(cur.rowcount == 1)

    # history and feed ---------------------------------------------------------------------
    def append_history(self, case_id: str, entry: HistoryEntry) -> None:
        self._run("insert_history", {
            "case_id": case_id, "seq": entry.seq, "event": entry.event, "source": entry.source,
            "target": entry.target, "actor": entry.actor, "role": entry.role, "at": self.c.dt_in(entry.at),
            "payload": self.c.json_in(entry.payload), "hash": entry.hash})

    def history(self, case_id: str) -> list[HistoryEntry]:
        out = []
        for r in self._run("history", {"case_id": case_id}).fetchall():
            m = dict(zip(_HISTORY_COLS, r, strict=True))
            out.append(HistoryEntry(seq=m["seq"], event=m["event"], source=m["source"], target=m["target"],
                                    actor=m["actor"], role=m["role"], at=self.c.dt_required(m["at"]),
                                    payload=self.c.json_out(m["payload"]), hash=m["hash"]))
        return out

    def append_events(self, events: Sequence[NewEvent]) -> None:
        rows = [{"type": e.type, "case_id": e.case_id, "at": self.c.dt_in(e.at), "data": self.c.json_in(e.data)}
                for e in events]
        if not rows:
            return
        if not self.store.postgres:
            self._run_many("insert_event_rowid", rows)
        elif len(rows) == 1:  # no result is read, so inside a pipeline this costs no round trip
            self._run("insert_one_event", rows[0])
        else:
            last = int(self._run("next_seq", {"n": len(rows)}).fetchone()[0])
            self._run_many("insert_event", [{**row, "seq": last - len(rows) + 1 + i} for i, row in enumerate(rows)])

    def events(self, after: int, limit: int) -> list[Event]:
        return [Event(seq=r[0], type=r[1], case_id=r[2], at=self.c.dt_required(r[3]),
                      data=self.c.json_out(r[4]))
                for r in self._run("events", {"after": after, "limit": limit}).fetchall()]

    def outbox_cursor(self, channel: str) -> int:
        row = self._run("get_cursor", {"channel": channel}).fetchone()
        return int(row[0]) if row else 0

    def set_outbox_cursor(self, channel: str, seq: int) -> None:
        self._run("set_cursor", {"channel": channel, "seq": seq})

    # definitions and settings ---------------------------------------------------------------
    def save_definition(self, content_hash: str, name: str, body: str) -> None:
        self._run("save_definition", {"hash": content_hash, "name": name, "body": body, "stored_at": None})

    def get_definition(self, content_hash: str) -> str | None:
        row = self._run("get_definition", {"hash": content_hash}).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        row = self._run("get_meta", {"key": key}).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._run("set_meta", {"key": key, "value": value})

    # row mapping ----------------------------------------------------------------------------
    def _case_row(self, case: CaseRecord) -> dict[str, Any]:
        c = self.c
        row = {name: getattr(case, name) for name in _CASE}
        row["received_at"], row["opened_at"] = c.dt_in(case.received_at), c.dt_in(case.opened_at)
        row["updated_at"], row["fields"] = c.dt_in(case.updated_at), c.json_in(case.fields)
        return row

    def _case(self, row: Sequence[Any]) -> CaseRecord:
        m = dict(zip(_CASE, row, strict=True))
        c = self.c
        m["received_at"], m["opened_at"] = c.dt_out(m["received_at"]), c.dt_out(m["opened_at"])
        m["updated_at"], m["fields"] = c.dt_out(m["updated_at"]), c.json_out(m["fields"])
        return CaseRecord(**m)

    def _deadline_row(self, d: DeadlineLedger) -> dict[str, Any]:
        c = self.c
        row = {name: getattr(d, name) for name in _DEADLINE}
        for name in ("started_at", "next_fire_at", "due_at", "closed_at"):
            row[name] = c.dt_in(row[name])
        row["start_date"] = c.date_in(d.start_date)
        row["pauses"] = c.json_in([[p.isoformat(), r.isoformat() if r else None] for p, r in d.pauses])
        return row

    def _deadline(self, row: Sequence[Any]) -> DeadlineLedger:
        c = self.c
        m = dict(zip(_DEADLINE, row, strict=True))
        for name in ("started_at", "next_fire_at", "due_at", "closed_at"):
            m[name] = c.dt_out(m[name])
        m["start_date"] = c.date_out(m["start_date"])
        m["pauses"] = [(date.fromisoformat(p), date.fromisoformat(r) if r else None)
                       for p, r in c.json_out(m["pauses"])]
        return DeadlineLedger(**m)


class SqlStore:
    """The store port over a SQLAlchemy engine's pool and dialect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.dbapi: Any = engine.dialect.dbapi
        self.codec = _Codec(self.postgres)
        self._local = threading.local()
        self._held: list[Any] = []
        self._held_lock = threading.Lock()
        self.compiled = {name: _Compiled(stmt, engine) for name, stmt in _STATEMENTS.items()}
        self.compiled["due_locked"] = _Compiled(_DUE_LOCKED, engine)
        if self.postgres:
            self.compiled["insert_one_event"] = _Compiled(_INSERT_ONE_EVENT, engine)
        self.compiled.update({name: _Compiled(stmt, engine) for name, stmt in _upserts(engine.dialect.name).items()})

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """A write transaction; commits on success, rolls back on any exception."""
        with self._session(write=True) as tx:
            yield tx

    @contextmanager
    def reader(self) -> Iterator[SqlTransaction]:
        """A read-only transaction (no writer lock on SQLite)."""
        with self._session(write=False) as tx:
            yield tx

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[SqlTransaction]:
        raw = self._connection()
        cursor = raw.cursor()
        tx = SqlTransaction(self, cursor)
        try:
            if not self.postgres:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield tx
            tx.finish()
            if write:
                raw.commit() if self.postgres else cursor.execute("COMMIT")
            else:
                raw.rollback() if self.postgres else cursor.execute("ROLLBACK")
            tx.end_pipeline()
        except self.dbapi.Error as exc:
            tx.end_pipeline()
            _rollback(raw, cursor, self.postgres)
            if self.postgres and isinstance(exc, self.dbapi.OperationalError):
                raw.invalidate()  # the server may have gone away: the pool opens a fresh connection next time
            raise StorageError(f"database error: {_first_line(exc)}") from exc
        except BaseException:
            tx.end_pipeline()
            _rollback(raw, cursor, self.postgres)
            raise
        finally:
            cursor.close()
            if self.postgres:
                raw.close()  # back to the pool

    def _connection(self) -> Any:
        """PostgreSQL: a pooled connection. SQLite: this thread's own connection, kept open.

        A SQLite connection is a file handle, cheap to keep; checking one out of the pool and
        back for every command cost more than a transition's own statements.
        """
        held = getattr(self._local, "raw", None) if not self.postgres else None
        if held is not None:
            return held
        try:
            raw = self.engine.raw_connection()
        except Exception as exc:
            raise StorageError(f"cannot connect to the database: {_first_line(exc)}") from exc
        if self.postgres:
            return raw
        raw.detach()  # ours now: the pool neither resets nor counts it
        self._local.raw = raw.dbapi_connection
        with self._held_lock:
            self._held.append(self._local.raw)
        return self._local.raw

    def close(self) -> None:
        """Close every connection (pooled, and the ones SQLite threads hold)."""
        with self._held_lock:
            held, self._held = self._held, []
        for conn in held:
            with suppress(Exception):
                conn.close()
        self._local = threading.local()
        self.engine.dispose()



def _rollback(raw: Any, cursor: Any, postgres: bool) -> None:
    with suppress(Exception):  # the connection may be gone; the pool discards it
        raw.rollback() if postgres else cursor.execute("ROLLBACK")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
