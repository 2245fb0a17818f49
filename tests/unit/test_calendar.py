"""Tests for engine.calendar: hand-computed 2026 deadlines and counting properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import BusinessCalendar, CalendarError, DayOverride
from engine.errors import KntcError
from tests.strategies import Pause, Unit, budgets, dates, pause_ledgers, pauses, units

D = date
SWAP = DayOverride(D(2026, 8, 22), "Làm bù cho ngày 31/08/2026")


@cache
def cal() -> BusinessCalendar:
    """Default calendar with the 2026 National Day swap Saturday (as config.yaml declares)."""
    return BusinessCalendar(working_days=[SWAP])


@cache
def wide_cal() -> BusinessCalendar:
    """Calendar wide enough for the property tests (starts up to 2044 + long budgets)."""
    return BusinessCalendar(working_days=[SWAP], first_year=2015, last_year=2050)


# --------------------------------------------------------------------------- days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 1, 1), False),
        (D(2026, 1, 2), True),
        (D(2026, 2, 13), True),
        (D(2026, 2, 14), False),
        (D(2026, 2, 16), False),
        (D(2026, 2, 20), False),
        (D(2026, 2, 22), False),
        (D(2026, 2, 23), True),
        (D(2026, 4, 27), False),
        (D(2026, 4, 28), True),
        (D(2026, 4, 30), False),
        (D(2026, 5, 1), False),
        (D(2026, 8, 22), True),
        (D(2026, 8, 23), False),
        (D(2026, 8, 31), False),
        (D(2026, 9, 2), False),
        (D(2026, 9, 3), True),
        (D(2026, 11, 24), False),
    ],
)
def test_is_working_day_2026(day: date, working: bool) -> None:
    assert cal().is_working_day(day) is working


def test_swap_saturday_comes_from_the_package() -> None:
    """The Saturday worked for 31/08/2026 is a working day without any override (H17)."""
    plain = BusinessCalendar()
    assert plain.is_working_day(D(2026, 8, 22))
    assert plain.day_off_reason(D(2026, 8, 22)) is None
    assert plain.working_day_reason(D(2026, 8, 22)) == "Làm bù cho ngày nghỉ 31/08/2026"
    assert cal().working_day_reason(D(2026, 8, 22)) == SWAP.reason  # the operator's reason first
    assert plain.working_day_reason(D(2026, 8, 23)) is None


def test_a_plain_table_knows_no_swap_saturday() -> None:
    """A table given as ``{day: name}`` is days off only: its Saturdays stay off."""
    plain = BusinessCalendar(holidays={D(2026, 8, 31): "Ngày nghỉ (thay cho ngày 22/08/2026)"})
    assert not plain.is_working_day(D(2026, 8, 22))
    assert plain.day_off_reason(D(2026, 8, 22)) == "Thứ Bảy"


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (D(2026, 3, 3), None),
        (D(2026, 3, 7), "Thứ Bảy"),
        (D(2026, 3, 8), "Chủ nhật"),
        (D(2026, 1, 1), "Tết Dương lịch"),
        (D(2026, 2, 17), "Tết Nguyên Đán"),
        (D(2026, 4, 27), "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),
        (D(2026, 8, 31), "Ngày nghỉ (thay cho ngày 22/08/2026)"),
        (D(2026, 9, 2), "Quốc khánh"),
        (D(2026, 11, 24), "Ngày Văn hóa Việt Nam"),
    ],
)
def test_day_off_reason(day: date, reason: str | None) -> None:
    assert cal().day_off_reason(day) == reason


def test_operator_day_off() -> None:
    c = BusinessCalendar(days_off=[DayOverride(D(2026, 3, 4), "Bão số 3")])
    assert not c.is_working_day(D(2026, 3, 4))
    assert c.day_off_reason(D(2026, 3, 4)) == "Bão số 3"
    # start Mon 2026-03-02: 3 (Tue), 5 (Thu) -> 2 WD
    assert c.add_working_days(D(2026, 3, 2), 2) == D(2026, 3, 5)


def test_day_off_that_is_already_a_holiday_is_accepted() -> None:
    c = BusinessCalendar(days_off=[DayOverride(D(2026, 9, 2), "Quốc khánh (trùng)")])
    assert not c.is_working_day(D(2026, 9, 2))
    assert c.day_off_reason(D(2026, 9, 2)) == "Quốc khánh"


# ---------------------------------------------------------------- working days


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 23,24,25,26,27 Feb, 2,3 Mar
        (D(2026, 2, 13), 7, D(2026, 3, 3)),
        # 11,12,13,23,24,25,26,27 Feb, 2,3 Mar
        (D(2026, 2, 10), 10, D(2026, 3, 3)),
        # 24 Apr, 28, 29 Apr, 4, 5 May (27 Apr, 30 Apr, 1 May off)
        (D(2026, 4, 23), 5, D(2026, 5, 5)),
        # 21 Aug (Fri), 22 Aug (Sat, swap), 24 Aug (Mon)
        (D(2026, 8, 20), 3, D(2026, 8, 24)),
        # 31/8, 1/9, 2/9 off
        (D(2026, 8, 28), 1, D(2026, 9, 3)),
        (D(2026, 8, 28), 2, D(2026, 9, 4)),
    ],
)
def test_working_day_deadlines(start: date, n: int, expected: date) -> None:
    c = cal()
    assert c.add_working_days(start, n) == expected
    assert c.count_date(start, n, "working") == expected
    assert c.due_date(start, n, "working") == expected
    assert c.working_days_between(start, expected) == n


def test_swap_without_override() -> None:
    # 21 (Fri), 22 (Sat, worked for 31/08: from the package), 24 (Mon)
    assert BusinessCalendar().due_date(D(2026, 8, 20), 3, "working") == D(2026, 8, 24)
    # an operator who declares 22/08 a day off after all: 21 (Fri), 24 (Mon), 25 (Tue)
    off = BusinessCalendar(days_off=[DayOverride(D(2026, 8, 22), "Không làm bù")])
    assert off.due_date(D(2026, 8, 20), 3, "working") == D(2026, 8, 25)
    assert off.day_off_reason(D(2026, 8, 22)) == "Không làm bù"


def test_working_days_between_edges() -> None:
    c = cal()
    assert c.working_days_between(D(2026, 3, 3), D(2026, 3, 3)) == 0
    assert c.working_days_between(D(2026, 3, 5), D(2026, 3, 3)) == 0
    assert c.working_days_between(D(2026, 2, 13), D(2026, 2, 22)) == 0
    assert c.working_days_between(D(2026, 2, 12), D(2026, 2, 23)) == 2


def test_next_working_day() -> None:
    c = cal()
    assert c.next_working_day(D(2026, 2, 14)) == D(2026, 2, 23)
    assert c.next_working_day(D(2026, 3, 3)) == D(2026, 3, 3)
    assert c.next_working_day(D(2026, 8, 22)) == D(2026, 8, 22)


@pytest.mark.parametrize("n", [0, -1])
def test_non_positive_budget_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        cal().add_working_days(D(2026, 3, 3), n)
    with pytest.raises(ValueError, match="n must be >= 1"):
        cal().count_date(D(2026, 3, 3), n, "calendar")


def test_unknown_unit_rejected() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        cal().due_date(D(2026, 3, 3), 3, "hours")  # type: ignore[arg-type]


# --------------------------------------------------------------- calendar days


@pytest.mark.parametrize(
    ("start", "n", "last", "due"),
    [
        # 14 Feb is a Saturday in Tết (14-22 Feb off) -> Monday 23 Feb
        (D(2026, 1, 15), 30, D(2026, 2, 14), D(2026, 2, 23)),
        # 30 Apr, 1 May holidays, 2-3 May weekend -> Monday 4 May
        (D(2026, 3, 31), 30, D(2026, 4, 30), D(2026, 5, 4)),
        # 1 Sep, 2 Sep holidays -> 3 Sep
        (D(2026, 8, 2), 30, D(2026, 9, 1), D(2026, 9, 3)),
        # Wednesday, no roll
        (D(2026, 3, 2), 30, D(2026, 4, 1), D(2026, 4, 1)),
    ],
)
def test_calendar_day_deadlines(start: date, n: int, last: date, due: date) -> None:
    assert cal().count_date(start, n, "calendar") == last
    assert cal().due_date(start, n, "calendar") == due


def test_calendar_days_beyond_range_are_plain_arithmetic() -> None:
    # 30 days of Dec left, +31 Jan, +28 Feb, +11 Mar = 100
    assert cal().count_date(D(2045, 12, 1), 100, "calendar") == D(2046, 3, 11)


# --------------------------------------------------------------------- pauses


def test_pause_excludes_suspended_days() -> None:
    c = cal()
    ledger: list[Pause] = [(D(2026, 3, 10), D(2026, 3, 20))]
    # 8 counted (3..10 Mar), 11..20 excluded, 22 more from 21 Mar -> Sat 11 Apr
    assert c.count_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 11)
    assert c.due_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 13)


def test_suspension_day_itself_counts() -> None:
    c = cal()
    open_pause: list[Pause] = [(D(2026, 3, 10), None)]
    assert c.count_date(D(2026, 3, 2), 8, "calendar", open_pause) == D(2026, 3, 10)
    assert c.count_date(D(2026, 3, 2), 9, "calendar", open_pause) is None
    assert c.due_date(D(2026, 3, 2), 30, "calendar", open_pause) is None


def test_open_pause_after_deadline_is_irrelevant() -> None:
    ledger: list[Pause] = [(D(2026, 4, 20), None)]
    assert cal().due_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 1)


def test_closed_then_open_pause() -> None:
    ledger: list[Pause] = [(D(2026, 3, 10), D(2026, 3, 20)), (D(2026, 4, 5), None)]
    # 8 + 15 (21 Mar..4 Apr) + 1 (5 Apr) = 24 < 30 -> unknown
    assert cal().count_date(D(2026, 3, 2), 30, "calendar", ledger) is None
    assert cal().count_date(D(2026, 3, 2), 24, "calendar", ledger) == D(2026, 4, 5)


def test_pause_beginning_before_start_is_clipped() -> None:
    ledger: list[Pause] = [(D(2026, 2, 20), D(2026, 3, 5))]
    # 3..5 Mar excluded; day 1 = 6 Mar, day 26 = 31 Mar, day 30 = Sat 4 Apr -> Mon 6 Apr
    assert cal().count_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 4)
    assert cal().due_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 6)


def test_pause_entirely_before_start_is_ignored() -> None:
    ledger: list[Pause] = [(D(2026, 1, 1), D(2026, 2, 1))]
    assert cal().due_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 1)


def test_overlapping_and_unordered_pauses_merge() -> None:
    c = cal()
    expected = D(2026, 4, 11)
    overlapping: list[Pause] = [(D(2026, 3, 10), D(2026, 3, 15)), (D(2026, 3, 12), D(2026, 3, 20))]
    reversed_: list[Pause] = [(D(2026, 3, 15), D(2026, 3, 20)), (D(2026, 3, 10), D(2026, 3, 15))]
    assert c.count_date(D(2026, 3, 2), 30, "calendar", overlapping) == expected
    assert c.count_date(D(2026, 3, 2), 30, "calendar", reversed_) == expected


def test_pause_in_working_days() -> None:
    ledger: list[Pause] = [(D(2026, 2, 23), D(2026, 2, 25))]
    # 23 Feb counts, 24-25 excluded, then 26, 27 Feb, 2, 3, 4, 5 Mar -> 7th = 5 Mar
    assert cal().due_date(D(2026, 2, 13), 7, "working", ledger) == D(2026, 3, 5)


def test_empty_pause_changes_nothing() -> None:
    ledger: list[Pause] = [(D(2026, 3, 10), D(2026, 3, 10))]
    assert cal().count_date(D(2026, 3, 2), 30, "calendar", ledger) == D(2026, 4, 1)


def test_inverted_pause_rejected() -> None:
    ledger: list[Pause] = [(D(2026, 3, 20), D(2026, 3, 10))]
    with pytest.raises(ValueError, match=r"pause #0 \(2026-03-20, 2026-03-10\)"):
        cal().count_date(D(2026, 3, 2), 30, "calendar", ledger)


# ------------------------------------------------------------------ time of day


def test_day_boundaries_in_utc() -> None:
    c = cal()
    assert c.end_of_day(D(2026, 3, 3)) == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    assert c.end_of_day(D(2026, 3, 3)).utcoffset() == timedelta(0)
    assert c.start_of_day(D(2026, 3, 3)) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_local_date() -> None:
    c = cal()
    assert c.local_date(datetime(2026, 3, 2, 17, 0, tzinfo=UTC)) == D(2026, 3, 3)
    assert c.local_date(datetime(2026, 3, 2, 16, 59, 59, tzinfo=UTC)) == D(2026, 3, 2)
    with pytest.raises(ValueError, match="naive"):
        c.local_date(datetime(2026, 3, 2, 12, 0))


# ------------------------------------------------------------ validation, range


def test_override_outside_range() -> None:
    with pytest.raises(CalendarError, match=r"working_days: 2046-01-06 is outside"):
        BusinessCalendar(working_days=[DayOverride(D(2046, 1, 6), "x")])
    with pytest.raises(CalendarError, match=r"days_off: 2014-12-31 is outside"):
        BusinessCalendar(days_off=[DayOverride(D(2014, 12, 31), "x")])


def test_override_in_both_lists() -> None:
    with pytest.raises(CalendarError, match=r"2026-08-22 is in both days_off \('x'\) and working_days"):
        BusinessCalendar(working_days=[SWAP], days_off=[DayOverride(D(2026, 8, 22), "x")])


def test_override_listed_twice() -> None:
    with pytest.raises(CalendarError, match=r"days_off: 2026-03-04 is listed twice"):
        BusinessCalendar(days_off=[DayOverride(D(2026, 3, 4), "a"), DayOverride(D(2026, 3, 4), "b")])


def test_bad_configuration() -> None:
    assert issubclass(CalendarError, KntcError) and issubclass(CalendarError, ValueError)
    with pytest.raises(CalendarError, match="timezone"):
        BusinessCalendar(timezone="Mars/Olympus")
    with pytest.raises(CalendarError, match="year range"):
        BusinessCalendar(first_year=2030, last_year=2020)


def test_queries_outside_range_raise() -> None:
    c = cal()
    with pytest.raises(ValueError, match="outside the business calendar range"):
        c.is_working_day(D(2046, 1, 2))
    with pytest.raises(ValueError, match="outside the business calendar range"):
        c.working_days_between(D(2014, 12, 1), D(2015, 1, 5))
    with pytest.raises(ValueError, match="beyond the business calendar range"):
        c.add_working_days(D(2045, 12, 28), 5)
    # the day before the range is a valid (uncounted) start
    assert c.add_working_days(D(2014, 12, 31), 1) == D(2015, 1, 5)


def test_fingerprint() -> None:
    a, b = BusinessCalendar(working_days=[SWAP]), cal()
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 64
    assert int(a.fingerprint, 16) >= 0
    off1, off2 = DayOverride(D(2026, 3, 4), "Bão"), DayOverride(D(2026, 3, 5), "Bão")
    assert (
        BusinessCalendar(days_off=[off1, off2]).fingerprint
        == BusinessCalendar(days_off=[off2, off1]).fingerprint
    )
    others = {
        BusinessCalendar().fingerprint,
        BusinessCalendar(working_days=[SWAP], days_off=[off1]).fingerprint,
        BusinessCalendar(working_days=[DayOverride(SWAP.day, "other")]).fingerprint,
        BusinessCalendar(working_days=[SWAP], last_year=2046).fingerprint,
        BusinessCalendar(working_days=[SWAP], timezone="Asia/Bangkok").fingerprint,
    }
    assert a.fingerprint not in others
    assert len(others) == 5


# --------------------------------------------------------------- properties


def brute_count(c: BusinessCalendar, start: date, n: int, unit: Unit, ledger: list[Pause]) -> date | None:
    """Day-by-day oracle for count_date (slow, obviously correct)."""

    def excluded(d: date) -> bool:
        return any(p < d and (r is None or d <= r) for p, r in ledger)

    def paused_forever(d: date) -> bool:
        return any(r is None and p < d for p, r in ledger)

    d, left = start, n
    while True:
        d += timedelta(days=1)
        if paused_forever(d):
            return None
        if not excluded(d) and (unit == "calendar" or c.is_working_day(d)):
            left -= 1
            if left == 0:
                return d


@settings(max_examples=150, deadline=None)
@given(data=st.data(), start=dates(), n=budgets(120), unit=units())
def test_matches_day_by_day_oracle(data: st.DataObject, start: date, n: int, unit: Unit) -> None:
    ledger = data.draw(pause_ledgers(start, max_size=3))
    c = wide_cal()
    assert c.count_date(start, n, unit, ledger) == brute_count(c, start, n, unit, ledger)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), start=dates(), n=budgets(), unit=units())
def test_due_date_is_a_working_day(data: st.DataObject, start: date, n: int, unit: Unit) -> None:
    ledger = data.draw(pause_ledgers(start))
    due = wide_cal().due_date(start, n, unit, ledger)
    if due is not None:
        assert wide_cal().is_working_day(due)
        assert due > start


@settings(max_examples=200, deadline=None)
@given(data=st.data(), start=dates(), n=budgets(), extra=budgets(60), unit=units())
def test_more_budget_never_earlier(data: st.DataObject, start: date, n: int, extra: int, unit: Unit) -> None:
    ledger = data.draw(pause_ledgers(start))
    c = wide_cal()
    small = c.count_date(start, n, unit, ledger)
    big = c.count_date(start, n + extra, unit, ledger)
    if small is None:
        assert big is None
    elif big is not None:
        assert big > small
        small_due = c.due_date(start, n, unit, ledger)
        big_due = c.due_date(start, n + extra, unit, ledger)
        assert small_due is not None
        assert big_due is not None
        assert big_due >= small_due


@settings(max_examples=200, deadline=None)
@given(data=st.data(), start=dates(), n=budgets(), unit=units())
def test_adding_a_pause_never_earlier(data: st.DataObject, start: date, n: int, unit: Unit) -> None:
    ledger = data.draw(pause_ledgers(start, allow_open=False))
    extra = data.draw(pauses(start))
    c = wide_cal()
    before = c.due_date(start, n, unit, ledger)
    after = c.due_date(start, n, unit, [*ledger, extra])
    assert before is not None
    assert after is None or after >= before


@settings(max_examples=200, deadline=None)
@given(start=dates(), a=budgets(200), b=budgets(200), unit=units())
def test_count_composes(start: date, a: int, b: int, unit: Unit) -> None:
    c = wide_cal()
    mid = c.count_date(start, a, unit)
    assert mid is not None
    assert c.count_date(start, a + b, unit) == c.count_date(mid, b, unit)


@settings(max_examples=200, deadline=None)
@given(start=dates(), n=budgets())
def test_working_days_roundtrip(start: date, n: int) -> None:
    c = wide_cal()
    end = c.add_working_days(start, n)
    assert c.is_working_day(end)
    assert c.working_days_between(start, end) == n
    assert c.working_days_between(start, end - timedelta(days=1)) == n - 1


@settings(max_examples=100, deadline=None)
@given(day=dates())
def test_day_boundaries_roundtrip(day: date) -> None:
    c = wide_cal()
    assert c.end_of_day(day) == c.start_of_day(day + timedelta(days=1))
    assert c.local_date(c.start_of_day(day)) == day
    assert c.local_date(c.end_of_day(day) - timedelta(microseconds=1)) == day
    assert (c.day_off_reason(day) is None) == c.is_working_day(day)
