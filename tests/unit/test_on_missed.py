"""A duty missed fires its ``on_missed`` event, and a late act is missed even before a tick ran
(issue 10 task K items 1-2; DESIGN.md §10), walked on tests/unit/schema_workflows/late_duties.yaml.
Dates are Hà Nội local dates on 2026's calendar (Tết 14-22/02 off).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.service import Engine
from engine.testing import ManualClock, memory_engine
from tests.unit.broken_copy import broken_copy

HN = ZoneInfo("Asia/Ho_Chi_Minh")
FOLDER = Path(__file__).parent / "schema_workflows"
GOOD = FOLDER / "late_duties.yaml"


def at(day: int, month: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=HN)


def accepted(on: datetime) -> tuple[Engine, ManualClock, str]:
    clock = ManualClock(on)
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("late_duties", received_at=on, petitioners=[{"name": "Người khiếu nại"}],
                            respondent="UBND huyện", subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    return engine, clock, case.id


def test_a_missed_resolution_opens_the_second_window_from_the_day_the_time_expired() -> None:
    """Accepted Fri 23/01/2026: 30 CD -> Sun 22/02, a day off (Tết to 22/02) -> due Mon 23/02.
    The tick of Tue 24/02 marks it missed and fires `resolution_expired` dated 23/02: the window
    counts from 23/02 (LKN Điều 33 k1 "kể từ ngày hết thời hạn giải quyết"): 23/02 + 30 CD =
    28/02 (5) + 25/03 (30) -> due Wed 25/03/2026."""
    engine, clock, case_id = accepted(at(23, 1))
    assert engine.get(case_id).deadlines["resolution"].due_date == date(2026, 2, 23)
    clock.set(at(23, 2, 23))  # the last day itself: not yet missed, no window
    engine.tick()
    assert "second_window" not in engine.get(case_id).deadlines
    clock.set(at(24, 2, 9))
    engine.tick()
    case = engine.get(case_id)
    assert case.state == "resolving"
    assert case.deadlines["resolution"].status == "missed"
    window = case.deadlines["second_window"]
    assert (window.status, window.due_date) == ("running", date(2026, 3, 25))
    assert case.deadlines["second_window"].started_at.date() == date(2026, 2, 23)
    assert engine.history(case_id)[-1].event == "resolution_expired"


def test_after_downtime_the_window_still_counts_from_the_day_the_time_expired() -> None:
    """The same case, the first tick only on Tue 10/03/2026: the window is still due Wed 25/03."""
    engine, clock, case_id = accepted(at(23, 1))
    clock.set(at(10, 3, 9))
    engine.tick()
    assert engine.get(case_id).deadlines["second_window"].due_date == date(2026, 3, 25)
    engine.fire(case_id, "appeal", actor="cb01", role="clerk")
    assert engine.get(case_id).deadlines["second_window"].status == "met"


def test_a_decision_after_the_due_moment_is_missed_even_before_a_tick_ran() -> None:
    """Due Mon 23/02/2026 (above); decided Tue 24/02 10:00 with no tick since: missed (DESIGN §10)."""
    engine, clock, case_id = accepted(at(23, 1))
    clock.set(at(24, 2))
    case = engine.fire(case_id, "decide", actor="gd01", role="director")
    assert case.deadlines["resolution"].status == "missed"


def test_a_decision_on_the_last_day_is_met() -> None:
    """Decided Mon 23/02/2026 at 16:00, the last day of the time limit: met."""
    engine, clock, case_id = accepted(at(23, 1))
    clock.set(at(23, 2, 16))
    case = engine.fire(case_id, "decide", actor="gd01", role="director")
    assert case.deadlines["resolution"].status == "met"


def test_a_decision_recorded_late_but_dated_in_time_is_met() -> None:
    """Signed Mon 23/02, entered Wed 25/02 with occurred_at: met by its date."""
    engine, clock, case_id = accepted(at(23, 1))
    clock.set(at(25, 2))
    case = engine.fire(case_id, "decide", actor="gd01", role="director", occurred_at=at(23, 2, 15))
    assert case.deadlines["resolution"].status == "met"


def _broken(tmp_path: Path, old: str, new: str) -> str:
    return broken_copy(GOOD, tmp_path, old, new)


def test_on_missed_names_an_event_that_exists(tmp_path: Path) -> None:
    assert "unknown event 'vanish'" in _broken(tmp_path, "on_missed: resolution_expired", "on_missed: vanish")


def test_on_missed_is_fired_by_the_system(tmp_path: Path) -> None:
    message = _broken(tmp_path, 'to: "@same", roles: [system]', 'to: "@same", roles: [clerk]')
    assert "resolution_expired" in message and "roles: [system]" in message


def test_on_missed_fires_from_every_state_the_clock_runs_in(tmp_path: Path) -> None:
    """The resolution runs in `transferring` too once out_of_jurisdiction no longer stops it."""
    message = _broken(tmp_path, "stops_on: [decide, appeal, out_of_jurisdiction]", "stops_on: [decide, appeal]")
    assert "cannot fire from state 'transferring'" in message


def test_a_timer_has_no_on_missed(tmp_path: Path) -> None:
    message = _broken(tmp_path, "    on_missed: resolution_expired\n",
                      "    on_missed: resolution_expired\n    on_due: decide\n")
    assert "never missed" in message
