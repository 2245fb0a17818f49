"""The roster's gaps (engine.roster.roster_gaps): which days without anyone on duty are reported, and why.

The 2026 elections: Sunday 15/03/2026 is election day, the ``during`` phase, whose policy asks
for cover every day (``roster: every_day``: "trước và trong các ngày diễn ra bầu cử (kể cả
ngày nghỉ)"); the ``before`` phase (05/01..14/03) asks for working days only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from engine.calendar import CalendarError
from engine.periods import Period
from engine.roster import WORKING_DAY_REASON, Duty, RosterGap, days, roster_gaps
from engine.testing import default_calendar

CALENDAR = default_calendar()
DURING_REASON = "giai đoạn during của bau_cu_2026 yêu cầu trực mọi ngày"


def election(**policy: Any) -> Period:
    """The 2026 election; its ``during`` phase (Sunday 15/03/2026) needs cover every day."""
    return Period.model_validate({
        "id": "bau_cu_2026", "kind": "election", "label": "Bầu cử 2026", "day": "2026-03-15",
        "phases": {"before": {"from": "2026-01-05", "to": "2026-03-14"},
                   "during": {"from": "2026-03-15", "to": "2026-03-15"},
                   "after": {"from": "2026-03-16", "to": "2026-05-15"}},
        "policy": {"during": {"roster": "every_day"}, **policy}})


def working_days_covered(start: date, end: date) -> list[Duty]:
    """One officer on each working day of ``start``..``end``, nobody on a day off."""
    return [Duty(d, "tt01", "Phòng tiếp công dân") for d in days(start, end) if CALENDAR.is_working_day(d)]


def test_a_hole_on_election_day_in_the_during_phase_is_the_one_gap() -> None:
    """Mon 09/03..Sun 22/03/2026, every working day covered: only Sunday 15/03 (every_day) is a gap.

    Saturday 14/03 (``before``: working days only) and the weekend 21-22/03 (``after``) are not.
    """
    duties = working_days_covered(date(2026, 3, 9), date(2026, 3, 22))
    assert roster_gaps(duties, date(2026, 3, 9), date(2026, 3, 22), CALENDAR, [election()]) == [
        RosterGap(date(2026, 3, 15), DURING_REASON, "bau_cu_2026", "during")]


def test_a_weekend_outside_any_every_day_phase_is_not_a_gap() -> None:
    """Saturday 21 and Sunday 22/03/2026 (``after`` phase) and 28-29/03 (no phase): nobody needed."""
    assert roster_gaps([], date(2026, 3, 21), date(2026, 3, 22), CALENDAR, [election()]) == []
    assert roster_gaps([], date(2026, 3, 28), date(2026, 3, 29), CALENDAR, []) == []


def test_a_working_day_without_anyone_is_a_gap() -> None:
    """Monday 16/03/2026 left out of a covered week: reported as a working day without cover."""
    duties = [d for d in working_days_covered(date(2026, 3, 16), date(2026, 3, 20)) if d.day != date(2026, 3, 16)]
    assert roster_gaps(duties, date(2026, 3, 16), date(2026, 3, 20), CALENDAR, [election()]) == [
        RosterGap(date(2026, 3, 16), WORKING_DAY_REASON, None, None)]


def test_a_working_day_of_an_every_day_phase_is_reported_once_with_the_phase() -> None:
    """``before`` asks for every day too: Friday 13/03 (working) and Saturday 14/03 are gaps, once each."""
    found = roster_gaps([], date(2026, 3, 13), date(2026, 3, 14), CALENDAR,
                        [election(before={"roster": "every_day"})])
    assert [(g.day, g.phase, g.reason) for g in found] == [
        (date(2026, 3, 13), "before", "giai đoạn before của bau_cu_2026 yêu cầu trực mọi ngày"),
        (date(2026, 3, 14), "before", "giai đoạn before của bau_cu_2026 yêu cầu trực mọi ngày")]


def test_one_officer_is_enough_cover_and_a_holiday_needs_none_outside_a_phase() -> None:
    """Election day with one officer: no gap. Thursday 30/04/2026 (Ngày Giải phóng miền Nam): not a gap."""
    assert roster_gaps([Duty(date(2026, 3, 15), "tt02")], date(2026, 3, 15), date(2026, 3, 15), CALENDAR,
                       [election()]) == []
    assert not CALENDAR.is_working_day(date(2026, 4, 30))
    assert roster_gaps([], date(2026, 4, 30), date(2026, 4, 30), CALENDAR, []) == []


def test_a_day_outside_the_calendar_raises_a_calendar_error() -> None:
    """2046 is past the calendar's years (2015..2045): the check says so rather than guessing."""
    with pytest.raises(CalendarError, match="outside the business calendar range"):
        roster_gaps([], date(2046, 1, 2), date(2046, 1, 2), CALENDAR, [])


def test_days_are_both_ends_included() -> None:
    """days(a, b) runs from a to b included; none when b is before a."""
    start = date(2026, 2, 27)
    assert list(days(start, date(2026, 3, 1))) == [start, start + timedelta(days=1), date(2026, 3, 1)]
    assert list(days(start, start - timedelta(days=1))) == []
