"""Several daemon processes, and a daemon killed mid-run, on one PostgreSQL database.

Each test prepares ~300 complaints with ``build(...)`` and a ManualClock (received over March
2026, every other one accepted), so that at ``NOW`` several hundred deadline rungs are due; the
rungs expected due are read from the cases' own deadlines. Then OS processes tick the database
at ``NOW`` and the test checks, in the database, that every expected (case, deadline, rung) is in
``kntc_fired_rungs`` exactly once and has exactly one ``deadline.warning``/``deadline.overdue``
event, and nothing else fired.

PostgreSQL only: this is the store several daemons share (claims use ``FOR UPDATE SKIP
LOCKED``). SQLite serialises daemons with ``BEGIN IMMEDIATE`` and is not exercised here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.faults_backlog import make_backlog
from tests.integration.together import finish, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("kntc")  # the interpreter's own console script, else the module
KNTC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "adapters.cli"]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
NOW = datetime(2026, 4, 14, 12, 0, tzinfo=TZ)
CASES = 300
Rung = tuple[str, str, int]
DEADLINE_EVENTS = "SELECT count(*) FROM kntc_events WHERE type IN ('deadline.warning', 'deadline.overdue')"

# A daemon as a script: build, optionally wait for a go signal, tick NOW until nothing is claimed,
# print how many rungs it fired. With DIE_AFTER=k it SIGKILLs itself inside its k-th write
# transaction, after the batch's work and before the commit.
DAEMON = r"""
import logging, os, signal, sys, time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from adapters.bootstrap import build

