"""Scheduled jobs that belong to no case: a period's phase change, a daily report, a schedule check.

A job says which of its slots are due at a moment; the tick claims each slot exactly once by its
key ``(kind, subject, slot)`` (an insert into the jobs table, in the same transaction as the job's
effects), so several daemons, a crash or hours of downtime never run a slot twice or skip it.
A job that raises is put off with a backoff and, after the last attempt, shown as dead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from engine.calendar import BusinessCalendar
from engine.ports import Transaction
from engine.reactors import Effect

__all__ = ["Daily", "JobRun", "JobSlot", "ScheduledJob"]


@dataclass(frozen=True, slots=True)
class JobSlot:
    """One run of a job: ``subject`` (e.g. a period id) and ``slot`` (e.g. a day) are its key."""

    subject: str
    slot: str
    at: datetime


@dataclass(frozen=True, slots=True)
class JobRun:
    """What a job's ``run`` is given: its slot, the transaction (to read), the tick's moment."""

    slot: JobSlot
    tx: Transaction
    now: datetime
    calendar: BusinessCalendar


class ScheduledJob(Protocol):
    """A job of the daemon that is not a case's deadline."""

    @property
    def kind(self) -> str:
        """The job's name, part of its slots' key (stable across releases)."""
        ...

    def due(self, now: datetime, calendar: BusinessCalendar) -> Iterable[JobSlot]:
        """The slots whose moment is at or before ``now`` (claimed ones are skipped by the tick)."""
        ...

    def run(self, job: JobRun) -> Iterable[Effect]:
        """Do the job for one slot: the effects to apply in the slot's transaction."""
        ...


@dataclass(frozen=True)
class Daily:
    """A job run once a day at ``at`` local time from ``first_day`` on (catching up ``catch_up_days``).

    ``action`` gets the run and returns the effects (feed events, outbox messages).
    """

    kind: str
    action: Callable[[JobRun], Iterable[Effect]]
    at: time = time(7, 0)
    first_day: date | None = None
    subject: str = "daily"
    catch_up_days: int = 7
    #: the days the job has work on (None: every day); other days are never due, so never claimed
    only: Callable[[date], bool] | None = None

    def due(self, now: datetime, calendar: BusinessCalendar) -> Iterator[JobSlot]:
        """Each day of the catch-up window (that ``only`` keeps) whose run moment has come."""
        today = calendar.local_date(now)
        day = today - timedelta(days=self.catch_up_days)
        if self.first_day is not None:
            day = max(day, self.first_day)
        while day <= today:
            moment = datetime.combine(day, self.at, tzinfo=calendar.timezone)
            if moment <= now and (self.only is None or self.only(day)):
                yield JobSlot(self.subject, day.isoformat(), moment)
            day += timedelta(days=1)

    def run(self, job: JobRun) -> Iterable[Effect]:
        """Run the action."""
        return self.action(job)
