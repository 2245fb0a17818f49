"""The store port over SQLite (file, WAL, one writer) and PostgreSQL: sessions and connections.

SQLAlchemy Core describes the schema (``tables.py``) and builds every statement once
(``statements.py``); each is compiled once per dialect and executed straight on the DBAPI cursor,
with values converted by ``rows.py``. A command then spends its time in the database: going
through SQLAlchemy's execution layer cost ~10x the driver's own time per statement here (see
``bench/RESULTS.md``). SQLAlchemy still provides PostgreSQL's pool, the dialects and the migrations.

A SQLite file is opened with the stdlib ``sqlite3`` and its compiled statements are read from
the cache folder (``compiled.py``), so a command on a current SQLite database never imports
SQLAlchemy (≈ 0.2 s of a ≈ 0.76 s ``kntc events``). :attr:`SqlStore.engine` is still there, made
on first use (migrations, a cache miss, tests that tamper behind the store's back); once it
exists, new SQLite connections come from it, so its events see every connection opened after.

This module opens a transaction's connection and drives its life cycle; what differs per dialect
lives beside it: ``sqlite.py`` (``BEGIN IMMEDIATE``, rowid seqs, a connection per thread) and
``postgres.py`` (row locks, the feed counter, pipeline mode). Driver errors surface as
:class:`engine.errors.StorageError`, with the driver's exception as the cause, and the
transaction rolled back: a read-only SQLite file, a full disk (``SQLITE_FULL``), a lost
PostgreSQL connection all change nothing.

Faults (``tests/integration/test_faults_*.py``): on PostgreSQL a transaction whose connection
proves dead at its *first* statement is retried once, on a fresh connection, transparently
(see ``postgres.py``); any later failure, a failed ``COMMIT`` above all (it may have committed),
is not retried but raised, and the broken connection is dropped from the pool, so the next
command connects afresh. SQLite has no connection to lose.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import adapters.sql.sqlite as sqlite
from adapters.secrets import Cipher, LazyCipher, load_cipher
from adapters.sql.compiled import Compiled, cached_statements
from adapters.sql.rows import Codec
from adapters.sql.transaction import Prepared, SqlTransaction
from engine.errors import StorageError
from engine.logs import get_logger

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["SqlStore", "SqlTransaction", "make_sql_engine"]

log = get_logger("store")

# Alembic's own table (one row, no parameters): the schema check reads it before anything else
_REVISION_SQL = "SELECT version_num FROM alembic_version"


def make_sql_engine(url: str, *, echo: bool = False, sqlite_synchronous: str = "normal") -> Engine:
    """A SQLAlchemy engine (pool, dialect) set up for kntc; SQLite runs in WAL mode."""
    if url.startswith("sqlite"):
        return sqlite.make_engine(url, echo=echo, synchronous=sqlite_synchronous)
    import adapters.sql.postgres as postgres
    return postgres.make_engine(url, echo=echo)


class _Connections(Protocol):
    """Where a store's transactions get their DBAPI connection (``sqlite.py``, ``postgres.py``)."""

    def get(self) -> Any: ...

    def put(self, raw: Any) -> None: ...

    def lost(self, raw: Any, exc: BaseException) -> None: ...

    def close(self) -> None: ...


