"""Four daemon processes on one PostgreSQL schema raise each phase change of the 2026 election once.

The shipped config.yaml with only its period switched on (no content groups, no escalation rules):
the election ``bau_cu_2026`` has three phases, ``before`` from Monday 05/01/2026, ``during`` on
election day Sunday 15/03/2026 and ``after`` from Monday 16/03/2026 (to 15/05/2026). The test
builds the schema once, then four OS processes start together (a go file) and each ticks at
20/05/2026 08:00 (+07:00), after the whole period: between them they raise ``before``, ``during``
and ``after`` once each, in the order of their dates, and ``kntc_jobs`` holds three done slots.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from tests.conftest import shipped_settings
from tests.integration.together import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 20, 8, 0, tzinfo=timezone(timedelta(hours=7)))
DAEMONS = 4
TIMEOUT = 30

# A daemon as a script: build with the period only, say it is ready, wait for the go file, tick
# once at NOW and print how many job slots it ran.
DAEMON = r"""
import logging, os, sys, time
from datetime import datetime
from pathlib import Path

import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from adapters.bootstrap import build
from adapters.config import load_settings

now, ready, go = datetime.fromisoformat(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
shipped = load_settings("config.yaml")
only_period = shipped.model_copy(update={
    "grouping": shipped.grouping.model_copy(update={"enabled": False}),
    "escalation": shipped.escalation.model_copy(update={"rules": []}),
    "roster": shipped.roster.model_copy(update={"check": False}),
    "reception": shipped.reception.model_copy(update={"month_check": False})})
engine = build(only_period, database_url=os.environ["KNTC_DATABASE_URL"])
ready.touch()
limit = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > limit:
        sys.exit("no go signal")
    time.sleep(0.002)
print(engine.tick(now).jobs)
"""


def only_period() -> Settings:
    """The shipped settings with the election period on; content groups, rules and the roster check off."""
    shipped = shipped_settings()
    return shipped.model_copy(update={
        "grouping": shipped.grouping.model_copy(update={"enabled": False}),
        "escalation": shipped.escalation.model_copy(update={"rules": []}),
        "roster": shipped.roster.model_copy(update={"check": False}),
        "reception": shipped.reception.model_copy(update={"month_check": False})})


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` on the test's schema."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_four_daemons_raise_each_phase_change_once_in_order(pg_url: str, tmp_path: Path) -> None:
    """Four daemons ticking 20/05/2026 together: before, during, after once each, in date order; three done slots."""
    settings = only_period()
    assert [p.id for p in settings.periods] == ["bau_cu_2026"]
    build(settings, database_url=pg_url).close()  # the schema and its fingerprints, before the race
    env = {**os.environ, "KNTC_DATABASE_URL": pg_url}

    def start(_: int, ready: Path, go: Path) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", DAEMON, NOW.isoformat(), str(ready), str(go)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    outputs = run_together(start, DAEMONS, tmp_path, TIMEOUT)
    for proc, _, err in outputs:
        assert proc.returncode == 0, err[-3000:]
    assert sum(int(out) for _, out, _ in outputs) == 3
    changes = rows(pg_url, "SELECT data->>'period', data->>'phase', data->>'from', data->>'to' FROM kntc_events"
                           " WHERE type = 'period.phase_changed' ORDER BY seq")
    assert changes == [("bau_cu_2026", "before", "2026-01-05", "2026-03-14"),
                       ("bau_cu_2026", "during", "2026-03-15", "2026-03-15"),
                       ("bau_cu_2026", "after", "2026-03-16", "2026-05-15")]
    slots = rows(pg_url, "SELECT kind, subject, slot, done_at IS NOT NULL, attempts FROM kntc_jobs ORDER BY slot")
    assert sorted(slots) == [("period.phase", "bau_cu_2026", "bau_cu_2026:after", True, 0),
                             ("period.phase", "bau_cu_2026", "bau_cu_2026:before", True, 0),
                             ("period.phase", "bau_cu_2026", "bau_cu_2026:during", True, 0)]
