"""The demo's files beside the feed: the season's XLSX report and the reception schedule (ICS).

The director's reception days (one a month, the tenth working day, LTCD Điều 18) are scheduled and
published at the start of the season (:func:`schedule_days`) and held on their day
(:func:`hold_due`); :func:`write_outputs` writes ``report.xlsx`` (``Engine.report`` of the
season) and ``schedule.ics`` (the published days and the duty roster).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.config import Settings
from adapters.people_source import load_directory
from adapters.reports.ical import schedule_ics
from adapters.reports.writers import write_report
from engine.errors import KntcError
from engine.reception_days import hold, publish, reception_days, schedule_reception
from engine.service import Engine

__all__ = ["hold_due", "schedule_days", "write_outputs"]

HOST = "gd01"
ACTOR, ROLE = "tp01", "head_of_unit"


def schedule_days(eng: Engine, settings: Settings, working: list[date]) -> dict[date, str]:
    """Schedule and publish one reception day of the director a month; returns day -> case id."""
    with eng.runtime.store.reader() as tx:
        directory = load_directory(settings, tx)
    out: dict[date, str] = {}
    for month in sorted({d.month for d in working}):
        days = [d for d in working if d.month == month]
        if len(days) < 10:
            continue
        try:
            case = schedule_reception(eng, days[9], HOST, directory=directory, actor=ACTOR, role=ROLE)
            publish(eng, case.id, actor=ACTOR, role=ROLE)
        except KntcError:
            continue  # a day the rules refuse is left out; the monthly check then says so
        out[days[9]] = case.id
    return out


def hold_due(eng: Engine, days: dict[date, str], today: date) -> None:
    """Hold today's reception day, if one is scheduled."""
    if today in days:
        with suppress(KntcError):  # not held: the schedule shows it as published only
            hold(eng, days[today], actor=HOST, role="director")


def write_outputs(eng: Engine, settings: Settings, out_dir: Path, start: date, end: date) -> dict[str, Path]:
    """``report.xlsx`` of ``start``..``end`` and ``schedule.ics``; returns name -> path."""
    report = write_report(eng.report(start, end), out_dir / "report.xlsx", "xlsx")
    with eng.runtime.store.reader() as tx:
        directory = load_directory(settings, tx)
        duties = tx.duties(start, end)
    data = schedule_ics(reception_days(eng, start, end, published_only=True), duties, directory,
                        ZoneInfo(settings.timezone), stamp=eng.clock.now())
    ics = out_dir / "schedule.ics"
    ics.write_bytes(data)
    return {"report": report, "schedule": ics}
