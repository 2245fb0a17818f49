"""Two daemon processes on one PostgreSQL schema deliver 500 webhook messages, each accepted once.

The configuration is the shipped one with a ``portal`` webhook as the only channel (notifications
default to it, unit ``thanh_tra``), a second head of unit ``tp02`` beside ``tp01``, and nothing
that reacts on its own (no period, content groups, rules or roster check). The backlog, queued
before the daemons start: DIRECT messages on ``portal`` and NOTIFICATIONS on the router's channel
``notify`` naming the role ``head_of_unit``, each routed to tp01 and tp02: DIRECT + 2 x
NOTIFICATIONS = 500 deliveries, whose idempotency keys are known in advance.

A receiver on 127.0.0.1 records each request (Idempotency-Key, body, signature) and answers 200,
except the first request of every 50th expected key, answered 500: that message is retried by
whichever daemon holds the channel next (the channel's backoff is 50 ms, no jitter), with the same
key and the same body. Two OS processes, started together by a go file, each under its own
holder, loop: route at most ROUTE_LIMIT notifications, dispatch at most DISPATCH_LIMIT messages,
until no message is pending. Both the router's lease and the channel's lease change hands.

PostgreSQL only: the store several daemons share.
"""

from __future__ import annotations

import hmac
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import psycopg
import pytest

from adapters.bootstrap import build
from adapters.config import load_settings
from adapters.notify.webhook import sign
from tests.conftest import shipped_settings
from tests.integration.together import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
QUEUED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # in the past: due for the daemons' system clock
DIRECT = 400
NOTIFICATIONS = 50
HEADS = ("tp01", "tp02")  # the two holders of head_of_unit in thanh_tra
TOTAL = DIRECT + len(HEADS) * NOTIFICATIONS
FAIL_EVERY = 50  # the first request of every 50th expected key is answered 500
ROUTE_LIMIT = 10
DISPATCH_LIMIT = 25
SECRET = "kntc-test-secret-not-a-real-one"
TIMEOUT = 30.0  # every wait of the test; a child still running by then is killed and the test fails

# A daemon as a script: load the test's config.yaml, build its channels and router, say it is
# ready, wait for the go file, then route and dispatch in small batches until nothing is pending
# (a give-up time bounds it). After a batch that held a lease it pauses briefly, so the other
# daemon gets the lease too. Last line of stdout: "<notifications routed> <messages delivered>".
DAEMON = r"""
import logging, os, sys, time
from pathlib import Path

import structlog
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
from adapters.bootstrap import build
from adapters.channels import build_channels, router
from adapters.config import load_settings
from adapters.notify.base import close_channel
from engine.outbox import dispatch
from engine.routing import route

config, holder, ready, go = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
route_limit, dispatch_limit, give_up = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
settings = load_settings(config)
engine = build(settings, database_url=os.environ["KNTC_DATABASE_URL"])
rt = engine.runtime
channels = build_channels(settings, environ=os.environ)
routing, directory_of = router(settings)
ready.touch()
limit = time.monotonic() + give_up
while not go.exists():
    if time.monotonic() > limit:
        sys.exit("no go signal")
    time.sleep(0.002)
limit = time.monotonic() + give_up
routed = delivered = 0
while True:
    with rt.store.reader() as tx:
        if not tx.outbox(status="pending", limit=1):
            break
    if time.monotonic() > limit:
        sys.exit("messages still pending at the give-up time")
    held = False
    report = route(rt, routing, directory_of, holder=holder, lease_seconds=30, limit=route_limit)
    routed += report.delivered
    held = held or report.leased
    for channel in channels:
        report = dispatch(rt, channel, holder=holder, lease_seconds=30, limit=dispatch_limit)
        delivered += report.delivered
        held = held or report.leased
    time.sleep(0.005 if held else 0.002)
for channel in channels:
    close_channel(channel)
engine.close()
print(routed, delivered)
"""


@dataclass(frozen=True, slots=True)
class Request:
    """One POST the receiver got."""

    key: str
    body: bytes
    signature: str
    status: int


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that records every request; 500 once for each key in ``fail_once``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.fail_once: set[str] = set()

    @property
    def url(self) -> str:
        """Where the channel POSTs."""
        return f"http://127.0.0.1:{self.server_address[1]}/kntc"

    def answer(self, key: str, body: bytes, signature: str) -> int:
        """Record a request and choose its status."""
        with self.lock:
            status = 500 if key in self.fail_once else 200
            self.fail_once.discard(key)
            self.requests.append(Request(key, body, signature, status))
            return status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the channel's httpx client expects

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = cast(Receiver, self.server).answer(self.headers.get("Idempotency-Key", ""), body,
                                                    self.headers.get("X-Kntc-Signature", ""))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the records."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, shut down afterwards."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=TIMEOUT)


