"""The production clock (the only place that reads the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SystemClock"]


class SystemClock:
    """``now()`` is the system time, aware, in UTC."""

    def now(self) -> datetime:
        """The current moment."""
        return datetime.now(UTC)
