"""SQLite specifics: one writer at a time, the rowid as feed seq, a connection per thread.

SQLite is kntc's embedded default (a file in WAL mode). Writers start with ``BEGIN IMMEDIATE``,
which takes the database's single write lock at once: several daemons on one file serialise
there, instead of failing at their first write with ``SQLITE_BUSY``. Because commits are thus
serial, the events' rowid order is commit order and serves as the feed's ``seq`` (PostgreSQL
needs a counter row for that).

A command opens its connection with the stdlib ``sqlite3`` (:func:`connect`), not through
SQLAlchemy, whose import cost ≈ 0.2 s of a CLI command; :func:`make_engine` sets up the
connections SQLAlchemy makes (migrations, tests) with the same :func:`configure`.

``synchronous`` (config.yaml ``sqlite_synchronous``) is ``normal`` by default: in WAL mode a
power failure may lose the last commits, never the file; ``full`` flushes every commit to disk.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import adapters.sql.rows as rows
from adapters.sql.transaction import SqlTransaction
from engine.errors import ConfigError
from engine.model import NewEvent

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["SYNCHRONOUS", "SqliteTransaction", "ThreadConnections", "configure", "connect", "file_path",
           "make_engine"]

#: the ``PRAGMA synchronous`` levels kntc offers (config.yaml ``sqlite_synchronous``)
#: ``sqlite_synchronous`` -> its fixed PRAGMA (nothing from a setting is interpolated into SQL)
_SYNCHRONOUS_PRAGMA = {"normal": "PRAGMA synchronous=NORMAL", "full": "PRAGMA synchronous=FULL"}
SYNCHRONOUS = tuple(_SYNCHRONOUS_PRAGMA)

# what the driver is given, by SQLAlchemy (``connect_args``) and by :func:`connect` alike
_CONNECT_ARGS: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
# ``sqlite:///relative.db``, ``sqlite:////absolute.db`` (optionally ``sqlite+pysqlite``), nothing after
_FILE_URL = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?#%]+)")


def file_path(url: str) -> str | None:
    """The file a plain SQLite URL names, as ``sqlite3.connect`` takes it; None for anything else.

    None (memory databases, query strings, escapes, other drivers) sends the store through a
    SQLAlchemy engine, which reads every URL form the way SQLAlchemy documents it.
    """
    match = _FILE_URL.fullmatch(url)
    if match is None or match["path"] == ":memory:":
        return None
    return match["path"]


def configure(conn: Any, *, wal: bool, synchronous: str = "normal") -> None:
    """Set up a new DBAPI connection: autocommit (kntc issues BEGIN / COMMIT), WAL, ``synchronous``, busy timeout."""
    if synchronous not in _SYNCHRONOUS_PRAGMA:
        raise ConfigError(f"sqlite_synchronous: must be one of {', '.join(SYNCHRONOUS)}, not {synchronous!r}")
    conn.isolation_level = None  # kntc issues BEGIN IMMEDIATE / COMMIT itself
    cursor = conn.cursor()
    if wal:
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(_SYNCHRONOUS_PRAGMA[synchronous])
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(path: str, *, synchronous: str = "normal") -> sqlite3.Connection:
    """A stdlib connection to the database file ``path``, set up as SQLAlchemy's are (:func:`make_engine`)."""
    conn: sqlite3.Connection = sqlite3.connect(path, isolation_level=None, **_CONNECT_ARGS)
    try:
        configure(conn, wal=True, synchronous=synchronous)
    except BaseException:
        conn.close()
        raise
    return conn


def make_engine(url: str, *, echo: bool = False, synchronous: str = "normal") -> Engine:
    """A SQLAlchemy engine for a SQLite URL: WAL (for files), ``synchronous`` (NORMAL), 30 s busy timeout."""
    from sqlalchemy import create_engine, event

    # kntc ends every transaction itself (COMMIT or ROLLBACK), so the pool need not reset on return
    engine = create_engine(url, echo=echo, pool_reset_on_return=None, connect_args=dict(_CONNECT_ARGS))
    wal = ":memory:" not in url and url not in ("sqlite://", "sqlite:///")

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        configure(dbapi_connection, wal=wal, synchronous=synchronous)

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

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._open = opener  # a new DBAPI connection, the store's to keep
        self._local = threading.local()
        self._held: list[Any] = []
        self._held_lock = threading.Lock()

    def get(self) -> Any:
        held = getattr(self._local, "raw", None)
        if held is not None:
            return held
        self._local.raw = self._open()
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
