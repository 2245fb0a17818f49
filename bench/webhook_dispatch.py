"""Webhook dispatch (issue 11): messages per second ``dispatch`` delivers over the webhook channel.

A keep-alive HTTP/1.1 receiver (``ThreadingHTTPServer``, 200 with ``Content-Length``) runs on
127.0.0.1 in a child process, so its work does not share this process's GIL. N messages shaped like
the router's are queued in a SQLite store; the figure is the wall time of ``engine.outbox.dispatch``
delivering all of them (one POST, then one commit marking the message sent, per message). The
reference, in the same run and against the same receiver, is a bare ``httpx.Client`` loop POSTing
the same bodies with the same headers (no store, no signing). A third row is ``dispatch`` with a
delivery that does nothing: the store's own cost per message. Runs alternate; medians of 3.

``python -m bench --only webhook_dispatch`` once registered in :data:`bench.BENCHMARKS`; standalone:
``python -m bench.webhook_dispatch [--full]``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import Context, Db, build_engine, median, progress
from bench.table import Row, Target

NAME = "webhook_dispatch"
SECRET = "bench-secret"
DATA: dict[str, Any] = {
    "to": {"id": "tp01", "name": "Lê Thị Trưởng", "role": "head_of_unit", "unit": "thanh_tra",
           "email": "tp01@so.gov.vn"},
    "case": {"id": "c-123", "kind": "complaint", "kind_label": "Khiếu nại", "state": "verifying",
             "priority": "urgent", "channel": "post", "received_on": "02/03/2026", "flags": ["crowded"],
             "deadlines": [{"name": "resolution", "due_on": "01/04/2026", "status": "running"}]},
    "event": "hotspot.detected", "rule": "hot_spot_in_election",
}


def run(ctx: Context) -> None:
    count = 10_000 if ctx.full else 2_000
    with Receiver() as url:
        _run_sqlite(ctx, url, count)  # SQLite only: PostgreSQL's per-commit round trips are another bench


def _run_sqlite(ctx: Context, url: str, count: int) -> None:
    import httpx

    from adapters.notify.base import close_channel
    from adapters.notify.webhook import WebhookSettings, sign, webhook_body, webhook_channel
    from engine.outbox import Channel, dispatch

    progress(f"{NAME}: queueing {count:,} messages in SQLite")
    template = ctx.sqlite.new("webhook_template")
    eng = build_engine(template)
    rt = eng.runtime
    with rt.store.transaction() as tx:
        for i in range(count):
            tx.enqueue("portal", "hot_spot_at_once", f"c-{i}", DATA, rt.now())
    with rt.store.reader() as tx:
        messages = tx.outbox(channel="portal", limit=count)
    bodies = [(webhook_body(m, "Asia/Ho_Chi_Minh"), m.key) for m in messages]
    eng.close()
    settings = WebhookSettings(id="portal", kind="webhook", url=url, secret_env="KNTC_BENCH_SECRET")

    def kntc_run(db: Db, deliver: Callable[[Any], None] | None) -> float:
        eng = build_engine(db)
        channel = (webhook_channel(settings, secret=SECRET) if deliver is None
                   else Channel("portal", deliver, retry=settings.retry()))
        try:
            t0 = time.perf_counter()
            sent = 0
            while True:
                report = dispatch(eng.runtime, channel, holder="bench")
                if not report.delivered:
                    break
                sent += report.delivered
            elapsed = time.perf_counter() - t0
        finally:
            close_channel(channel)
            eng.close()
        if sent != count:
            raise AssertionError(f"{NAME}: dispatch delivered {sent} of {count}")
        return elapsed

    def bare_run() -> float:
        with httpx.Client(timeout=10, headers={"User-Agent": "kntc"}) as client:
            t0 = time.perf_counter()
            for body, key in bodies:
                response = client.post(url, content=body, headers={
                    "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                    "X-Kntc-Signature": sign(SECRET, body)})
                if response.status_code != 200:
                    raise AssertionError(f"{NAME}: receiver answered {response.status_code}")
            return time.perf_counter() - t0

    times: dict[str, list[float]] = {"kntc": [], "bare": [], "store": []}
    for rep in range(3):
        order = ("kntc", "bare", "store") if rep % 2 == 0 else ("store", "bare", "kntc")
        for name in order:
            if name == "bare":
                times[name].append(bare_run())
            else:
                db = ctx.sqlite.clone(template, f"webhook_{name}_{rep}")
                times[name].append(kntc_run(db, None if name == "kntc" else (lambda _m: None)))
        progress(f"{NAME}: run {rep + 1}/3 done")
    kntc_rate, bare_rate, store_rate = (count / median(times[k]) for k in ("kntc", "bare", "store"))
    ctx.add(Row(NAME, "SQLite: dispatch over webhook (POST, then commit sent)", kntc_rate, "msg/s",
                "bare httpx.Client POST loop, same bodies", bare_rate, target=Target(">=", 500, on="figure"),
                note=f"{count:,} messages, keep-alive HTTP/1.1 receiver in a child process, wall time"))
    ctx.add(Row(NAME, "SQLite: dispatch, delivery that does nothing (the store's cost)", store_rate, "msg/s",
                "bare httpx.Client POST loop", bare_rate, note="one lease renewal + one commit per message"))


# -- the receiver -----------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> None:
    """Run the receiver on a free port of 127.0.0.1; print the port; serve until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Receiver:
    """The receiver in a child process, for a ``with`` block: gives its URL, stops it on exit."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.webhook_dispatch", "--serve"],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.__exit__()
            raise RuntimeError(f"{NAME}: the receiver did not start")
        return f"http://127.0.0.1:{port}/kntc"

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


def main(argv: list[str]) -> int:
    """Standalone: ``--serve`` runs the receiver; otherwise run this benchmark and print its table."""
    if "--serve" in argv:
        serve()
        return 0
    import os
    from pathlib import Path

    from bench.common import silence_logs
    silence_logs()
    os.chdir(Path(__file__).resolve().parent.parent)
    with Context.open(full="--full" in argv, with_postgres=False) as ctx:
        run(ctx)
        ctx.table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
