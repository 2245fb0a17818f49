"""Shared fixtures: a manual clock, and engines over each store (memory, SQLite, PostgreSQL).

PostgreSQL tests run when ``KNTC_TEST_DATABASE_URL`` points at a reachable server (CI sets it);
each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

from adapters.config import Settings
from engine.testing import ManualClock, memory_engine

ROOT = Path(__file__).resolve().parent.parent

# CI (.ci/run sets KNTC_REQUIRE_POSTGRES) runs the hypothesis tests with a seed derived from each
# test, so a landing is not decided by the draw; a run elsewhere draws afresh and keeps looking.
if os.environ.get("KNTC_REQUIRE_POSTGRES"):
    hypothesis_settings.register_profile("ci", derandomize=True)
    hypothesis_settings.load_profile("ci")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.pop("KNTC_DATABASE_URL", None)  # tests choose their database explicitly
    os.environ.pop("KNTC_CONFIG", None)
    # a fixed Fernet key for the tests' parties (adapters/secrets.py): PostgreSQL refuses to store an
    # identity without one, SQLite would write a key file beside each database; tests of those set
    # or remove the variable themselves. Never a production key.
    os.environ.setdefault("KNTC_SECRET_KEY", "qZQYI0Rl0sNEtcFloTjZsuILoT8Fa0hXys0mBKTe3FE=")
    # compiled definitions are cached by content hash (adapters/definition_cache.py), shared by the
    # workers and the CLI subprocesses, away from the user's own cache; engine.testing memoises a
    # folder while its files are unchanged, so no loader needs patching
    os.environ.setdefault("KNTC_CACHE_DIR", str(Path(tempfile.gettempdir()) / "kntc-test-definitions"))


@pytest.fixture
def clock() -> ManualClock:
    """A clock at Monday 2 March 2026, 09:00 in Hà Nội."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))


@pytest.fixture
def settings() -> Settings:
    """The shipped config.yaml without what reacts on its own: no period, groups, rules, roster or month check.

    Most tests count the events and rungs a command makes; the election period of 2026 (in force
    at the fixtures' 02/03/2026), hot-spot detection and the shipped escalation rules would add
    theirs. Their own tests switch them on (tests/integration/test_periods.py, test_groups.py,
    test_escalation.py, test_election_escalation.py); :func:`shipped_settings` is the file as is.
    """
    shipped = shipped_settings()
    return shipped.model_copy(update={
        "periods": [], "grouping": shipped.grouping.model_copy(update={"enabled": False}),
        "escalation": shipped.escalation.model_copy(update={"rules": []}),
        "roster": shipped.roster.model_copy(update={"check": False}),
        "reception": shipped.reception.model_copy(update={"month_check": False})})


def shipped_settings() -> Settings:
    """The shipped config.yaml as it is."""
    from adapters.config import load_settings
    return load_settings(ROOT / "config.yaml")


def postgres_url() -> str | None:
    """The PostgreSQL test server, or None (with the reason in :data:`PG_SKIP_REASON`)."""
    return os.environ.get("KNTC_TEST_DATABASE_URL")


def _skip_or_fail(reason: str) -> None:
    """Skip locally; in CI (KNTC_REQUIRE_POSTGRES=1) a missing server is a failure."""
    if os.environ.get("KNTC_REQUIRE_POSTGRES"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own (dropped afterwards)."""
    base = postgres_url()
    if not base:
        _skip_or_fail("PostgreSQL tests need KNTC_TEST_DATABASE_URL (CI sets it; e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test)")
    import psycopg
    schema = f"kntc_t_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')  # schema name is generated above, not user input
    except psycopg.OperationalError as exc:
        _skip_or_fail(f"PostgreSQL at KNTC_TEST_DATABASE_URL is not reachable: {str(exc).splitlines()[0]}")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, clock: ManualClock, settings: Settings, tmp_path: Path):
    """An Engine with the shipped workflows over each store."""
    if request.param == "memory":
        yield memory_engine(clock, ROOT / "workflows")
        return
    from adapters.bootstrap import build
    url = f"sqlite:///{tmp_path / 'kntc.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    eng = build(settings, database_url=url, clock=clock)
    yield eng
    eng.close()