class SqlStore:
    """The store port over a database URL (or a SQLAlchemy engine already made for one).

    ``cipher`` seals the parties at rest; by default the one :func:`adapters.secrets.load_cipher`
    finds for this database (``KNTC_SECRET_KEY``, a SQLite file's key file), loaded at first use.
    """

    def __init__(self, target: str | Engine, *, cipher: Cipher | None = None,
                 sqlite_synchronous: str = "normal") -> None:
        self._synchronous = sqlite_synchronous  # config.yaml sqlite_synchronous (adapters/sql/sqlite.py)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        if isinstance(target, str):
            self.url = target
            self.postgres = not target.startswith("sqlite")
            # a plain file: stdlib connections (anything else goes through SQLAlchemy's URL handling)
            self._path = None if self.postgres else sqlite.file_path(target)
        else:
            self._engine = target
            self.url = target.url.render_as_string(hide_password=False)
            self.postgres = target.dialect.name == "postgresql"
            self._path = None
        self.codec = Codec(self.postgres)
        self.cipher: Cipher = cipher or LazyCipher(self._load_cipher)
        self._transaction: type[SqlTransaction]
        self._connections: _Connections
        self.dbapi: Any
        if self.postgres:
            import adapters.sql.postgres as postgres
            self.dbapi = self.engine.dialect.dbapi
            self._transaction, self._connections = postgres.PostgresTransaction, postgres.PooledConnections(self.engine)
        else:
            self.dbapi = sqlite3
            self._transaction, self._connections = sqlite.SqliteTransaction, sqlite.ThreadConnections(self._open)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of this store's URL, made on first use (PostgreSQL's: at once)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = make_sql_engine(self.url, sqlite_synchronous=self._synchronous)
        return self._engine

    @cached_property
    def compiled(self) -> dict[str, Compiled]:
        """Every statement compiled for this store's dialect, by name (SQLite's from the cache folder)."""
        if self.postgres:
            from adapters.sql.statements import compile_statements
            return compile_statements(self.engine)
        return cached_statements("sqlite", self._compile_sqlite)

    def _compile_sqlite(self) -> dict[str, Compiled]:
        """A cache miss: SQLAlchemy compiles the statements for this store's SQLite dialect."""
        from adapters.sql.statements import compile_statements
        return compile_statements(self.engine)

    @cached_property
    def _prepared(self) -> Prepared:
        return Prepared(self.compiled, self.codec, self.dbapi, self.cipher)

    def _load_cipher(self) -> Cipher:
        """This database's cipher (see :mod:`adapters.secrets`): its SQLite file names the key file."""
        path = self._path
        if path is None and not self.postgres:
            path = self.engine.url.database
        return load_cipher(postgres=self.postgres, sqlite_path=path)

    def _open(self) -> Any:
        """A new SQLite connection for a thread: stdlib for a file, unless the engine exists (see module doc)."""
        if self._path is not None and self._engine is None:
            return sqlite.connect(self._path, synchronous=self._synchronous)
        raw = self.engine.raw_connection()
        raw.detach()  # ours now: the pool neither resets nor counts it
        return raw.dbapi_connection

    def schema_revision(self) -> str | None:
        """The schema revision recorded in the database (None: no schema yet), in one cheap read.

        Raises the driver's (or SQLAlchemy's) error when the database cannot be read.
        """
        if not self.postgres and self._path is not None and self._engine is None:
            try:
                found = self._connections.get().execute(_REVISION_SQL).fetchall()
            except sqlite3.OperationalError as exc:
                if "alembic_version" in str(exc):  # a new database: no table yet
                    return None
                raise
        else:
            from sqlalchemy.exc import DBAPIError
            try:
                with self.engine.connect() as conn:
                    found = list(conn.exec_driver_sql(_REVISION_SQL).fetchall())
            except DBAPIError as exc:
                if "alembic_version" in str(exc):
                    return None
                raise
        return str(found[0][0]) if len(found) == 1 else None

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
        tx = self._transaction(self._prepared, raw, raw.cursor())
        if self.postgres:
            import adapters.sql.postgres as postgres
            assert isinstance(tx, postgres.PostgresTransaction)
            tx.reconnect = lambda exc: self._replace(tx, exc)
        try:
            tx._begin(write)
            yield tx
            tx._finish()
            tx._end(commit=write)
            tx._end_pipeline()
        except self.dbapi.Error as exc:
            tx._end_pipeline()
            tx._rollback()
            self._connections.lost(tx.raw, exc)
            raise StorageError(f"database error: {_first_line(exc)}") from exc
        except BaseException:
            tx._end_pipeline()
            tx._rollback()
            raise
        finally:
            with suppress(Exception):  # a lost connection's cursor may refuse
                tx.cur.close()
            self._connections.put(tx.raw)

    def _replace(self, tx: SqlTransaction, exc: BaseException) -> tuple[Any, Any]:
        """Drop ``tx``'s broken connection; a fresh one and its cursor (PostgreSQL's retry at the start)."""
        with suppress(Exception):
            tx.cur.close()
        self._connections.lost(tx.raw, exc)
        self._connections.put(tx.raw)
        log.warning("store_reconnected", error=type(exc).__name__)
        raw = self._connection()
        return raw, raw.cursor()

    def _connection(self) -> Any:
        try:
            return self._connections.get()
        except Exception as exc:
            raise StorageError(f"cannot connect to the database: {_first_line(exc)}") from exc

    def close(self) -> None:
        """Close every connection (pooled, and the ones SQLite threads hold); the store may be used again."""
        self._connections.close()
        if self._engine is not None:
            self._engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
