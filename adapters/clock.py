"""The production clock (the only place that reads the wall clock) and the simulated one of ``--now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.ports import Clock

__all__ = ["OffsetClock", "SystemClock"]


class SystemClock:
    """``now()`` is the system time, aware, in UTC."""

    def now(self) -> datetime:
        """The current moment."""
        return datetime.now(UTC)


class OffsetClock:
    """A clock running at real speed from a simulated start (``kntc daemon --now``)."""

    def __init__(self, base: Clock, start: datetime) -> None:
        self.base = base
        self.offset: timedelta = start - base.now()

    def now(self) -> datetime:
        """The simulated current moment."""
        return self.base.now() + self.offset
