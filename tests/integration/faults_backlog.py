"""Helpers of the process fault tests (test_faults_sigkill.py, test_faults_postgres_processes.py).

A backlog: complaints received over March 2026 (every other one accepted), so that at ``NOW``
a few hundred deadline rungs are due; the rungs expected due are read from the cases' own
deadlines. A daemon process ticks ``NOW`` until nothing is claimed. The checks read the
database: every expected (case, deadline, rung) marked in ``kntc_fired_rungs`` once, with one
``deadline.warning``/``deadline.overdue`` event, nothing else fired, no timer left due.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.config import Settings
from adapters.sql.store import make_sql_engine
from engine.service import Engine
from engine.testing import ManualClock

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
NOW = datetime(2026, 4, 14, 12, 0, tzinfo=TZ)
Rung = tuple[str, str, int]
DEADLINE_EVENTS = ("deadline.warning", "deadline.overdue")

# A daemon as a script: tick NOW until nothing is claimed, print the rungs it fired. With
# HOLD_AT=k it stops inside its k-th write transaction (after the batch's work, before the
# commit), touches MARKER and waits there to be killed.
DAEMON = r"""
import logging, os, sys, time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
from adapters.bootstrap import build
from adapters.config import load_settings

config, now, batch, hold_at, marker = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
engine = build(load_settings(config), database_url=os.environ["KNTC_DATABASE_URL"])
engine.runtime.tick_batch = batch
if hold_at:
    real, commits = engine.runtime.store.transaction, [0]

    @contextmanager
    def transaction():
        with real() as tx:
            yield tx
            commits[0] += 1
            if commits[0] == hold_at:
                Path(marker).touch()
                limit = time.monotonic() + 60
                while time.monotonic() < limit:
                    time.sleep(0.05)
                sys.exit("held 60 s and not killed")

    engine.runtime.store.transaction = transaction
fired = 0
while True:
    report = engine.tick(now)
    fired += report.fired
    if report.claimed == 0:
        break
print(fired)
"""


def make_backlog(engine: Engine, clock: ManualClock, cases: int, now: datetime = NOW) -> set[Rung]:
    """``cases`` complaints with rungs due at NOW; the (case, deadline, rung) due by ``now``."""
    expected: set[Rung] = set()
    for i in range(cases):
        clock.set(START + timedelta(days=i // 10, minutes=7 * (i % 10)))
        case = engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"Người {i}"}],
                                respondent="UBND huyện", subject=f"Đơn số {i}")
        name = "acceptance"
        if i % 2:
            case = engine.fire(case.id, "accept", actor="cb01", role="inspector", expected_version=1)
            name = "resolution"
        deadline = case.deadlines[name]
        assert deadline.due_at is not None and len(deadline.warn_at) == 2
        moments = [*deadline.warn_at, deadline.due_at]
        expected |= {(case.id, name, rung) for rung, moment in zip((500, 800, 1000), moments, strict=True)
                     if moment <= now}
    assert len(expected) > cases  # a backlog: more than a rung a case
    return expected


def write_config(settings: Settings, folder: Path) -> Path:
    """The settings as a config file a child process loads (JSON is YAML; workflows_dir absolute)."""
    data = settings.model_dump(mode="json")
    data["workflows_dir"] = str(settings.workflows_path())
    path = folder / "config.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def daemon(config: Path, url: str, *, batch: int, hold_at: int = 0, marker: Path | None = None,
           now: datetime = NOW) -> subprocess.Popen[str]:
    """Start the DAEMON script on ``url`` (cwd: the project)."""
    args = [str(config), now.isoformat(), str(batch), str(hold_at), str(marker or "-")]
    return subprocess.Popen([sys.executable, "-c", DAEMON, *args], cwd=ROOT,
                            env={**os.environ, "KNTC_DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fired_marks(url: str) -> list[tuple[str, str, int, int]]:
    """Every row of kntc_fired_rungs: (case, deadline, cycle, rung)."""
    sql = make_sql_engine(url)
    try:
        with sql.connect() as conn:
            found = conn.execute(sa.text("SELECT case_id, deadline, cycle, rung FROM kntc_fired_rungs")).all()
    finally:
        sql.dispose()
    return [(str(c), str(d), int(y), int(r)) for c, d, y, r in found]


def deadline_events(engine: Engine) -> Counter[Rung]:
    """The feed's deadline events by (case, deadline, rung), read through the engine; checks the seqs have no gap."""
    found: Counter[Rung] = Counter()
    after, seqs = 0, []
    while batch := engine.events(after=after, limit=1000):
        for e in batch:
            seqs.append(e.seq)
            if e.type in DEADLINE_EVENTS:
                assert e.case_id is not None
                found[(e.case_id, str(e.data["deadline"]), int(e.data["rung"]))] += 1
        after = batch[-1].seq
    assert seqs == list(range(1, len(seqs) + 1)), "the feed has a gap"
    return found


def assert_fired_exactly_once(engine: Engine, url: str, expected: set[Rung]) -> None:
    """Every expected rung marked once with one event; nothing else fired; the chains verify."""
    marks = fired_marks(url)
    assert {cycle for _, _, cycle, _ in marks} <= {0}
    marked = Counter((case_id, deadline, rung) for case_id, deadline, _, rung in marks)
    assert {k: n for k, n in marked.items() if n > 1} == {}, "rungs marked twice"
    assert set(marked) - expected == set(), "rungs fired that were not due"
    assert expected - set(marked) == set(), "due rungs never fired"
    emitted = deadline_events(engine)
    assert {k: n for k, n in emitted.items() if n > 1} == {}, "duplicate deadline events"
    assert set(emitted) == expected, "deadline events missing"
    report = engine.verify_audit()
    assert report.ok, report.problems
