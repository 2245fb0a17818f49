"""Threads and processes firing on the same cases: losers get ConflictError, no update is lost.

Every writer reads a case, then fires ``suspend`` or ``resume`` (a petition's cycle between
``in_jurisdiction`` and ``suspended``, any number of times) with the version it read. The threads
meet at a barrier between reading and firing, so in each round every thread holds the same
version of the same case and exactly one may win. The processes run free, each logging its own
outcomes. Afterwards, in the database: each case's version moved once per win, its history grew
by exactly the wins, and ``verify_audit`` finds every chain whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.errors import ConflictError
from engine.service import Engine
from engine.testing import ManualClock

ROOT = Path(__file__).resolve().parents[2]
CASES = 3
ACCEPTED_VERSION = 3  # opened (1), classify (2), accept (3): in_jurisdiction


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kntc.db'}"
    return str(request.getfixturevalue("pg_url"))


def prepare(eng: Engine, clock: ManualClock) -> list[str]:
    """CASES petitions in ``in_jurisdiction`` (version 3)."""
    ids = []
    for i in range(CASES):
        case = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": f"Người {i}"}],
                             respondent="R", subject=f"Kiến nghị {i}")
        eng.fire(case.id, "classify", actor="cb01", role="clerk", expected_version=1)
        assert eng.fire(case.id, "accept", actor="cb01", role="clerk", expected_version=2).version == ACCEPTED_VERSION
        ids.append(case.id)
    clock.advance(timedelta(hours=1))
    return ids


def fire_once(eng: Engine, case_id: str, version: int, state: str) -> None:
    """The next step of the cycle, guarded by ``version``."""
    if state == "in_jurisdiction":
        eng.fire(case_id, "suspend", actor="ld01", role="head_of_unit", payload={"reason": "chờ"},
                 expected_version=version)
    else:
        eng.fire(case_id, "resume", actor="ld01", role="head_of_unit", expected_version=version)


def assert_nothing_lost(eng: Engine, ids: list[str], wins: Counter[str]) -> None:
    """Versions and history match the wins, case by case; every chain verifies."""
    for case_id in ids:
        assert eng.get(case_id).version == ACCEPTED_VERSION + wins[case_id], case_id
        assert len(eng.history(case_id)) == ACCEPTED_VERSION + wins[case_id], case_id
    report = eng.verify_audit()
    assert report.ok, report.problems
    assert report.cases == CASES


def test_threads_racing_on_the_same_versions(db_url: str, settings: Settings, clock: ManualClock) -> None:
    """8 threads × 24 rounds: one win and 7 ConflictErrors per round, nothing else raised, nothing lost."""
    threads, rounds = 8, 24
    eng = build(settings, database_url=db_url, clock=clock)
    try:
        ids = prepare(eng, clock)
        barrier = threading.Barrier(threads, timeout=30)
        lock = threading.Lock()
        wins: Counter[str] = Counter()
        conflicts: list[int] = []
        others: list[str] = []

        def worker() -> None:
            for r in range(rounds):
                case_id = ids[r % CASES]
                case = eng.get(case_id)
                barrier.wait()  # every thread has read the same version
                try:
                    fire_once(eng, case_id, case.version, case.state)
                except ConflictError:
                    with lock:
                        conflicts.append(r)
                except Exception as exc:  # what the test is about: nothing but ConflictError
                    with lock:
                        others.append(f"{type(exc).__name__}: {exc}")
                else:
                    with lock:
                        wins[case_id] += 1
                barrier.wait()  # the round is over before anyone reads again

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in pool), "a worker hung"
        assert others == []
        assert sum(wins.values()) == rounds  # one winner a round
        assert len(conflicts) == rounds * (threads - 1)
        assert_nothing_lost(eng, ids, wins)
    finally:
        eng.close()


# A writer process: fire on the cases until ``rounds`` attempts are done; print its outcomes as JSON.
WRITER = r"""
import json, logging, sys
from collections import Counter
from datetime import datetime
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from adapters.bootstrap import build
from adapters.config import load_settings
from engine.errors import ConflictError
from engine.testing import ManualClock

config, url, now, rounds, ids = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
eng = build(load_settings(config), database_url=url, clock=ManualClock(datetime.fromisoformat(now)))
wins, conflicts, others = Counter(), 0, []
for r in range(rounds):
    case = eng.get(ids[r % len(ids)])
    try:
        if case.state == "in_jurisdiction":
            eng.fire(case.id, "suspend", actor="ld02", role="head_of_unit", payload={"reason": "chờ"},
                     expected_version=case.version)
        else:
            eng.fire(case.id, "resume", actor="ld02", role="head_of_unit", expected_version=case.version)
    except ConflictError:
        conflicts += 1
    except Exception as exc:
        others.append(f"{type(exc).__name__}: {exc}")
    else:
        wins[case.id] += 1
eng.close()
print(json.dumps({"wins": wins, "conflicts": conflicts, "others": others}))
"""


@pytest.mark.slow
def test_processes_and_threads_firing_together(
        db_url: str, settings: Settings, clock: ManualClock, tmp_path: Path) -> None:
    """2 processes × 150 attempts and 4 threads × 60 on 3 cases: only ConflictErrors lose; every win is stored once."""
    eng = build(settings, database_url=db_url, clock=clock)
    try:
        ids = prepare(eng, clock)
        config = tmp_path / "config.json"  # JSON is YAML; workflows_dir absolute, the database given apart
        data = settings.model_dump(mode="json")
        data["workflows_dir"] = str(settings.workflows_path())
        config.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        args = [str(config), db_url, clock.now().isoformat(), "150", *ids]
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, *args], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        wins: Counter[str] = Counter()
        others: list[str] = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            for r in range(60):
                case = eng.get(ids[(r + offset) % CASES])
                try:
                    fire_once(eng, case.id, case.version, case.state)
                except ConflictError:
                    continue
                except Exception as exc:  # nothing but ConflictError may lose
                    with lock:
                        others.append(f"{type(exc).__name__}: {exc}")
                else:
                    with lock:
                        wins[case.id] += 1

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        try:
            for t in pool:
                t.start()
            for t in pool:
                t.join(timeout=120)
            outputs = [p.communicate(timeout=120) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        assert not any(t.is_alive() for t in pool), "a worker hung"
        assert others == []
        conflicts = 0
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err[-3000:]
            result = json.loads(out)
            assert result["others"] == []
            conflicts += result["conflicts"]
            wins.update(result["wins"])
        assert sum(wins.values()) > 0
        assert_nothing_lost(eng, ids, wins)
    finally:
        eng.close()
