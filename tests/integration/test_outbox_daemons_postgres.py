"""Two daemon processes dispatching the ``log`` outbox channel of one PostgreSQL schema.

The test prepares ~150 complaints (so ~150 ``case.opened`` feed events, which the ``log`` channel
follows) and ~50 queued ``log`` messages (a reactor on ``case.opened`` of every third case enqueues
a ``notice``). Then two OS processes, started together by a go file, each dispatch the channel in
a loop under a holder id of their own, writing the idempotency key of every message they deliver
to a file of their own. Each dispatch takes at most ``LIMIT`` messages of each kind, so the channel's
lease passes between the two many times. The test then reads both files and the database.

PostgreSQL only: the store several daemons share.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.reactors import Effect, Enqueue, Reaction
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.together import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
CASES = 150
QUEUED = CASES // 3  # every third case is opened by the engine whose reactor enqueues a notice
LIMIT = 10           # messages of each kind per dispatch: the lease changes hands often
RUN_SECONDS = 3.0    # each daemon's loop stops by then, or after two empty leased dispatches
CHILD_TIMEOUT = 20.0  # a child still running by then is killed and the test fails

# A daemon as a script: build an engine from the env's database, wait for the go file, dispatch the
# log channel until RUN_SECONDS pass or two dispatches that held the lease delivered nothing.
# Prints "<dispatches that held the lease> <messages delivered>".
DAEMON = r"""
import logging, os, sys, time
from pathlib import Path

import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
from adapters.bootstrap import build
from engine.outbox import Channel, dispatch

holder, out_path, ready, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
run_seconds, limit = float(sys.argv[5]), int(sys.argv[6])
engine = build("config.yaml", database_url=os.environ["KNTC_DATABASE_URL"])
out = open(out_path, "a", encoding="utf-8")


def deliver(message):
    out.write(message.key + "\n")
    out.flush()
    time.sleep(0.002)


channel = Channel("log", deliver, follows_feed=True)
ready.touch()
give_up = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > give_up:
        sys.exit("no go signal")
    time.sleep(0.002)
end = time.monotonic() + run_seconds
leased = delivered = empty = 0
while time.monotonic() < end and empty < 2:
    report = dispatch(engine.runtime, channel, holder=holder, lease_seconds=30, limit=limit)
    if report.leased:
        leased += 1
        delivered += report.delivered
        empty = empty + 1 if report.delivered == 0 else 0
    else:
        time.sleep(0.003)
out.close()
engine.close()
print(leased, delivered)
"""


def plain(url: str) -> str:
    """The URL for psycopg itself."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row of a query on the test's schema (values passed as parameters)."""
    with psycopg.connect(plain(url), autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def notice(reaction: Reaction) -> Iterable[Effect]:
    """Queue one ``log`` notice for the opened case."""
    yield Enqueue("log", "notice", reaction.event.case_id, {})


@pytest.fixture
def backlog(pg_url: str, settings: Settings) -> Iterator[None]:
    """CASES complaints on pg_url; every third opened by an engine that queues a ``log`` notice."""
    clock = ManualClock(START)  # before today: the queued messages are due for the daemons' system clock
    built = build(settings, database_url=pg_url, clock=clock)
    rt = built.runtime
    reacting = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=clock,
                      reactors={"case.opened": [notice]})
    try:
        for i in range(CASES):
            clock.set(START + timedelta(minutes=i))
            engine = reacting if i % 3 == 0 else built
            engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"Người {i}"}],
                             respondent="UBND huyện", subject=f"Đơn số {i}")
        yield
    finally:
        built.close()


def spawn(url: str, holder: str, out: Path, ready: Path, go: Path) -> subprocess.Popen[str]:
    """Start the DAEMON script on ``url`` (cwd: the project, so config.yaml is found)."""
    args = [holder, str(out), str(ready), str(go), str(RUN_SECONDS), str(LIMIT)]
    return subprocess.Popen([sys.executable, "-c", DAEMON, *args], cwd=ROOT,
                            env={**os.environ, "KNTC_DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_daemons_never_deliver_a_message_twice_on_one_channel(
        pg_url: str, backlog: None, tmp_path: Path) -> None:
    """Two daemons dispatching the log channel together deliver every feed event and queued message exactly once."""
    feed = [seq for (seq,) in rows(pg_url, "SELECT seq FROM kntc_events ORDER BY seq")]
    queued = [i for (i,) in rows(pg_url, "SELECT id FROM kntc_outbox WHERE channel = %s ORDER BY id", ("log",))]
    opened = rows(pg_url, "SELECT count(*) FROM kntc_events WHERE type = %s", ("case.opened",))
    assert opened == [(CASES,)] and len(queued) == QUEUED
    expected = {f"kntc-log-feed-{seq}" for seq in feed} | {f"kntc-log-{i}" for i in queued}

    outs = [tmp_path / f"delivered-{n}.txt" for n in range(2)]
    outputs = run_together(lambda n, ready, go: spawn(pg_url, f"test-daemon-{n}", outs[n], ready, go), 2, tmp_path,
                           CHILD_TIMEOUT)
    for proc, out, err in outputs:
        assert proc.returncode == 0, err[-3000:]
        assert len(out.split()) == 2, out

    delivered = [line for path in outs if path.exists() for line in path.read_text(encoding="utf-8").splitlines()]
    twice = {key: n for key, n in Counter(delivered).items() if n > 1}
    assert twice == {}, f"delivered more than once: {sorted(twice)[:20]}"
    assert set(delivered) - expected == set(), "delivered keys that name no message"
    assert expected - set(delivered) == set(), "messages never delivered"

    statuses = rows(pg_url, "SELECT status, count(*) FROM kntc_outbox WHERE channel = %s GROUP BY status", ("log",))
    assert statuses == [("sent", QUEUED)]
    assert rows(pg_url, "SELECT last_seq FROM kntc_outbox_cursors WHERE channel = %s", ("log",)) == [(feed[-1],)]
