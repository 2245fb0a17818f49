"""Swapped working days and operator overrides: every worked Saturday the ``holidays`` package knows (H17),
and 24/11 (Ngày Văn hóa Việt Nam), a day off by default that config can make a working day.

Hand counts below; weekdays: Thu 24/04/2025, Sat 26/04/2025, Fri 02/05/2025, Mon 12/05/2025,
Fri 20/11/2026, Tue 24/11/2026, Sat 24/10/2026, Sun 25/10/2026.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

from adapters.config import load_settings
from engine.calendar import BusinessCalendar, DayOverride
from engine.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
D = date

#: Each swap in the package (0.109): the Saturday worked, and the weekday given off for it
SWAPS = [
    (D(2015, 2, 14), D(2015, 2, 16)),  # Tết Ất Mùi
    (D(2015, 4, 25), D(2015, 4, 29)),  # 30/04
    (D(2019, 1, 5), D(2018, 12, 31)),  # New Year 2019
    (D(2019, 5, 4), D(2019, 4, 29)),  # 30/04
    (D(2024, 5, 4), D(2024, 4, 29)),  # 30/04
    (D(2025, 4, 26), D(2025, 5, 2)),  # 30/04 - 01/05
    (D(2026, 8, 22), D(2026, 8, 31)),  # Quốc khánh
]


@cache
def package() -> BusinessCalendar:
    """The calendar from the package alone, no override."""
    return BusinessCalendar()


@pytest.mark.parametrize(("worked", "off"), SWAPS)
def test_every_worked_saturday_is_a_working_day(worked: date, off: date) -> None:
    assert worked.weekday() == 5
    assert package().is_working_day(worked)
    assert package().working_day_reason(worked) == f"Làm bù cho ngày nghỉ {off.strftime('%d/%m/%Y')}"
    assert not package().is_working_day(off)


def test_h17_complaint_acceptance_across_the_2025_swap() -> None:
    # 10 WD from Thu 24/04/2025: Fri 25 (1), Sat 26 worked (2), Mon 28 (3), Tue 29 (4); 30/04, 01/05 and
    # Fri 02/05 (the swap) off; Mon 05 (5), 06 (6), 07 (7), 08 (8), Fri 09 (9), Mon 12/05 (10)
    assert package().due_date(D(2025, 4, 24), 10, "working") == D(2025, 5, 12)
    # before the fix the Saturday was off: Tue 13/05/2025
    assert BusinessCalendar(days_off=[DayOverride(D(2025, 4, 26), "không làm bù")]).due_date(
        D(2025, 4, 24), 10, "working") == D(2025, 5, 13)


def test_24_11_is_a_day_off_unless_config_says_otherwise() -> None:
    worked = BusinessCalendar(working_days=[DayOverride(D(2026, 11, 24), "BLLĐ Điều 112 chưa sửa đổi")])
    assert package().day_off_reason(D(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert worked.is_working_day(D(2026, 11, 24))
    assert worked.working_day_reason(D(2026, 11, 24)) == "BLLĐ Điều 112 chưa sửa đổi"
    # 5 WD from Fri 20/11/2026: Mon 23 (1), Tue 24 off, Wed 25 (2), 26 (3), 27 (4), Mon 30/11 (5)
    assert package().due_date(D(2026, 11, 20), 5, "working") == D(2026, 11, 30)
    # with 24/11 worked: 23 (1), 24 (2), 25 (3), 26 (4), Fri 27/11 (5)
    assert worked.due_date(D(2026, 11, 20), 5, "working") == D(2026, 11, 27)
    # 30 CD from Sun 25/10/2026: 26-31/10 (6) + 1-24/11 (24) -> Tue 24/11; off, so Wed 25/11 by default
    assert package().due_date(D(2026, 10, 25), 30, "calendar") == D(2026, 11, 25)
    assert worked.due_date(D(2026, 10, 25), 30, "calendar") == D(2026, 11, 24)
    # 1 month from Sat 24/10/2026 ends on the same-numbered day, Tue 24/11, alike
    assert package().due_date(D(2026, 10, 24), 1, "month") == D(2026, 11, 25)
    assert worked.due_date(D(2026, 10, 24), 1, "month") == D(2026, 11, 24)


def configured(tmp_path: Path, calendar: str) -> Path:
    """The shipped config.yaml with its ``calendar:`` section replaced by ``calendar``."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    head, rest = text.split("calendar:\n", 1)
    tail = rest[rest.index("\n\n"):]  # the section ends at the first blank line
    path = tmp_path / "config.yaml"
    path.write_text(f"{head}calendar:\n{calendar}{tail}", encoding="utf-8")
    return path


def test_config_makes_24_11_a_working_day(tmp_path: Path) -> None:
    path = configured(tmp_path, '  working_days:\n'
                                '    - {date: 2026-11-24, reason: "BLLĐ Điều 112 chưa sửa đổi (Q8)"}\n')
    cal = load_settings(path).build_calendar()
    assert cal.is_working_day(D(2026, 11, 24))
    # as above: 23 (1), 24 (2), 25 (3), 26 (4), Fri 27/11 (5)
    assert cal.due_date(D(2026, 11, 20), 5, "working") == D(2026, 11, 27)
    assert cal.is_working_day(D(2025, 4, 26))  # no override needed for the package's swaps


def test_config_makes_a_worked_saturday_a_day_off(tmp_path: Path) -> None:
    path = configured(tmp_path, '  days_off:\n    - {date: 2025-04-26, reason: "Quyết định của Giám đốc Sở"}\n')
    cal = load_settings(path).build_calendar()
    assert cal.day_off_reason(D(2025, 4, 26)) == "Quyết định của Giám đốc Sở"
    assert cal.due_date(D(2025, 4, 24), 10, "working") == D(2025, 5, 13)  # H17 count without the Saturday


def test_a_day_declared_both_ways_is_refused(tmp_path: Path) -> None:
    path = configured(tmp_path, '  working_days:\n    - {date: 2026-11-24, reason: "làm việc"}\n'
                                '  days_off:\n    - {date: 2026-11-24, reason: "nghỉ"}\n')
    with pytest.raises(ConfigError, match=r"config\.yaml: calendar: 2026-11-24 is in both days_off \('nghỉ'\) "
                                          r"and working_days \('làm việc'\): keep one"):
        load_settings(path).build_calendar()