def write_config(path: Path, url: str) -> None:
    """The shipped configuration, changed as the module says, written as JSON (a YAML document)."""
    shipped = shipped_settings()
    document = shipped.model_dump(mode="json")
    document.update({
        "workflows_dir": str(shipped.workflows_path()), "periods": [],
        "channels": [{"id": "portal", "kind": "webhook", "url": url, "secret_env": "KNTC_TEST_WEBHOOK_SECRET",
                      "backoff_seconds": 0.05, "jitter": 0}],
        "notifications": {"default_channels": ["portal"], "default_unit": "thanh_tra"}})
    document["grouping"]["enabled"] = False
    document["escalation"]["rules"] = []
    document["roster"]["check"] = False
    document["people"].append({"id": "tp02", "name": "Hoàng Văn Phó", "unit": "thanh_tra",
                               "roles": ["head_of_unit"], "email": "tp02@so-khcn.example"})
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row of a query on the test's schema (values passed as parameters)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                         connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def queue_backlog(config: Path, url: str) -> list[str]:
    """Queue DIRECT portal messages and NOTIFICATIONS for head_of_unit; the expected keys, in queue order."""
    engine = build(load_settings(config), database_url=url)  # also creates the schema before the race
    try:
        with engine.runtime.store.transaction() as tx:
            for i in range(DIRECT):
                tx.enqueue("portal", "hot_spot_at_once", None,
                           {"event": "hotspot.detected", "type": "crowded", "n": i}, QUEUED_AT)
            for _ in range(NOTIFICATIONS):
                tx.enqueue("notify", "hot_spot_at_once", None,
                           {"event": "hotspot.detected", "type": "crowded", "role": "head_of_unit"}, QUEUED_AT)
    finally:
        engine.close()
    direct = [i for (i,) in rows(url, "SELECT id FROM kntc_outbox WHERE channel = 'portal' ORDER BY id")]
    notify = [i for (i,) in rows(url, "SELECT id FROM kntc_outbox WHERE channel = 'notify' ORDER BY id")]
    assert (len(direct), len(notify)) == (DIRECT, NOTIFICATIONS)
    return [f"kntc-portal-{i}" for i in direct] + [f"kntc-portal-{n}-{p}" for n in notify for p in HEADS]


def spawn(config: Path, url: str, holder: str, ready: Path, go: Path) -> subprocess.Popen[str]:
    """Start the DAEMON script on ``url`` with the webhook's secret in its environment."""
    args = [str(config), holder, str(ready), str(go), str(ROUTE_LIMIT), str(DISPATCH_LIMIT), str(TIMEOUT - 5)]
    env = {**os.environ, "KNTC_DATABASE_URL": url, "KNTC_TEST_WEBHOOK_SECRET": SECRET}
    return subprocess.Popen([sys.executable, "-c", DAEMON, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_daemons_deliver_each_webhook_message_once(pg_url: str, receiver: Receiver, tmp_path: Path) -> None:
    """500 messages (400 queued, 50 notifications x 2 heads of unit): each accepted once, signed, sent."""
    config = tmp_path / "config.yaml"
    write_config(config, receiver.url)
    expected = queue_backlog(config, pg_url)
    assert len(expected) == len(set(expected)) == TOTAL == 500
    failing = set(expected[::FAIL_EVERY])  # 10 keys: 8 queued on portal, 2 routed (indices 400 and 450)
    assert len(failing) == TOTAL // FAIL_EVERY and any(k.endswith("-tp01") for k in failing)
    receiver.fail_once.update(failing)

    outputs = run_together(lambda n, ready, go: spawn(config, pg_url, f"test-webhook-daemon-{n}", ready, go), 2,
                           tmp_path, TIMEOUT)
    counts: list[tuple[int, int]] = []
    for proc, out, err in outputs:
        assert proc.returncode == 0, err[-3000:]
        routed, delivered = out.strip().splitlines()[-1].split()
        counts.append((int(routed), int(delivered)))

    with receiver.lock:
        requests = list(receiver.requests)
    accepted = Counter(r.key for r in requests if r.status == 200)
    twice = {key: n for key, n in accepted.items() if n > 1}
    assert twice == {}, f"accepted more than once: {sorted(twice)[:20]}"
    assert set(accepted) == set(expected) and sum(accepted.values()) == TOTAL
    assert all(hmac.compare_digest(r.signature, sign(SECRET, r.body)) for r in requests), "a bad signature"
    assert all(json.loads(r.body)["id"] == r.key for r in requests), "a body whose id is not its key"
    # each failing key: one 500, then one retry with the same key and the very same body
    tries = {key: [r for r in requests if r.key == key] for key in failing}
    assert {key: [r.status for r in rs] for key, rs in tries.items()} == {key: [500, 200] for key in failing}
    assert all(rs[0].body == rs[1].body for rs in tries.values())
    routed_to = Counter(json.loads(r.body)["data"]["to"]["id"] for r in requests
                        if r.status == 200 and r.key.count("-") == 3)
    assert routed_to == dict.fromkeys(HEADS, NOTIFICATIONS)

    assert sum(r for r, _ in counts) == NOTIFICATIONS
    assert sum(d for _, d in counts) == TOTAL
    assert all(d > 0 for _, d in counts), f"one daemon delivered everything: {counts}"
    statuses = rows(pg_url, "SELECT channel, status, count(*) FROM kntc_outbox GROUP BY channel, status"
                            " ORDER BY channel, status")
    assert statuses == [("notify", "sent", NOTIFICATIONS), ("portal", "sent", TOTAL)]
    retried = rows(pg_url, "SELECT attempts, last_error, count(*) FROM kntc_outbox WHERE channel = 'portal'"
                           " GROUP BY attempts, last_error ORDER BY attempts")
    assert retried == [(0, None, TOTAL - len(failing)),
                       (1, "DeliveryError: receiver answered HTTP 500", len(failing))]
