"""The store port over SQLite (file, WAL, one writer) and PostgreSQL: sessions and connections.

SQLAlchemy Core describes the schema (``tables.py``) and builds every statement once
(``statements.py``); each is compiled once per dialect and executed straight on the DBAPI cursor,
with values converted by ``rows.py``. A command then spends its time in the database: going
through SQLAlchemy's execution layer cost ~10x the driver's own time per statement here (see
``bench/RESULTS.md``). SQLAlchemy still provides the pool, the dialects and the migrations.

This module opens a transaction's connection and drives its life cycle; what differs per dialect
lives beside it: ``sqlite.py`` (``BEGIN IMMEDIATE``, rowid seqs, a connection per thread) and
``postgres.py`` (row locks, the feed counter, pipeline mode). Driver errors surface as
:class:`engine.errors.StorageError`, with the driver's exception as the cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine

import adapters.sql.postgres as postgres
import adapters.sql.sqlite as sqlite
from adapters.sql.rows import Codec
from adapters.sql.statements import compile_statements
from adapters.sql.transaction import Prepared, SqlTransaction
from engine.errors import StorageError

__all__ = ["SqlStore", "SqlTransaction", "make_sql_engine"]


def make_sql_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine (pool, dialect) set up for kntc; SQLite runs in WAL mode."""
    if url.startswith("sqlite"):
        return sqlite.make_engine(url, echo=echo)
    return postgres.make_engine(url, echo=echo)


class _Connections(Protocol):
    """Where a store's transactions get their DBAPI connection (``sqlite.py``, ``postgres.py``)."""

    def get(self) -> Any: ...

    def put(self, raw: Any) -> None: ...

    def lost(self, raw: Any, exc: BaseException) -> None: ...

    def close(self) -> None: ...


class SqlStore:
    """The store port over a SQLAlchemy engine's pool and dialect."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.dbapi: Any = engine.dialect.dbapi
        self.codec = Codec(self.postgres)
        self.compiled = compile_statements(engine)
        self._prepared = Prepared(self.compiled, self.codec, self.dbapi)
        self._transaction: type[SqlTransaction]
        self._connections: _Connections
        if self.postgres:
            self._transaction, self._connections = postgres.PostgresTransaction, postgres.PooledConnections(engine)
        else:
            self._transaction, self._connections = sqlite.SqliteTransaction, sqlite.ThreadConnections(engine)

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
        tx = self._transaction(self._prepared, raw, cursor)
        try:
            tx._begin(write)
            yield tx
            tx._finish()
            tx._end(commit=write)
            tx._end_pipeline()
        except self.dbapi.Error as exc:
            tx._end_pipeline()
            tx._rollback()
            self._connections.lost(raw, exc)
            raise StorageError(f"database error: {_first_line(exc)}") from exc
        except BaseException:
            tx._end_pipeline()
            tx._rollback()
            raise
        finally:
            cursor.close()
            self._connections.put(raw)

    def _connection(self) -> Any:
        try:
            return self._connections.get()
        except Exception as exc:
            raise StorageError(f"cannot connect to the database: {_first_line(exc)}") from exc

    def close(self) -> None:
        """Close every connection (pooled, and the ones SQLite threads hold)."""
        self._connections.close()
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
