"""PostgreSQL connection faults in one process: retried once before any write, never after.

A transaction whose connection proves dead at its first statement runs again on a fresh one
(nothing of it reached the server); one that fails later, at ``COMMIT`` above all, raises
StorageError and is not retried: the commit may have happened. Each test checks the outcome in
the database (version, history rows, feed events), not only what the call returned.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.sql.postgres import PostgresTransaction
from engine import StorageError
from engine.errors import ConflictError
from engine.service import Engine
from engine.testing import ManualClock

pytestmark = pytest.mark.postgres


def plain(url: str) -> str:
    """The URL for psycopg itself."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def scalar(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value read behind the engine's back."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]


def terminate(url: str, application: str) -> None:
    """Kill every backend of ``application`` and wait (bounded) until the server has dropped them."""
    sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s"
    assert scalar(url, sql, (application,)) >= 1, "no connection to kill"
    limit = time.monotonic() + 10
    left = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    while scalar(url, left, (application,)):
        assert time.monotonic() < limit, "the killed backends did not go away"
        time.sleep(0.01)


@pytest.fixture
def probe(pg_url: str, settings: Settings, clock: ManualClock) -> Iterator[tuple[Engine, str]]:
    """An engine whose connections are named (application_name), and that name."""
    application = f"kntc_fault_{uuid.uuid4().hex[:8]}"
    eng = build(settings, database_url=f"{pg_url}&application_name={application}", clock=clock)
    try:
        yield eng, application
    finally:
        eng.close()


def open_one(eng: Engine, clock: ManualClock) -> str:
    """A new petition (version 1): its id."""
    case = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": "A"}],
                         respondent="R", subject="S")
    return case.id


def history_rows(url: str, case_id: str) -> int:
    return int(scalar(url, "SELECT count(*) FROM kntc_history WHERE case_id = %s", (case_id,)))


def test_a_connection_killed_in_the_pool_costs_no_command(
        pg_url: str, probe: tuple[Engine, str], clock: ManualClock) -> None:
    """Killed while idle: the next read and the next command succeed at once (retried at their first statement)."""
    eng, application = probe
    case_id = open_one(eng, clock)
    terminate(pg_url, application)
    assert eng.get(case_id).version == 1  # a reader: its first statement met the dead connection
    terminate(pg_url, application)
    assert eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1).version == 2
    assert history_rows(pg_url, case_id) == 2  # applied once
    assert eng.verify_audit().ok


def test_a_whole_pool_of_dead_connections_costs_no_command(
        pg_url: str, probe: tuple[Engine, str], clock: ManualClock) -> None:
    """Three idle pooled connections killed (a server restart): the retry does not meet another dead one."""
    eng, application = probe
    case_id = open_one(eng, clock)
    store = eng.runtime.store
    with store.reader(), store.reader(), store.reader():  # three connections, then idle in the pool
        pass
    assert scalar(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)) == 3
    terminate(pg_url, application)
    assert eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1).version == 2
    assert eng.get(case_id).version == 2
    assert history_rows(pg_url, case_id) == 2


def test_a_connection_killed_before_commit_fails_and_changes_nothing(
        pg_url: str, probe: tuple[Engine, str], clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the writes, before COMMIT: StorageError, nothing written, not retried; the next command works."""
    eng, _ = probe
    case_id = open_one(eng, clock)
    real_end = PostgresTransaction._end
    ends: list[bool] = []

    def killed_end(self: PostgresTransaction, commit: bool) -> None:
        ends.append(commit)
        if commit:
            scalar(pg_url, "SELECT pg_terminate_backend(%s)", (self.cur.connection.info.backend_pid,))
        real_end(self, commit)

    monkeypatch.setattr(PostgresTransaction, "_end", killed_end)
    with pytest.raises(StorageError):
        eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1)
    assert ends == [True]  # one COMMIT tried: no retry
    monkeypatch.setattr(PostgresTransaction, "_end", real_end)
    assert scalar(pg_url, "SELECT version FROM kntc_cases WHERE id = %s", (case_id,)) == 1
    assert history_rows(pg_url, case_id) == 1
    assert eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1).version == 2
    assert eng.verify_audit().ok


def test_a_commit_whose_reply_is_lost_is_not_repeated(
        pg_url: str, probe: tuple[Engine, str], clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """COMMIT done, then the connection fails: StorageError, and the command is in the database exactly once."""
    eng, _ = probe
    case_id = open_one(eng, clock)
    events_before = scalar(pg_url, "SELECT count(*) FROM kntc_events")
    real_end = PostgresTransaction._end
    ends: list[bool] = []

    def lost_reply(self: PostgresTransaction, commit: bool) -> None:
        ends.append(commit)
        real_end(self, commit)
        if commit:
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(PostgresTransaction, "_end", lost_reply)
    with pytest.raises(StorageError):
        eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1)
    assert ends == [True]
    monkeypatch.setattr(PostgresTransaction, "_end", real_end)
    assert scalar(pg_url, "SELECT version FROM kntc_cases WHERE id = %s", (case_id,)) == 2
    assert history_rows(pg_url, case_id) == 2  # once, not twice
    assert scalar(pg_url, "SELECT count(*) FROM kntc_events") > events_before
    with pytest.raises(ConflictError):  # the caller's retry with its old version is refused, not doubled
        eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1)
    assert eng.verify_audit().ok


def test_a_server_that_stays_away_still_fails_after_one_retry(
        pg_url: str, probe: tuple[Engine, str], clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry is once: if the fresh connection dies too, the command fails with StorageError, nothing written."""
    eng, _ = probe
    case_id = open_one(eng, clock)
    real_get = PostgresTransaction._get_locked
    calls: list[int] = []

    def dying(self: PostgresTransaction, cid: str) -> Any:
        calls.append(self.cur.connection.info.backend_pid)
        scalar(pg_url, "SELECT pg_terminate_backend(%s)", (calls[-1],))
        limit = time.monotonic() + 10
        while scalar(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (calls[-1],)):
            assert time.monotonic() < limit
            time.sleep(0.01)
        return real_get(self, cid)

    monkeypatch.setattr(PostgresTransaction, "_get_locked", dying)
    with pytest.raises(StorageError):
        eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1)
    assert len(calls) == 2 and calls[0] != calls[1]  # tried twice, on two connections
    monkeypatch.setattr(PostgresTransaction, "_get_locked", real_get)
    assert history_rows(pg_url, case_id) == 1
    assert eng.fire(case_id, "classify", actor="cb01", role="clerk", expected_version=1).version == 2
