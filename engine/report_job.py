"""The daily report of a sensitive period's phases (DESIGN §6c): a daemon job, once a day.

:func:`daily_report_job` is a :class:`engine.jobs.Daily` (kind :data:`KIND`) run at ``at`` local
time. For a day in a phase whose policy has ``daily_report: true`` it computes that day's report
(the same figures as :meth:`engine.service.Engine.report` for the one day, read in the job's
transaction) and

- raises the caseless feed event :data:`REPORT_GENERATED` with ``day`` (ISO), ``period``,
  ``phase``, ``received``, ``resolved``, ``overdue_now`` and ``hot_spots`` (type -> count, the
  types seen that day): figures only, no case and no person;
- queues one ``notify`` message (kind :data:`NOTIFY_KIND`) for each of :data:`ROLES`, with the day
  as ``dd/mm/yyyy`` and the same figures; the router turns the role into people.

The tick claims the slot ``("report.daily", "report", <day ISO>)`` in the transaction of these
effects, so however many daemons tick, a day is reported once; a daemon that was down catches up
the days it missed (``Daily.catch_up_days``). A day outside such a phase is claimed and does
nothing. When several phases with a daily report are in force, the first by period id names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.jobs import Daily, JobRun
from engine.model import NewEvent
from engine.periods import ActivePhase, Period, phases_at
from engine.reactors import Effect, Emit, Enqueue
from engine.report_compute import build_report

__all__ = ["KIND", "NOTIFY_KIND", "REPORT_GENERATED", "ROLES", "daily_report_job", "reporting_phase"]

#: The job's kind (its slots' key).
KIND = "report.daily"
#: The feed event of a daily report.
REPORT_GENERATED = "report.generated"
#: The outbox message's kind (channel ``notify``; its template is ``daily_report``).
NOTIFY_KIND = "daily_report"
#: Who is told of each daily report.
ROLES = ("head_of_unit", "director")


def reporting_phase(periods: Iterable[Period], day: date) -> ActivePhase | None:
    """The first phase in force on ``day`` (by period id) whose policy asks for a daily report."""
    return next((a for a in phases_at(periods, day) if a.policy.daily_report), None)


def daily_report_job(periods: Sequence[Period], *, at: time = time(18, 0)) -> Daily:
    """The daily report job (see the module doc); ``at``: the local time it runs each day."""
    found = tuple(periods)
    starts = [span.from_ for p in found for name, span in p.phases.items() if p.policy_of(name).daily_report]
    first_day = min(starts) if starts else None

    def report_day(job: JobRun) -> Iterable[Effect]:
        day = date.fromisoformat(job.slot.slot)
        active = reporting_phase(found, day)
        if active is None:
            return []
        zone = job.calendar.timezone
        begin = datetime.combine(day, time(0), tzinfo=zone)
        stop = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        figures = job.tx.report_figures(begin, stop, min(stop, job.now), zone)
        report = build_report(figures, day, day, kinds=(), periods=found)
        summary = report.tables["summary_by_kind"]
        counts: dict[str, Any] = {
            "received": sum(r["received"] for r in summary), "resolved": sum(r["resolved"] for r in summary),
            "overdue_now": sum(r["overdue_now"] for r in summary),
            "hot_spots": {r["type"]: r["count"] for r in report.tables["hot_spots_by_type"] if r["count"]}}
        data = {"day": day.isoformat(), "period": active.period, "phase": active.phase, **counts}
        effects: list[Effect] = [Emit(NewEvent(REPORT_GENERATED, None, job.now, data))]
        effects.extend(Enqueue("notify", NOTIFY_KIND, None, {
            "event": REPORT_GENERATED, "day": day.strftime("%d/%m/%Y"), "role": role, "period": active.period,
            "phase": active.phase, **counts}) for role in ROLES)
        return effects

    return Daily(kind=KIND, action=report_day, at=at, first_day=first_day, subject="report",
                 only=lambda day: reporting_phase(found, day) is not None)
