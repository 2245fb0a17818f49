"""The daemon survives any exception of a tick or a channel, and logs it (not only kntc's own errors)."""

from __future__ import annotations

import logging

import pytest

from adapters.daemon import Daemon
from engine.outbox import Channel
from engine.testing import ManualClock, memory_engine


def test_a_tick_that_raises_anything_is_logged_and_the_daemon_goes_on(clock: ManualClock,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A bug (here a ZeroDivisionError) in a scheduled tick is logged as tick_failed; the next run still happens."""
    engine = memory_engine(clock)
    runs: list[int] = []

    def broken_tick(*_args: object, **_kwargs: object) -> None:
        runs.append(1)
        raise ZeroDivisionError("division by zero")

    engine.tick = broken_tick  # type: ignore[method-assign]
    daemon = Daemon(engine, tick_seconds=60, channels=[])
    with caplog.at_level(logging.ERROR, logger="kntc"):
        daemon._scheduled_run()
        daemon._scheduled_run()
    assert len(runs) == 2
    failed = [r for r in caplog.records if r.name == "kntc.daemon" and "tick_failed" in r.getMessage()]
    assert len(failed) == 2 and "ZeroDivisionError: division by zero" in failed[0].getMessage()


def test_a_dispatch_that_raises_never_stops_the_timers(clock: ManualClock, caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A channel whose dispatch fails (its database table gone, say) is logged; the tick's report still comes back."""
    import adapters.daemon as daemon_module

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(daemon_module, "dispatch", broken)
    daemon = Daemon(memory_engine(clock), tick_seconds=60, channels=[Channel("log", lambda _m: None)])
    with caplog.at_level(logging.ERROR, logger="kntc"):
        report = daemon.run_once()
    assert report.fired == 0
    [failed] = [r for r in caplog.records if r.name == "kntc.daemon"]
    assert "dispatch_failed" in failed.getMessage() and "OSError: disk full" in failed.getMessage()
