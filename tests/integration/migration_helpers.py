"""Scaffolding of the migration tests: a database at an older revision, written in that revision's columns.

A migration test builds the schema of an old revision (``at_revision``), writes rows with SQLAlchemy Core in
that revision's column names (``old_tables``: lightweight tables of just those columns), upgrades to head and
compares the rows column for column (``old_rows``). The fixtures ``url`` (an empty database, SQLite and
PostgreSQL) and ``sql`` (an engine on it) are in tests/integration/conftest.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from adapters.sql.migrate import current_revision, upgrade

#: a JSON column as kntc stores it (JSONB on PostgreSQL)
JSON: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: an aware moment column
MOMENT = sa.DateTime(timezone=True)


def utc(moment: datetime) -> datetime:
    """A moment as kntc stores it: in UTC (SQLite keeps the UTC wall time)."""
    return moment.astimezone(UTC)


def old_tables(columns: Mapping[str, tuple[str, ...]], types: Mapping[str, Any]) -> dict[str, sa.TableClause]:
    """Tables of an old revision with just ``columns`` (a column's type from ``types``, else a string)."""
    return {name: sa.table(name, *(sa.column(c, types.get(c, sa.String)) for c in cols))
            for name, cols in columns.items()}


def old_rows(sql: sa.Engine, tables: Mapping[str, sa.TableClause]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``tables``, in their old columns, sorted."""
    with sql.connect() as conn:
        return {name: sorted((tuple(r) for r in conn.execute(sa.select(table))), key=repr)
                for name, table in tables.items()}


def at_revision(sql: sa.Engine, revision: str) -> None:
    """Build the schema of ``revision`` on the empty database ``sql``."""
    upgrade(sql, revision)
    assert current_revision(sql) == revision
