"""pg_terminate_backend while a daemon process and a writer process run: both reconnect, nothing lost or doubled.

A daemon process ticks a backlog of due rungs at ``NOW`` in a loop (errors counted, like the
real daemon's ``tick_failed``); a writer process cycles petitions between ``in_jurisdiction``
and ``suspended`` with ``expected_version``, logging each outcome (the version it got, or the
error's type). The test kills every backend of both three times, each time once both have made
progress since the previous kill. Then it checks: both processes worked after the last kill;
each writer command is in the database once if it succeeded, at most once if it failed (a
failed COMMIT may have committed); a catch-up tick at ``CATCHUP`` (past the rungs' retry
backoff) leaves every rung due fired exactly once; every history chain verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.sql.store import make_sql_engine
from engine.testing import ManualClock
from tests.integration.faults_backlog import (
    NOW,
    ROOT,
    START,
    assert_fired_exactly_once,
    make_backlog,
    write_config,
)
from tests.integration.together import finish, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CASES, PETITIONS, KILLS = 120, 4, 3
CATCHUP = NOW + timedelta(hours=2)  # past a rung's first retry (60 s backoff, doubling)
ACCEPTED = 3  # a petition opened (1), classified (2), accepted (3)

# Ticks NOW (6 rungs at most a tick) until STOP exists (bounded), one line per tick to BEAT:
# "ok <fired>" or "error <type>".
TICKER = r"""
import logging, os, sys, time
from datetime import datetime
from pathlib import Path
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
from adapters.bootstrap import build
from adapters.config import load_settings

config, now, beat, stop = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
engine = build(load_settings(config), database_url=os.environ["KNTC_DATABASE_URL"])
engine.runtime.tick_batch = 3
limit = time.monotonic() + 60
with open(beat, "a", buffering=1) as out:
    while not stop.exists() and time.monotonic() < limit:
        try:
            report = engine.tick(now, max_rungs=6)  # a few rungs a tick: the kills land mid-backlog
        except Exception as exc:
            out.write(f"error {type(exc).__name__}\n")
        else:
            out.write(f"ok {report.fired}\n")
"""

# Fires suspend/resume on the petitions until STOP exists (bounded); one JSON line per command to LOG.
WRITER = r"""
import json, logging, os, sys, time
from datetime import datetime
from pathlib import Path
import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
from adapters.bootstrap import build
from adapters.config import load_settings
from engine.testing import ManualClock

config, now, log, stop, ids = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), sys.argv[5:]
eng = build(load_settings(config), database_url=os.environ["KNTC_DATABASE_URL"],
            clock=ManualClock(datetime.fromisoformat(now)))
limit, n = time.monotonic() + 60, 0
with open(log, "a", buffering=1) as out:
    while not stop.exists() and time.monotonic() < limit:
        case_id, n = ids[n % len(ids)], n + 1
        try:
            case = eng.get(case_id)
        except Exception as exc:
            out.write(json.dumps({"op": "get", "case": case_id, "error": type(exc).__name__}) + "\n")
            continue
        suspend = case.state == "in_jurisdiction"
        try:
            done = eng.fire(case_id, "suspend" if suspend else "resume", actor="ld01", role="head_of_unit",
                            payload={"reason": "chờ"} if suspend else None, expected_version=case.version)
        except Exception as exc:
            out.write(json.dumps({"op": "fire", "case": case_id, "error": type(exc).__name__}) + "\n")
        else:
            out.write(json.dumps({"op": "fire", "case": case_id, "version": done.version}) + "\n")
