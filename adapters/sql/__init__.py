"""SQLAlchemy 2.x store for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from adapters.sql.store import SqlStore, make_sql_engine

__all__ = ["SqlStore", "make_sql_engine"]
