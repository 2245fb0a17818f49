"""SQLite specifics: one writer at a time, the rowid as feed seq, a connection per thread.

SQLite is kntc's embedded default (a file in WAL mode). Writers start with ``BEGIN IMMEDIATE``,
which takes the database's single write lock at once: several daemons on one file serialise
there, instead of failing at their first write with ``SQLITE_BUSY``. Because commits are thus
serial, the events' rowid order is commit order and serves as the feed's ``seq`` (PostgreSQL
needs a counter row for that).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import Engine, create_engine, event

import adapters.sql.rows as rows
from adapters.sql.transaction import SqlTransaction
from engine.model import NewEvent

__all__ = ["SqliteTransaction", "ThreadConnections", "make_engine"]


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine for a SQLite URL: WAL (for files), ``synchronous=NORMAL``, 30 s busy timeout."""
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


class ThreadConnections:
    """Each thread's own connection, opened on first use and kept open until :meth:`close`.

    A SQLite connection is a file handle, cheap to keep; checking one out of the pool and back
    for every command cost more than a transition's own statements. The price: a connection per
    thread that ever ran a command, so a server that churns threads should close the store.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._held: list[Any] = []
        self._held_lock = threading.Lock()

    def get(self) -> Any:
        held = getattr(self._local, "raw", None)
        if held is not None:
            return held
        raw = self.engine.raw_connection()
        raw.detach()  # ours now: the pool neither resets nor counts it
        self._local.raw = raw.dbapi_connection
        with self._held_lock:
            self._held.append(self._local.raw)
        return self._local.raw

    def put(self, raw: Any) -> None:
        """The connection stays with its thread."""

    def lost(self, raw: Any, exc: BaseException) -> None:
        """A driver error: the file is still there, so the connection is kept."""

    def close(self) -> None:
        """Close every thread's connection."""
        with self._held_lock:
            held, self._held = self._held, []
        for conn in held:
            with suppress(Exception):
                conn.close()
        self._local = threading.local()


class SqliteTransaction(SqlTransaction):
    """A transaction on SQLite: ``BEGIN IMMEDIATE`` for writers, plain ``BEGIN`` for readers."""

    # BEGIN IMMEDIATE holds the only write lock: the due timers need no row locks
    CLAIM_DUE = "claim_due_all"

    def _begin(self, write: bool) -> None:
        self.cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _end(self, commit: bool) -> None:
        self.cur.execute("COMMIT" if commit else "ROLLBACK")

    def _rollback(self) -> None:
        with suppress(Exception):  # the connection may be unusable
            self.cur.execute("ROLLBACK")

    def append_events(self, events: Sequence[NewEvent]) -> None:
        if events:  # the rowid is the seq (one writer at a time: rowid order is commit order)
            self._run_many("insert_event_rowid", [rows.event_row(self.c, e) for e in events])
