"""SQLite storage faults: a read-only file and a full disk give StorageError and change nothing.

A full disk is simulated with ``PRAGMA max_page_count`` on the engine's own connection (the
database may not grow past its current pages: SQLite answers ``SQLITE_FULL`` exactly as on a full
disk); a read-only database with ``PRAGMA query_only`` (``SQLITE_READONLY``, as for a read-only
file: the tests may run as root, for whom ``chmod 0444`` forbids nothing). After each fault
the tables are compared whole with before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine import StorageError
from engine.service import Engine
from engine.testing import ManualClock

TABLES = ("kntc_cases", "kntc_parties", "kntc_history", "kntc_events", "kntc_deadlines", "kntc_fired_rungs")


def snapshot(path: Path) -> dict[str, list[Any]]:
    """Every row of the tables a command writes, read behind the engine's back."""
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def open_one(eng: Engine, clock: ManualClock, n: int = 0) -> str:
    """A new complaint: its id."""
    petitioner = {"name": f"Người {n}", "address": "x" * 400}
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[petitioner],
                         respondent="UBND huyện", subject=f"Đơn số {n}")
    return case.id


def test_a_full_disk_fails_the_command_whole_and_the_engine_recovers(
        tmp_path: Path, settings: Settings, clock: ManualClock) -> None:
    """SQLITE_FULL: StorageError, not one row of the case (parties, history, feed, timers); works once space is back."""
    path = tmp_path / "kntc.db"
    eng = build(settings, database_url=f"sqlite:///{path}", clock=clock)
    try:
        first = open_one(eng, clock)
        conn = eng.runtime.store._connections.get()  # type: ignore[attr-defined]  # this thread's connection
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        failed = None
        for n in range(1, 500):  # fill the free space left in the last pages, then fail
            before = snapshot(path)
            try:
                open_one(eng, clock, n)
            except StorageError as exc:
                failed = exc
                break
        assert failed is not None, "the database never filled up"
        assert "full" in str(failed)
        assert snapshot(path) == before  # nothing half-written
        assert eng.get(first).version == 1  # reads still work
        conn.execute(f"PRAGMA max_page_count = {2**30}")  # space is back
        again = open_one(eng, clock, 999)
        assert eng.get(again).version == 1
        assert eng.verify_audit().ok
    finally:
        eng.close()


def test_a_read_only_database_refuses_writes_and_changes_nothing(
        tmp_path: Path, settings: Settings, clock: ManualClock) -> None:
    """Read-only: open_case and fire raise StorageError naming it; reads work; no row changes; writable after."""
    path = tmp_path / "kntc.db"
    eng = build(settings, database_url=f"sqlite:///{path}", clock=clock)
    try:
        case_id = open_one(eng, clock)
        before = snapshot(path)
        conn = eng.runtime.store._connections.get()  # type: ignore[attr-defined]  # this thread's connection
        conn.execute("PRAGMA query_only = ON")  # SQLITE_READONLY on every write, as for a read-only file
        assert eng.get(case_id).version == 1
        with pytest.raises(StorageError, match="readonly"):
            open_one(eng, clock, 1)
        with pytest.raises(StorageError, match="readonly"):
            eng.fire(case_id, "accept", actor="cb01", role="inspector", expected_version=1)
        assert snapshot(path) == before
        conn.execute("PRAGMA query_only = OFF")
        assert eng.fire(case_id, "accept", actor="cb01", role="inspector", expected_version=1).version == 2
        assert eng.verify_audit().ok
    finally:
        eng.close()
