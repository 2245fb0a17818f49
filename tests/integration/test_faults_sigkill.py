"""A daemon SIGKILLed mid-tick and restarted loses and repeats nothing, on a SQLite file and on PostgreSQL.

The daemon process ticks a backlog of due rungs five at a time; inside its 6th write
transaction (the batch fired, not committed) it touches a marker file and waits. The test
SIGKILLs it there, from outside, checks that exactly the five committed batches are in the
database, restarts a daemon that runs to the end, and checks every due rung fired exactly once
overall, with one feed event, and every case's history chain whole.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.sql.store import make_sql_engine
from engine.testing import ManualClock
from tests.integration.faults_backlog import (
    START,
    assert_fired_exactly_once,
    daemon,
    deadline_events,
    fired_marks,
    make_backlog,
    write_config,
)
from tests.integration.together import finish, wait_for

pytestmark = pytest.mark.slow

CASES = 120
BATCH = 5
HOLD_AT = 6  # killed inside its 6th transaction: 5 committed before


def backends(url: str, application: str) -> int:
    """How many connections ``application`` still has on the server."""
    sql = make_sql_engine(url)
    try:
        with sql.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"),
                                    {"a": application}).scalar_one())
    finally:
        sql.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_daemon_killed_mid_tick_and_restarted_fires_each_rung_once(
        dialect: str, request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> None:
    """SIGKILL inside a batch: the uncommitted batch vanishes whole; the restart fires the rest, each rung once."""
    url = f"sqlite:///{tmp_path / 'kntc.db'}" if dialect == "sqlite" else str(request.getfixturevalue("pg_url"))
    clock = ManualClock(START)
    engine = build(settings, database_url=url, clock=clock)
    try:
        expected = make_backlog(engine, clock, CASES)
        config = write_config(settings, tmp_path)
        application = f"kntc_kill_{uuid.uuid4().hex[:8]}"
        child_url = url if dialect == "sqlite" else f"{url}&application_name={application}"
        marker = tmp_path / "holding"
        proc = daemon(config, child_url, batch=BATCH, hold_at=HOLD_AT, marker=marker)
        try:
            wait_for(lambda: marker.exists() or proc.poll() is not None, "the daemon to reach its 6th batch", 30)
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            finish([proc], timeout=30)
        assert proc.returncode == -signal.SIGKILL
        if dialect == "postgres":  # its locks go with its backend
            wait_for(lambda: backends(url, application) == 0, "the killed daemon's connections to close", 30)
        done = len(fired_marks(url))
        assert done == (HOLD_AT - 1) * BATCH  # the five committed batches, not a rung of the sixth
        assert sum(deadline_events(engine).values()) == done
        again = daemon(config, url, batch=BATCH)
        ((out, err),) = finish([again], 60)
        assert again.returncode == 0, err[-3000:]
        assert int(out) == len(expected) - done  # the restart fired exactly the rest
        assert_fired_exactly_once(engine, url, expected)
    finally:
        engine.close()
