"""The escalation daemon's cadence (APScheduler 3.x), and nothing else.

APScheduler only says *when*: every ``tick_seconds`` it runs one :meth:`Daemon.run_once`, which
ticks the engine (the timers table is the truth, claimed exactly once even with several daemons),
routes the notifications to the officers who must hear of them (engine/routing.py) and
dispatches each outbox channel. APScheduler keeps no job store of its own (it cannot share one between
processes). SIGTERM or SIGINT stops the daemon cleanly: the running tick finishes, none starts.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapters.notify.base import close_channel
from engine.logs import describe, get_logger
from engine.model import TickReport
from engine.outbox import Channel, dispatch
from engine.people import Directory
from engine.ports import Transaction
from engine.routing import Routing, route
from engine.service import Engine

__all__ = ["Daemon", "holder_id"]

log = get_logger("daemon")


def holder_id() -> str:
    """This daemon's name in channel leases: host, process and a random part (unique per run)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Daemon:
    """Ticks the engine and dispatches the outbox, once or on a cadence."""

    def __init__(self, engine: Engine, *, tick_seconds: float, channels: Sequence[Channel],
                 lease_seconds: float = 60.0, holder: str | None = None,
                 router: tuple[Routing, Callable[[Transaction], Directory]] | None = None, limit: int = 500) -> None:
        self.engine = engine
        self.limit = limit  # messages routed / delivered per channel and run
        self.router = router
        self.tick_seconds = tick_seconds
        self.channels = tuple(channels)
        self.lease_seconds = lease_seconds
        self.holder = holder or holder_id()
        self._stop = threading.Event()

    def run_once(self, now: datetime | None = None) -> TickReport:
        """One tick at ``now`` (default: the engine's clock), routing, then one dispatch of each channel."""
        report = self.engine.tick(now)
        if self.router is not None:
            try:
                route(self.engine.runtime, *self.router, holder=self.holder, lease_seconds=self.lease_seconds,
                      limit=self.limit)
            except Exception as exc:  # the channels still deliver what was routed before
                log.error("routing_failed", error=describe(exc))
        for channel in self.channels:
            try:
                dispatch(self.engine.runtime, channel, holder=self.holder, lease_seconds=self.lease_seconds,
                         limit=self.limit)
            except Exception as exc:  # a broken channel must not stop the timers
                log.error("dispatch_failed", channel=channel.name, error=describe(exc))
        return report

    def _scheduled_run(self) -> None:
        try:
            self.run_once()
        except Exception as exc:  # e.g. the database is down: log every error, try again next time
            log.error("tick_failed", error=describe(exc))

    def run_forever(self, *, install_signals: bool = True) -> None:
        """Tick every ``tick_seconds`` until :meth:`stop`, SIGTERM or SIGINT."""
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(self._scheduled_run, IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
                          id="kntc-tick", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
        log.info("daemon_started", tick_seconds=self.tick_seconds, channels=[c.name for c in self.channels],
                 holder=self.holder)
        scheduler.start()
        try:
            self._stop.wait()
        finally:
            scheduler.shutdown(wait=True)  # let a running tick finish; its transaction is atomic
            self.close()
            log.info("daemon_stopped")

    def close(self) -> None:
        """Close the channels' connections (a webhook's keep-alive client)."""
        for channel in self.channels:
            close_channel(channel)

    def stop(self) -> None:
        """Ask the daemon to stop after the running tick."""
        self._stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        self.stop()