"""


def run(script: str, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT,
                            env={**os.environ, "KNTC_DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def terminate(url: str, applications: tuple[str, ...]) -> int:
    """Kill every backend of ``applications``; how many."""
    sql = make_sql_engine(url)
    try:
        with sql.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name IN :a"
            ).bindparams(sa.bindparam("a", expanding=True)), {"a": list(applications)}).scalar_one())
    finally:
        sql.dispose()


def test_killed_connections_are_survived_by_a_daemon_and_a_writer(
        pg_url: str, settings: Settings, tmp_path: Path) -> None:
    """Three rounds of pg_terminate_backend: both processes reconnect; no rung or command lost or doubled."""
    clock = ManualClock(START)
    engine = build(settings, database_url=pg_url, clock=clock)
    try:
        expected = make_backlog(engine, clock, CASES, now=CATCHUP)
        clock.set(NOW)  # the petitions' own deadlines fall weeks after CATCHUP
        ids = []
        for i in range(PETITIONS):
            case = engine.open_case("petition", received_at=clock.now(), petitioners=[{"name": f"Người {i}"}],
                                    respondent="R", subject=f"Kiến nghị {i}")
            engine.fire(case.id, "classify", actor="cb01", role="clerk", expected_version=1)
            engine.fire(case.id, "accept", actor="cb01", role="clerk", expected_version=2)
            ids.append(case.id)
        config = write_config(settings, tmp_path)
        apps = (f"kntc_d_{uuid.uuid4().hex[:8]}", f"kntc_w_{uuid.uuid4().hex[:8]}")
        beat, log, stop = tmp_path / "beat", tmp_path / "writer.jsonl", tmp_path / "stop"
        ticker = run(TICKER, f"{pg_url}&application_name={apps[0]}", str(config), NOW.isoformat(), str(beat),
                     str(stop))
        writer = run(WRITER, f"{pg_url}&application_name={apps[1]}", str(config),
                     (NOW + timedelta(hours=1)).isoformat(), str(log), str(stop), *ids)
        killed: list[int] = []
        try:
            for _ in range(KILLS):
                ticks, writes = len(lines(beat)), len(lines(log))
                wait_for(lambda t=ticks, w=writes: (len(lines(beat)) > t + 2 and len(lines(log)) > w + 2)
                         or ticker.poll() is not None or writer.poll() is not None, "both processes to progress", 30)
                assert ticker.poll() is None and writer.poll() is None
                killed.append(terminate(pg_url, apps))
            ticks, writes = len(lines(beat)), len(lines(log))
            wait_for(lambda: (sum(1 for b in lines(beat)[ticks:] if b.startswith("ok")) >= 2
                     and sum(1 for w in lines(log)[writes:] if '"version"' in w) >= 2)
                     or ticker.poll() is not None or writer.poll() is not None, "both to work after the last kill", 30)
        finally:
            stop.touch()
            outputs = finish([ticker, writer], 60)
        for proc, (_, err) in zip((ticker, writer), outputs, strict=True):
            assert proc.returncode == 0, err[-3000:]
        assert all(k >= 1 for k in killed), killed
        after = lines(beat)[ticks:]
        assert sum(1 for b in after if b.startswith("ok")) >= 2, "the daemon did not reconnect"
        outcomes = [json.loads(x) for x in lines(log)]
        assert sum(1 for o in outcomes[writes:] if "version" in o) >= 2, "the writer did not reconnect"
        errors = Counter(o["error"] for o in outcomes if "error" in o)
        assert set(errors) <= {"StorageError", "ConflictError"}, errors
        assert {b.split()[1] for b in lines(beat) if b.startswith("error")} <= {"StorageError"}
        # each case: the versions its successful fires got are distinct; failures added at most one each
        got: dict[str, list[int]] = defaultdict(list)
        failed: Counter[str] = Counter()
        for o in outcomes:
            if o["op"] == "fire" and "version" in o:
                got[o["case"]].append(o["version"])
            elif o["op"] == "fire" and o["error"] == "StorageError":
                failed[o["case"]] += 1
        for case_id in ids:
            versions = got[case_id]
            assert len(versions) == len(set(versions)), "a command applied twice"
            final = engine.get(case_id).version
            assert len(engine.history(case_id)) == final
            assert len(versions) <= final - ACCEPTED <= len(versions) + failed[case_id], case_id
        report = engine.tick(CATCHUP)  # the catch-up: rungs whose batch died are retried now
        assert report.failed == 0
        assert_fired_exactly_once(engine, pg_url, expected)
        fired_by_daemon = sum(int(b.split()[1]) for b in lines(beat) if b.startswith("ok"))
        # a tick that raised after committing batches reported no count: the database is the truth
        assert fired_by_daemon + report.fired <= len(expected)
        summary: dict[str, Any] = {"kills": killed, "ticks": len(lines(beat)), "writes": len(outcomes),
                                   "errors": dict(errors), "rungs": len(expected), "catchup_fired": report.fired,
                                   "daemon_errors": sum(1 for b in lines(beat) if b.startswith("error"))}
        print(summary)  # the figures of RELIABILITY.md (shown with -s)
    finally:
        engine.close()
