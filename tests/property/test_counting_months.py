"""Properties of periods in months and years (BLDS 2015 Điều 148), for random starts and suspensions.

* the last day is the same-numbered day of the month ``n`` months on, or that month's last day when
  it has no such day; ``n`` years are ``12 n`` months;
* more months never end earlier; the due date is a working day after the start, and the first
  working day on or after the last day;
* a suspension that starts within the period moves the last day by exactly the days it excludes
  (``paused_on < d <= resumed_on``); one still open leaves the end unknown;
* a warning at a fraction of the budget falls within the period.
"""

from __future__ import annotations

import calendar as gregorian
from datetime import date, timedelta
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import BusinessCalendar
from tests.strategies import dates

EXAMPLES = settings(max_examples=200, deadline=None)
months = st.integers(1, 120)
starts = dates(date(2015, 1, 1), date(2037, 12, 31))  # + 144 months stays within the calendar (2050)


@cache
def cal() -> BusinessCalendar:
    return BusinessCalendar(first_year=2015, last_year=2050)


@EXAMPLES
@given(start=starts, n=months)
def test_the_same_numbered_day_or_the_last(start: date, n: int) -> None:
    last = cal().count_date(start, n, "month")
    assert last is not None
    assert (last.year - start.year) * 12 + last.month - start.month == n
    month_days = gregorian.monthrange(last.year, last.month)[1]
    assert last.day == min(start.day, month_days)
    if n % 12 == 0:
        assert cal().count_date(start, n // 12, "year") == last


@EXAMPLES
@given(start=starts, n=months, extra=st.integers(1, 24))
def test_more_months_never_end_earlier(start: date, n: int, extra: int) -> None:
    small, big = cal().due_date(start, n, "month"), cal().due_date(start, n + extra, "month")
    last = cal().count_date(start, n, "month")
    assert small is not None and big is not None and last is not None
    assert big >= small > start
    assert cal().is_working_day(small)
    assert small == cal().next_working_day(last)


@EXAMPLES
@given(start=starts, n=st.integers(1, 36), lag=st.integers(0, 2000), length=st.integers(0, 90),
       open_pause=st.booleans())
def test_a_suspension_moves_the_end_by_its_days(start: date, n: int, lag: int, length: int,
                                                open_pause: bool) -> None:
    plain = cal().count_date(start, n, "month")
    assert plain is not None
    paused_on = start + timedelta(days=lag % max(1, (plain - start).days))  # within the period
    resumed_on = None if open_pause else paused_on + timedelta(days=length)
    moved = cal().count_date(start, n, "month", [(paused_on, resumed_on)])
    if resumed_on is None:
        assert moved is None
    else:
        assert moved == plain + timedelta(days=length)


@EXAMPLES
@given(start=starts, n=st.integers(1, 5), fraction=st.floats(0.01, 0.99))
def test_a_warning_falls_within_the_period(start: date, n: int, fraction: float) -> None:
    span = cal().period_days(start, n, "year")
    last = cal().count_date(start, n, "year")
    assert last == start + timedelta(days=span)
    warn = cal().count_date(start, max(1, int(fraction * span)), "calendar")
    assert warn is not None and start < warn <= last
