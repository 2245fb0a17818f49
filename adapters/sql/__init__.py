"""The SQL store for SQLite (embedded default) and PostgreSQL (production), SQLAlchemy 2.x Core.

Modules: ``tables`` (the schema), ``columns`` (its column names, without SQLAlchemy),
``statements`` (every SQL statement, by name), ``compiled`` (statements compiled, and SQLite's
cached on disk), ``rows`` (records <-> rows), ``transaction`` with ``sqlite`` and ``postgres`` (the port per dialect),
``store`` (sessions and connections), ``migrate`` (Alembic). The modules import one another,
never this package's names, so there is no import cycle through this file.
"""

from __future__ import annotations

from adapters.sql.store import SqlStore, SqlTransaction, make_sql_engine

__all__ = ["SqlStore", "SqlTransaction", "make_sql_engine"]