now, batch, ready, go, die_after = (datetime.fromisoformat(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                    sys.argv[4], int(sys.argv[5]))
from adapters.config import load_settings
shipped = load_settings("config.yaml")  # what the test counts: rungs only (no period, groups or rules)
bare = shipped.model_copy(update={"periods": [], "grouping": shipped.grouping.model_copy(update={"enabled": False}),
                                  "escalation": shipped.escalation.model_copy(update={"rules": []})})
engine = build(bare, database_url=os.environ["KNTC_DATABASE_URL"])
engine.runtime.tick_batch = batch
if die_after:
    real, commits = engine.runtime.store.transaction, [0]

    @contextmanager
    def transaction():
        with real() as tx:
            yield tx
            commits[0] += 1
            if commits[0] == die_after:
                os.kill(os.getpid(), signal.SIGKILL)

    engine.runtime.store.transaction = transaction
if ready != "-":
    Path(ready).touch()
if go != "-":
    limit = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > limit:
            sys.exit("no go signal")
        time.sleep(0.002)
fired = 0
while True:
    report = engine.tick(now)
    fired += report.fired
    if report.claimed == 0:
        break
print(fired)
"""


# ----------------------------------------------------------------------------- helpers


@pytest.fixture
def backlog(pg_url: str, settings: Settings) -> Iterator[tuple[Engine, set[Rung]]]:
    """~300 complaints on pg_url with many rungs due at NOW; the engine and the rungs expected due."""
    clock = ManualClock(START)
    engine = build(settings, database_url=pg_url, clock=clock)
    expected = make_backlog(engine, clock, CASES)
    assert len(expected) < 3 * CASES  # many due, not all: some rungs lie after NOW
    try:
        yield engine, expected
    finally:
        engine.runtime.store.engine.dispose()  # type: ignore[attr-defined]


def plain(url: str) -> str:
    """The URL for psycopg itself."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def child_env(url: str) -> dict[str, str]:
    """The environment of a daemon process on ``url``."""
    return {**os.environ, "KNTC_DATABASE_URL": url}


def daemon(url: str, *, batch: int, ready: Path | None = None, go: Path | None = None,
           die_after: int = 0) -> subprocess.Popen[str]:
    """Start the DAEMON script on ``url`` (cwd: the project, so config.yaml is found)."""
    args = [NOW.isoformat(), str(batch), str(ready or "-"), str(go or "-"), str(die_after)]
    return subprocess.Popen([sys.executable, "-c", DAEMON, *args], cwd=ROOT, env=child_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def scalar(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value from the test's schema."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return row[0]


def assert_fired_exactly_once(url: str, expected: set[Rung]) -> None:
    """Every expected rung is marked once and has one deadline event; nothing else fired; no gap, no timer left."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        marks = conn.execute("SELECT case_id, deadline, cycle, rung FROM kntc_fired_rungs").fetchall()
        events = conn.execute(
            "SELECT case_id, data->>'deadline', (data->>'rung')::int FROM kntc_events"
            " WHERE type IN ('deadline.warning', 'deadline.overdue')").fetchall()
        count, first, last = conn.execute("SELECT count(*), min(seq), max(seq) FROM kntc_events").fetchone()  # type: ignore[misc]
        pending = conn.execute("SELECT count(*) FROM kntc_deadlines WHERE next_fire_at <= %s", (NOW,)).fetchone()
    assert {cycle for _, _, cycle, _ in marks} == {0}
    marked = Counter((case_id, deadline, rung) for case_id, deadline, _, rung in marks)
    assert {k: n for k, n in marked.items() if n > 1} == {}
    assert set(marked) - expected == set(), "rungs fired that were not due"
    assert expected - set(marked) == set(), "due rungs never fired"
    emitted = Counter((case_id, deadline, rung) for case_id, deadline, rung in events)
    assert {k: n for k, n in emitted.items() if n > 1} == {}, "duplicate deadline events"
    assert set(emitted) == expected
    assert (first, last) == (1, count), "the feed has a gap"
    assert pending == (0,), "due timers left unclaimed"


# ----------------------------------------------------------------------------- several daemons


def test_four_concurrent_daemons_fire_every_due_rung_exactly_once(
        pg_url: str, backlog: tuple[Engine, set[Rung]], settings: Settings, tmp_path: Path) -> None:
    """Two `kntc daemon --once --now` processes and two tick loops, run together, fire each due rung once.

    Every daemon claims 5 rows per transaction (the CLI through a copy of the shipped config with
    ``escalation.batch_size`` 5): with the default 500 the first daemon claims the whole backlog
    in one transaction and the others find nothing to contend for. The two script daemons start
    ticking together (a go file); the CLI daemons start as soon as they are up.
    """
    _, expected = backlog
    config = tmp_path / "config.yaml"  # JSON is YAML; workflows_dir made absolute, the database from the env
    data = settings.model_dump(mode="json")
    data["workflows_dir"] = str(settings.workflows_path())
    data["escalation"]["batch_size"] = 5
    config.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    scripts = [daemon(pg_url, batch=5, ready=r, go=go) for r in ready]
    command = [*KNTC, "--config", str(config), "daemon", "--once", "--now", NOW.isoformat()]
    clis = [subprocess.Popen(command, cwd=ROOT, env=child_env(pg_url), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        wait_for(lambda: all(r.exists() for r in ready) or any(p.poll() is not None for p in scripts),
                 "the script daemons to start", 60)
    finally:
        go.touch()
    outputs = finish([*scripts, *clis], 120)
    reported = []
    for proc, (out, err) in zip([*scripts, *clis], outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
        match = re.search(r"fired (\d+)", out) if proc in clis else re.fullmatch(r"(\d+)\n", out)
        assert match, out
        reported.append(int(match.group(1)))
    assert sum(reported) == len(expected), reported
    assert_fired_exactly_once(pg_url, expected)


# ----------------------------------------------------------------------------- crashes


def backends_gone(url: str, application: str) -> bool:
    """Whether the server has dropped every connection of ``application`` (and with it, its locks)."""
    return scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application,)) == 0


def test_crashed_daemons_leave_nothing_half_done(pg_url: str, backlog: tuple[Engine, set[Rung]]) -> None:
    """A daemon dying before a commit and one SIGKILLed mid-run lose nothing: a final tick fires each due rung once."""
    engine, expected = backlog
    # 1. dies inside its 4th batch, after marking and writing 5 rungs but before committing them
    application = f"kntc_crash_{uuid.uuid4().hex[:8]}"
    proc = daemon(f"{pg_url}&application_name={application}", batch=5, die_after=4)
    ((_, err),) = finish([proc], 120)
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    wait_for(lambda: backends_gone(pg_url, application), "the killed daemon's connections to close", timeout=30)
    assert scalar(pg_url, "SELECT count(*) FROM kntc_fired_rungs") == 3 * 5  # three batches committed
    assert scalar(pg_url, DEADLINE_EVENTS) == 3 * 5
    # 2. SIGKILLed from outside once it has made progress of its own
    application = f"kntc_crash_{uuid.uuid4().hex[:8]}"
    proc = daemon(f"{pg_url}&application_name={application}", batch=5)
    try:
        wait_for(lambda: proc.poll() is not None or scalar(pg_url, DEADLINE_EVENTS) > 3 * 5,
                 "the second daemon's first events", 60)
        assert proc.poll() is None, "the daemon finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        finish([proc], timeout=30)
    assert proc.returncode == -signal.SIGKILL
    wait_for(lambda: backends_gone(pg_url, application), "the killed daemon's connections to close", timeout=30)
    done = scalar(pg_url, "SELECT count(*) FROM kntc_fired_rungs")
    assert 3 * 5 < done < len(expected), "the kill did not land in the middle of the backlog"
    assert scalar(pg_url, DEADLINE_EVENTS) == done
    # 3. a tick in this process finishes the backlog
    report = engine.tick(NOW)
    assert report.fired == len(expected) - done
    assert_fired_exactly_once(pg_url, expected)
