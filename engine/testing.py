"""Test doubles shipped with kntc, for kntc's own tests and for portals' tests.

- :class:`ManualClock`: a clock that moves only when told (``set``, ``advance``).
- :class:`MemoryStore`: the store port in memory, with real transactions (a failed command
  leaves no trace) and the same contract as the SQL store (the contract suite runs on both).
- :func:`memory_engine`: an :class:`~engine.service.Engine` over both, with the shipped workflows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from engine.calendar import BusinessCalendar, DayOverride
from engine.errors import ValidationError
from engine.loader import load_directory
from engine.memory_store import MemoryStore
from engine.service import Engine

__all__ = ["ManualClock", "MemoryStore", "memory_engine"]


class ManualClock:
    """A clock for tests and simulations: ``now()`` returns what it was set to."""

    def __init__(self, start: datetime) -> None:
        self._now = self._aware(start)

    def now(self) -> datetime:
        """The current simulated moment."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware)."""
        self._now = self._aware(moment)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new moment."""
        self._now = self._now + delta
        return self._now

    @staticmethod
    def _aware(moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError("clock", "ManualClock needs an aware datetime")
        return moment


@cache
def default_calendar() -> BusinessCalendar:
    """The shipped config.yaml's calendar (Saturday 22/08/2026 worked), built once per process."""
    return BusinessCalendar(working_days=[DayOverride(date(2026, 8, 22), "Làm bù cho ngày 31/8/2026")])


def memory_engine(clock: ManualClock, *, workflows_dir: str | Path = "workflows",
                  calendar: BusinessCalendar | None = None) -> Engine:
    """An Engine on a fresh MemoryStore with the workflows of ``workflows_dir``."""
    engine = Engine(store=MemoryStore(), workflows=load_directory(workflows_dir),
                    calendar=calendar or default_calendar(), clock=clock)
    engine.register_definitions()
    return engine
