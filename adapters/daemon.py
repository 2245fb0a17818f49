"""The escalation daemon's cadence (APScheduler 3.x), and nothing else.

APScheduler only says *when*: every ``tick_seconds`` it runs one :meth:`Daemon.run_once`, which
ticks the engine (the timers table is the truth, claimed exactly once even with several daemons)
and dispatches the outbox. APScheduler keeps no job store of its own (it cannot share one between
processes). SIGTERM or SIGINT stops the daemon cleanly: the running tick finishes, none starts.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from engine.errors import KntcError
from engine.model import Event, TickReport
from engine.service import Engine

__all__ = ["Daemon"]

log = structlog.get_logger("kntc.daemon")


class Daemon:
    """Ticks the engine and dispatches the outbox, once or on a cadence."""

    def __init__(self, engine: Engine, *, tick_seconds: float,
                 channels: Mapping[str, Callable[[Event], None]]) -> None:
        self.engine = engine
        self.tick_seconds = tick_seconds
        self.channels = dict(channels)
        self._stop = threading.Event()

    def run_once(self, now: datetime | None = None) -> TickReport:
        """One tick at ``now`` (default: the engine's clock), then one outbox dispatch."""
        report = self.engine.tick(now)
        for name, deliver in self.channels.items():
            try:
                self.engine.dispatch(name, deliver)
            except Exception as exc:  # a broken channel must not stop the timers
                log.error("dispatch_failed", channel=name, error=str(exc).splitlines()[0] if str(exc) else "")
        return report

    def _scheduled_run(self) -> None:
        try:
            self.run_once()
        except KntcError as exc:  # e.g. the database is down: log, try again next time
            log.error("tick_failed", error=str(exc))

    def run_forever(self, *, install_signals: bool = True) -> None:
        """Tick every ``tick_seconds`` until :meth:`stop`, SIGTERM or SIGINT."""
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(self._scheduled_run, IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
                          id="kntc-tick", max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
        log.info("daemon_started", tick_seconds=self.tick_seconds, channels=sorted(self.channels))
        scheduler.start()
        try:
            self._stop.wait()
        finally:
            scheduler.shutdown(wait=True)  # let a running tick finish; its transaction is atomic
            log.info("daemon_stopped")

    def stop(self) -> None:
        """Ask the daemon to stop after the running tick."""
        self._stop.set()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("daemon_stopping", signal=signal.Signals(signum).name)
        self.stop()
