"""Fixtures of the integration tests: an empty database of each kind for the migration tests.

A migration test (tests/integration/test_migration_*.py, test_back_entry_migration.py) asks for ``sql`` (a
SQLAlchemy engine on an empty database) and ``url`` (its URL, for kntc's own store on the same database); both
run once on a SQLite file and once on a fresh PostgreSQL schema. Their helpers are in migration_helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sql.store import make_sql_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kntc.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sql(url: str) -> Iterator[sa.Engine]:
    """A SQLAlchemy engine on ``url``."""
    engine = make_sql_engine(url)
    yield engine
    engine.dispose()
