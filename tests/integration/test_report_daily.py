"""The daily report job (engine/report_job.py): one ``report.generated`` per day of a reporting phase, with two daemons.

Two Engine instances over one SQLite file tick the same days, in turns and after a gap; each day of a phase
whose policy has ``daily_report: true`` is reported exactly once, with that day's figures, and its head of
unit and director are told once each.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.bootstrap import build
from adapters.config import Settings
from engine import Engine
from engine.periods import Period, PhasePolicy
from engine.report_job import daily_report_job, reporting_phase
from engine.testing import ManualClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# reporting days: 10, 11, 12/03 (before) and 15/03 (during); 13-14/03 lie in no phase, 16-17/03 ("after") ask none
PERIOD = Period.model_validate({
    "id": "bau_cu", "kind": "election", "label": "Bầu cử thử", "day": "2026-03-15",
    "phases": {"before": {"from": "2026-03-10", "to": "2026-03-12"},
               "during": {"from": "2026-03-15", "to": "2026-03-15"},
               "after": {"from": "2026-03-16", "to": "2026-03-17"}},
    "policy": {"before": {"daily_report": True}, "during": {"daily_report": True}}})


def at(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=TZ)


def daemon(settings: Settings, url: str, clock: ManualClock) -> Engine:
    built = build(settings, database_url=url, clock=clock)
    rt = built.runtime
    engine = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=clock,
                    jobs=[daily_report_job([PERIOD], at=time(18, 0))])
    engine.runtime.use_periods([PERIOD])
    return engine


def test_a_policy_may_ask_for_a_daily_report() -> None:
    assert PhasePolicy.model_validate({"daily_report": True}).daily_report is True
    assert reporting_phase([PERIOD], date(2026, 3, 11)).phase == "before"  # type: ignore[union-attr]
    assert reporting_phase([PERIOD], date(2026, 3, 16)) is None  # "after" asks none
    assert reporting_phase([PERIOD], date(2026, 3, 13)) is None  # in no phase


def test_two_daemons_report_each_active_day_once(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kntc.db'}"
    clock = ManualClock(at(3, 9, 9))
    first, second = daemon(settings, url, clock), daemon(settings, url, clock)
    try:
        # two letters on 11/03 (one 09:00, one 17:00 local), one on 12/03; the one of 11/03 09:00 guided that day
        for moment in (at(3, 11, 9), at(3, 11, 17), at(3, 12, 10)):
            clock.set(moment)
            first.open_case("letter", received_at=moment, petitioners=[{"name": "Người 0"}],
                            respondent="UBND phường Xuân Hương", subject="Đơn thử nghiệm")
        guided = first.events(limit=10)[0].case_id
        assert guided is not None
        clock.set(at(3, 11, 10))
        first.fire(guided, "classify", actor="cb", role="inspector")
        first.fire(guided, "guide", actor="cb", role="inspector")
        # 10/03 17:59: not yet; then both daemons at 18:00 and later, in turns, and a gap to 18/03
        for moment, engine in ((at(3, 10, 17, 59), first), (at(3, 10, 18), first), (at(3, 10, 18), second),
                               (at(3, 11, 18, 30), second), (at(3, 11, 19), first), (at(3, 12, 18), second),
                               (at(3, 12, 18), first), (at(3, 18, 20), first), (at(3, 18, 20), second),
                               (at(3, 19, 20), second)):
            clock.set(moment)
            engine.tick()
        reports = [e for e in first.events(limit=10_000) if e.type == "report.generated"]
        assert [(e.data["day"], e.data["phase"], e.case_id) for e in reports] == [
            ("2026-03-10", "before", None), ("2026-03-11", "before", None), ("2026-03-12", "before", None),
            ("2026-03-15", "during", None)]
        by_day = {e.data["day"]: e.data for e in reports}
        assert (by_day["2026-03-11"]["received"], by_day["2026-03-11"]["resolved"]) == (2, 1)
        assert (by_day["2026-03-12"]["received"], by_day["2026-03-12"]["resolved"]) == (1, 0)
        assert by_day["2026-03-10"] == {"day": "2026-03-10", "period": "bau_cu", "phase": "before", "received": 0,
                                        "resolved": 0, "overdue_now": 0, "hot_spots": {}}
        with first.runtime.store.reader() as tx:
            told = [(m.data["day"], m.data["role"]) for m in tx.outbox(limit=1000) if m.kind == "daily_report"]
        assert sorted(told) == sorted((d, role) for d in ("10/03/2026", "11/03/2026", "12/03/2026", "15/03/2026")
                                      for role in ("head_of_unit", "director"))
    finally:
        first.close()
        second.close()
