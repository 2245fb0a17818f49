"""What the ``holidays`` package says of Vietnam's years: days off and the weekend days worked for them.

Pure apart from importing the package (lazily, at the first call): :func:`load_holidays` is what
:class:`engine.calendar.BusinessCalendar` computes when it is given no table; an adapter may compute
it once and keep it (``adapters/cache.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

__all__ = ["HolidayTable", "load_holidays"]


@dataclass(frozen=True)
class HolidayTable:
    """What the ``holidays`` package says of the years: days off and weekend days worked, each named."""

    days_off: Mapping[date, str]
    worked: Mapping[date, str]


def load_holidays(first_year: int, last_year: int) -> HolidayTable:
    """Vietnamese public holidays (Vietnamese names) and worked swap days for the years, sorted by day.

    The worked days are the package's ``weekend_workdays`` (the Saturday worked for a weekday given
    off, from its special-holiday tuples), kept within the years; each is named after the day off it
    pays for (the package names that day "Ngày nghỉ (thay cho ngày <Saturday>)"). What
    :class:`BusinessCalendar` computes when it is given no ``holidays`` table; an adapter may compute
    it once and keep it (``adapters/cache.py``), as it takes ~0.17 s for 31 years.
    """
    import holidays  # lazy: keep module import free of work

    table = holidays.country_holidays("VN", years=range(first_year, last_year + 1), language="vi")
    days_off = {d: str(name) for d, name in sorted(table.items())}
    worked: dict[date, str] = {}
    for day in sorted(getattr(table, "weekend_workdays", ())):
        if first_year <= day.year <= last_year:
            stamp = day.strftime("%d/%m/%Y")
            paid = [d for d, name in days_off.items() if stamp in name]
            worked[day] = (f"Làm bù cho ngày nghỉ {paid[0].strftime('%d/%m/%Y')}" if paid
                           else "Ngày làm bù (hoán đổi ngày làm việc)")
    return HolidayTable(days_off, worked)
