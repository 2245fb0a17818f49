"""PostgreSQL connection faults: a dropped idle connection costs no command (adapters/sql/postgres.py)."""

from __future__ import annotations

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.testing import ManualClock


@pytest.mark.postgres
def test_a_killed_connection_is_replaced(pg_url: str, settings: Settings, clock: ManualClock) -> None:
    """After the server drops kntc's connection, the next command works (retried once at its first statement)."""
    eng = build(settings, database_url=f"{pg_url}&application_name=kntc_fault_probe", clock=clock)
    try:
        case = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": "A"}],
                             respondent="R", subject="S")
        plain = pg_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'kntc_fault_probe'")
        assert eng.get(case.id).id == case.id  # retried once at its first statement, on a fresh connection
        assert eng.fire(case.id, "classify", actor="cb01", role="clerk").version == 2
    finally:
        eng.close()
