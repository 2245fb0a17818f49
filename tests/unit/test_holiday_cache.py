"""The holiday table kept on disk (adapters/cache.py): the same calendar as one computed afresh."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import pytest

import engine.calendar
from adapters import cache as disk
from adapters.config import Settings
from engine.calendar import BusinessCalendar, CalendarError, HolidayTable

D = date


@cache
def fresh() -> BusinessCalendar:
    """The default calendar, its holidays computed by the ``holidays`` package."""
    return BusinessCalendar()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk.CACHE_ENV, str(folder))
    return folder


def _no_holidays_package(first_year: int, last_year: int) -> HolidayTable:
    raise AssertionError("the holiday table was computed, not read from the cache")


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("holidays-*.json"))


def test_a_cached_table_gives_the_same_calendar(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A miss writes the table; a hit reads it back without the package, to the same fingerprint and dates."""
    fresh()
    first = disk.holiday_table(2015, 2045)
    assert len(_files(cache_dir)) == 1
    monkeypatch.setattr(engine.calendar, "load_holidays", _no_holidays_package)
    second = disk.holiday_table(2015, 2045)
    assert second == first and list(second.days_off) == sorted(second.days_off)
    # the worked swap Saturdays come back too (H17): Saturday 26/04/2025 paid for Friday 02/05/2025
    assert list(second.worked) == [D(2015, 2, 14), D(2015, 4, 25), D(2019, 1, 5), D(2019, 5, 4), D(2024, 5, 4),
                                   D(2025, 4, 26), D(2026, 8, 22)]
    cached = BusinessCalendar(holidays=second)
    assert cached.fingerprint == fresh().fingerprint
    # Tết 2026 (16-20/02 off): counted by hand, from Friday 13/02 the 7th working day is Tuesday 03/03 and
    # the 10th Friday 06/03; from Tuesday 10/02 (11-13/02, then 23/02 on) the 10th is 03/03
    for start, n, due in [(D(2026, 2, 13), 7, D(2026, 3, 3)), (D(2026, 2, 13), 10, D(2026, 3, 6)),
                          (D(2026, 2, 10), 10, D(2026, 3, 3))]:
        assert cached.due_date(start, n, "working") == due == fresh().due_date(start, n, "working")
    # a calendar-day period whose last day falls in the National Day holidays rolls alike
    assert cached.due_date(D(2026, 8, 1), 30, "calendar") == fresh().due_date(D(2026, 8, 1), 30, "calendar")
    assert cached.day_off_reason(D(2026, 2, 17)) == fresh().day_off_reason(D(2026, 2, 17)) is not None
    assert cached.is_working_day(D(2026, 9, 2)) is False and cached.is_working_day(D(2026, 3, 3)) is True
    assert cached.is_working_day(D(2025, 4, 26)) is True


def test_a_table_of_the_old_format_is_not_read(cache_dir: Path) -> None:
    """A file of the first format (days off only, no worked Saturdays) is left alone: the key changed."""
    package = disk.installed_version("holidays")
    assert package is not None
    old = cache_dir / f"holidays-vn-vi-{package}-2015-2045.json"
    cache_dir.mkdir(parents=True)
    old.write_text('[["2026-02-17", "Tết Nguyên Đán"]]', encoding="utf-8")
    table = disk.holiday_table(2015, 2045)
    assert D(2025, 4, 26) in table.worked and len(table.days_off) > 1
    assert old.read_text(encoding="utf-8") == '[["2026-02-17", "Tết Nguyên Đán"]]'
    assert [p.name for p in _files(cache_dir)] == [old.name, f"holidays-vn-vi-v{disk.HOLIDAY_FORMAT}-{package}"
                                                             "-2015-2045.json"]


def test_the_configured_calendar_uses_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                settings: Settings) -> None:
    """``Settings.build_calendar`` gives the fingerprint of a calendar computed afresh, on a miss and on a hit."""
    cal = settings.calendar
    expected = BusinessCalendar(timezone=settings.timezone, first_year=cal.first_year, last_year=cal.last_year,
                                days_off=[engine.calendar.DayOverride(d.date, d.reason) for d in cal.days_off],
                                working_days=[engine.calendar.DayOverride(d.date, d.reason)
                                              for d in cal.working_days])
    configured = settings.build_calendar()
    monkeypatch.setattr(engine.calendar, "load_holidays", _no_holidays_package)
    again = settings.build_calendar()
    assert configured.fingerprint == again.fingerprint == expected.fingerprint


@pytest.mark.parametrize("body", ["", "not json", "{}", "[[1, 2]]", '[["2026-02-17", "Tết"]]',
                                  '{"days_off": [["2026-02-17"]], "worked": []}',
                                  '{"days_off": [["2099-01-01", "x"]], "worked": []}',
                                  '{"days_off": [["2026-02-17", 7]], "worked": []}',
                                  '{"days_off": [], "worked": [["2025-04-26", "x"]], "more": []}',
                                  '{"days_off": [], "worked": 1}', "\udcff"])
def test_a_corrupt_cache_falls_back_silently(cache_dir: Path, body: str) -> None:
    """A cache file that is not a table of the years is ignored, and replaced by the computed table."""
    disk.holiday_table(2015, 2045)
    (path,) = _files(cache_dir)
    path.write_bytes(body.encode("utf-8", "surrogateescape"))
    table = disk.holiday_table(2015, 2045)
    assert BusinessCalendar(holidays=table).fingerprint == fresh().fingerprint
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "days_off": [[d.isoformat(), n] for d, n in table.days_off.items()],
        "worked": [[d.isoformat(), n] for d, n in table.worked.items()]}


def test_an_unwritable_cache_falls_back_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder that cannot be made (here: a file is in its way) costs the computation, nothing else."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv(disk.CACHE_ENV, str(blocker))
    table = disk.holiday_table(2015, 2045)
    assert BusinessCalendar(holidays=table).fingerprint == fresh().fingerprint
    assert blocker.read_text(encoding="utf-8") == "x"


def test_the_key_holds_the_years(cache_dir: Path) -> None:
    """Another year range is another table (and another file)."""
    narrow = disk.holiday_table(2025, 2027)
    assert {d.year for d in narrow.days_off} == {2025, 2026, 2027}
    assert list(narrow.worked) == [D(2025, 4, 26), D(2026, 8, 22)]  # 2014's and 2019's swaps are left out
    disk.holiday_table(2015, 2045)
    assert len(_files(cache_dir)) == 2
    assert BusinessCalendar(first_year=2025, last_year=2027, holidays=narrow).fingerprint == BusinessCalendar(
        first_year=2025, last_year=2027).fingerprint


@pytest.mark.parametrize("table", [{D(2014, 12, 31): "Tết"}, {D(2026, 1, 1): 1}, {"2026-01-01": "Tết"}])
def test_a_bad_table_is_a_calendar_error(table: dict[object, object]) -> None:
    """A precomputed table with a day outside the range, or not a date with a name, is refused."""
    with pytest.raises(CalendarError, match="holidays"):
        BusinessCalendar(holidays=table)  # type: ignore[arg-type]


def test_a_day_both_off_and_worked_in_a_table_is_a_calendar_error() -> None:
    """A table naming one day both a holiday and a worked swap day contradicts itself: refused, with the day."""
    table = HolidayTable({D(2025, 4, 26): "x"}, {D(2025, 4, 26): "y"})
    with pytest.raises(CalendarError, match="2025-04-26 is both a day off and a worked day"):
        BusinessCalendar(holidays=table)
