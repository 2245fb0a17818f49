"""The schema the models describe (``adapters/sql/tables.py``) is the one the migrations build.

The store's statements are built from the models, while a database gets its schema from the
Alembic migrations: if the two drifted apart, a statement could name a column the database lacks,
or ``alembic revision --autogenerate`` would propose changes nobody asked for. After the next
migration (0002) lands with its model changes, these tests keep the pair honest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from adapters.sql.migrate import current_revision, head_revision, upgrade
from adapters.sql.store import make_sql_engine
from adapters.sql.tables import feed_counter, metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    url = f"sqlite:///{tmp_path / 'kntc.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_sql_engine(url)
    yield engine
    engine.dispose()


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, keys and indexes, as the database reports them."""
    found = inspect(engine)
    return {name: {"columns": [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)],
                   "primary_key": found.get_pk_constraint(name)["constrained_columns"],
                   "indexes": sorted((i["name"] or "", tuple(i["column_names"])) for i in found.get_indexes(name))}
            for name in sorted(found.get_table_names())}


def test_migrations_build_the_schema_the_models_describe(sql_engine: Engine) -> None:
    """A database migrated to head has exactly the tables, columns and indexes the store's statements expect."""
    upgrade(sql_engine)
    with sql_engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), metadata)
    assert drift == []


def test_upgrading_twice_changes_nothing(sql_engine: Engine) -> None:
    """Running ``kntc db upgrade`` (or ``build(auto_migrate=True)``) on an up-to-date database is harmless."""
    upgrade(sql_engine)
    revision, schema = current_revision(sql_engine), _schema(sql_engine)
    with sql_engine.connect() as conn:
        counters = conn.execute(select(feed_counter)).fetchall()
    upgrade(sql_engine)
    assert revision == head_revision()
    assert current_revision(sql_engine) == revision
    assert _schema(sql_engine) == schema
    assert "kntc_cases" in schema
    with sql_engine.connect() as conn:
        assert conn.execute(select(feed_counter)).fetchall() == counters == [(1, 0)]
