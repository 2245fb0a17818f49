"""Business calendar and deadline counting for kntc (pure, no I/O, no clock).

Counting rules (Bộ luật Dân sự 2015, Điều 147-148, as kntc applies them):

* ``start`` is the day the clock was triggered (receipt, decision, event). It is NOT counted; counting begins
  the next day (Điều 147 k2-3).
* ``count_date(start, n, unit, pauses)`` is the date on which the n-th counted unit falls (``n >= 1``). With
  ``unit="calendar"`` every day counts; with ``unit="working"`` only working days count. There is no roll.
* ``unit="month"`` / ``"year"`` (Điều 148: a period in months or years ends on the same-numbered day of its
  last month, or on that month's last day when it has no such day; a year is 12 months): ``n`` months after
  ``start`` is a number of calendar days (:meth:`BusinessCalendar.period_days`: 31/01 + 1 month is 28/02, or
  29/02 in a leap year; 29/02/2028 + 1 year is 28/02/2029; 01/03/2027 + 1 year is 01/03/2028), which are then
  counted as calendar days, so paused days shift the end by as many days. The span is fixed from ``start``,
  not from a resumption.
* ``pauses`` is a ledger of suspensions ``(paused_on, resumed_on)``. Days ``d`` with ``paused_on < d <=
  resumed_on`` do not count (the suspension day itself still counts); counting resumes the day after
  ``resumed_on``. A pause whose ``resumed_on`` is ``None`` is still open: if the n-th unit is not reached on
  or before ``paused_on`` the result is ``None`` (unknown while paused). Pauses are treated as a union of
  excluded intervals: order in the ledger does not matter, overlapping pauses are merged, parts before
  ``start`` are clipped. A pause with ``resumed_on < paused_on`` raises ``ValueError`` naming it.
* ``due_date(...)`` is ``count_date(...)``, then for ``unit="calendar"``, ``"month"`` and ``"year"`` a last
  day that is not a working day rolls forward to the next working day (Điều 148 k5; a working-day count ends
  on a working day). The period ends at 24:00 local time of that day (see ``end_of_day``).
* ``count_back(end, n, unit)`` counts the other way, for a duty due *at least* ``n`` units before a date ("invite
  at least 5 days before the dialogue"): ``end`` is not counted, the n-th unit before it is the result; a result
  that is not a working day moves back to the working day before it (never forward: that would shorten the
  lead the law gives the citizen). 15/07/2026 - 5 calendar days is 10/07; 5 working days before 07/09/2026,
  over 31/08-02/09 off, is 26/08.

Working days are Monday-Friday, minus Vietnamese public holidays (package ``holidays``, country VN, names in
Vietnamese, incl. lunar Tết and observed/substitute days), plus the weekend days the package says are worked
in exchange for a swapped day off (``weekend_workdays``: Saturday 26/04/2025 for Friday 02/05/2025, 22/08/2026
for 31/08/2026, ...; :class:`HolidayTable`), minus operator ``days_off``; operator ``working_days`` are
working days whatever else holds. So an operator may make any day a working day (24/11/2026, Ngày Văn hóa Việt
Nam, while BLLĐ Điều 112 is not amended) or a day off, with the reason; a day in both lists is an error.

Range: the calendar is precomputed for ``[first_year, last_year]`` as a sorted array of working-day ordinals,
so working-day arithmetic is O(log n) with ``bisect``. Any query that needs to know whether a day outside that
range is a working day raises ``ValueError`` (no slow fallback: an unknown holiday table must not silently
produce a deadline). Pure calendar-day arithmetic in ``count_date`` has no range limit.
"""

from __future__ import annotations

import calendar as _gregorian
import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import KntcError
from engine.holiday_table import HolidayTable, load_holidays

__all__ = ["UNITS", "BusinessCalendar", "CalendarError", "DayOverride", "HolidayTable", "Unit", "add_months",
           "load_holidays"]

Unit = Literal["calendar", "working", "month", "year"]
UNITS: tuple[Unit, ...] = ("calendar", "working", "month", "year")
Pause = tuple[date, date | None]

_WEEKEND_NAMES = {5: "Thứ Bảy", 6: "Chủ nhật"}
_ONE_DAY = timedelta(days=1)


class CalendarError(KntcError, ValueError):
    """Invalid calendar configuration (bad override, year range or timezone).

    A :class:`~engine.errors.KntcError`; also a ``ValueError``, as it was before the one root.
    """


@dataclass(frozen=True)
class DayOverride:
    """An operator-declared exception to the computed calendar for one day."""

    day: date
    reason: str


def add_months(start: date, months: int) -> date:
    """The same-numbered day ``months`` months after ``start``, or that month's last day (BLDS Điều 148)."""
    years, month0 = divmod(start.month - 1 + months, 12)
    year = start.year + years
    if not 1 <= year <= 9999:
        raise ValueError(f"{months} months after {start.isoformat()} is beyond year 9999")
    return date(year, month0 + 1, min(start.day, _gregorian.monthrange(year, month0 + 1)[1]))


def _check_overrides(name: str, entries: Sequence[DayOverride], lo: date, hi: date) -> dict[date, str]:
    """Validate one override list and return it as ``{day: reason}``."""
    out: dict[date, str] = {}
    for entry in entries:
        if not isinstance(entry, DayOverride) or type(entry.day) is not date:
            raise CalendarError(f"{name}: entry {entry!r} is not a DayOverride with a date")
        if not lo <= entry.day <= hi:
            raise CalendarError(
                f"{name}: {entry.day.isoformat()} is outside the calendar range "
                f"{lo.isoformat()}..{hi.isoformat()}"
            )
        if entry.day in out:
            raise CalendarError(f"{name}: {entry.day.isoformat()} is listed twice")
        out[entry.day] = entry.reason
    return out


def _check_holidays(what: str, table: Mapping[date, str], lo: date, hi: date) -> dict[date, str]:
    """A given holiday table, checked (dates in range, names as text) and sorted by day."""
    for day, name in table.items():
        if type(day) is not date or not isinstance(name, str):
            raise CalendarError(f"{what}: entry {day!r}: {name!r} is not a date with a name")
        if not lo <= day <= hi:
            raise CalendarError(f"{what}: {day.isoformat()} is outside the calendar range "
                                f"{lo.isoformat()}..{hi.isoformat()}")
    return dict(sorted(table.items()))


def _check_table(table: HolidayTable | Mapping[date, str], lo: date, hi: date,
                 ) -> tuple[dict[date, str], dict[date, str]]:
    """The days off and worked days of a given table (a plain mapping: days off, none worked)."""
    if isinstance(table, HolidayTable):
        days_off = _check_holidays("holidays", table.days_off, lo, hi)
        worked = _check_holidays("holidays: worked days", table.worked, lo, hi)
    else:
        days_off, worked = _check_holidays("holidays", table, lo, hi), {}
    both = sorted(days_off.keys() & worked.keys())
    if both:
        raise CalendarError(f"holidays: {both[0].isoformat()} is both a day off and a worked day")
    return days_off, worked


class BusinessCalendar:
    """Vietnamese public-administration working calendar with deadline counting."""

    def __init__(
        self,
        *,
        timezone: str = "Asia/Ho_Chi_Minh",
        days_off: Sequence[DayOverride] = (),
        working_days: Sequence[DayOverride] = (),
        first_year: int = 2015,
        last_year: int = 2045,
        holidays: HolidayTable | Mapping[date, str] | None = None,
    ) -> None:
        """Build the calendar; raises ``CalendarError`` on invalid configuration.

        ``holidays`` is the holiday table for ``first_year..last_year``, as :func:`load_holidays`
        returns it (a plain ``{day: name}`` mapping is days off only, no worked swap day); None (the
        default) computes it here. It exists so that an
        adapter can keep the table between processes instead of recomputing it for every command:
        the calendar, and its ``fingerprint``, are the same whichever way the table came.
        """
        try:
            self.timezone: ZoneInfo = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown timezone {timezone!r}") from exc
        if not 1 <= first_year <= last_year <= 9998:
            raise CalendarError(f"invalid year range {first_year}..{last_year}")
        self.first_year = first_year
        self.last_year = last_year
        self._lo = date(first_year, 1, 1)
        self._hi = date(last_year, 12, 31)
        self._days_off = _check_overrides("days_off", days_off, self._lo, self._hi)
        self._working = _check_overrides("working_days", working_days, self._lo, self._hi)
        both = sorted(self._days_off.keys() & self._working.keys())
        if both:
            day = both[0]
            raise CalendarError(f"{day.isoformat()} is in both days_off ({self._days_off[day]!r}) and "
                                f"working_days ({self._working[day]!r}): keep one")
        self._holidays, self._swapped = _check_table(
            load_holidays(first_year, last_year) if holidays is None else holidays, self._lo, self._hi)

        self._lo_ord = self._lo.toordinal()
        size = self._hi.toordinal() - self._lo_ord + 1
        flags = bytearray(size)
        ords: list[int] = []
        for i in range(size):
            d = date.fromordinal(self._lo_ord + i)
            if d in self._working or (d not in self._days_off and (
                d in self._swapped or (d.weekday() < 5 and d not in self._holidays)
            )):
                flags[i] = 1
                ords.append(self._lo_ord + i)
        self._flags = bytes(flags)
        self._ords = ords

        payload = {
            "timezone": self.timezone.key,
            "years": [first_year, last_year],
            "days_off": [[d.isoformat(), r] for d, r in sorted(self._days_off.items())],
            "working_days": [[d.isoformat(), r] for d, r in sorted(self._working.items())],
            "holidays": [[d.isoformat(), n] for d, n in self._holidays.items()],
        }
        if self._swapped:  # absent when empty: the fingerprint of a table without any is unchanged
            payload["worked"] = [[d.isoformat(), n] for d, n in self._swapped.items()]
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        self.fingerprint: str = hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        """Short description with the fingerprint prefix."""
        return (
            f"BusinessCalendar(timezone={self.timezone.key!r}, years={self.first_year}.."
            f"{self.last_year}, fingerprint={self.fingerprint[:12]})"
        )

    # -- range helpers -------------------------------------------------------

    def _need(self, d: date, *, after: bool = False) -> None:
        """Raise CalendarError if ``d`` (or, with ``after``, the days after it) is uncovered."""
        lo = self._lo - _ONE_DAY if after else self._lo
        if not lo <= d <= self._hi:
            raise CalendarError(
                f"{d.isoformat()} is outside the business calendar range "
                f"{self._lo.isoformat()}..{self._hi.isoformat()}"
            )

    # -- day queries -----------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day (ValueError outside the calendar range)."""
        self._need(d)
        return self._flags[d.toordinal() - self._lo_ord] == 1

    def day_off_reason(self, d: date) -> str | None:
        """Why ``d`` is a day off (holiday name, override reason, weekday); None if working."""
        if self.is_working_day(d):
            return None
        if d in self._holidays:
            return self._holidays[d]
        if d in self._days_off:
            return self._days_off[d]
        return _WEEKEND_NAMES[d.weekday()]

    def working_day_reason(self, d: date) -> str | None:
        """Why a day that would be off is a working day (override reason, swap); None otherwise."""
        if not self.is_working_day(d):
            return None
        return self._working.get(d) or self._swapped.get(d)

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days ``d`` with ``a < d <= b`` (0 if ``b <= a``)."""
        if b <= a:
            return 0
        self._need(a, after=True)
        self._need(b)
        return bisect_right(self._ords, b.toordinal()) - bisect_right(self._ords, a.toordinal())

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start`` (``n >= 1``)."""
        if n <= 0:
            raise ValueError(f"n must be >= 1, got {n}")
        self._need(start, after=True)
        idx = bisect_right(self._ords, start.toordinal()) + n - 1
        if idx >= len(self._ords):
            raise ValueError(
                f"{n} working days after {start.isoformat()} is beyond the business "
                f"calendar range (ends {self._hi.isoformat()})"
            )
        return date.fromordinal(self._ords[idx])

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        return d if self.is_working_day(d) else self.add_working_days(d, 1)

    # -- time of day -----------------------------------------------------------

    def start_of_day(self, d: date) -> datetime:
        """Aware UTC datetime of 00:00 local time on ``d``."""
        return datetime.combine(d, time(0), tzinfo=self.timezone).astimezone(UTC)

    def end_of_day(self, d: date) -> datetime:
        """Aware UTC datetime of 24:00 local time on ``d`` (00:00 local of the next day)."""
        return self.start_of_day(d + _ONE_DAY)

    def local_date(self, dt: datetime) -> date:
        """Local calendar date of an aware datetime (ValueError if naive)."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"naive datetime {dt.isoformat()} has no timezone")
        return dt.astimezone(self.timezone).date()

    # -- deadline counting -----------------------------------------------------

    def count_date(
        self,
        start: date,
        n: int,
        unit: Unit,
        pauses: Sequence[Pause] = (),
    ) -> date | None:
        """Date of the ``n``-th counted unit after ``start`` (no roll); None if paused.

        See the module docstring for the exact counting and pause rules.
        """
        if unit in ("month", "year"):
            return self.count_date(start, self.period_days(start, n, unit), "calendar", pauses)
        if n <= 0:
            raise ValueError(f"n must be >= 1, got {n}")
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(map(repr, UNITS))})")
        working = unit == "working"
        remaining = n
        cur = start  # counted days are strictly after ``cur``
        for paused_on, resumed_on in _merge_pauses(pauses):
            if resumed_on is not None and resumed_on <= cur:
                continue
            if paused_on > cur:
                if not working:
                    counted = (paused_on - cur).days
                elif paused_on > self._hi:
                    # any in-range answer precedes the pause; otherwise this raises
                    return self.add_working_days(cur, remaining)
                else:
                    counted = self.working_days_between(cur, paused_on)
                if counted >= remaining:
                    return self._nth(cur, remaining, working)
                remaining -= counted
            if resumed_on is None:
                return None
            cur = max(cur, resumed_on)
        return self._nth(cur, remaining, working)

    def period_days(self, start: date, n: int, unit: Unit) -> int:
        """How many days a budget of ``n`` units counts from ``start``, pauses aside.

        ``n`` itself for calendar and working days; for months and years, the calendar days from
        ``start`` to the same-numbered day (:func:`add_months`): 1 month from 31/01/2027 is 28 days,
        1 year from 01/03/2027 is 366. A warning at a fraction of a month or year budget is counted
        on these days (``engine/deadlines.py``).
        """
        if n <= 0:
            raise ValueError(f"n must be >= 1, got {n}")
        if unit in ("calendar", "working"):
            return n
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(map(repr, UNITS))})")
        return (add_months(start, n * 12 if unit == "year" else n) - start).days

    def count_back(self, end: date, n: int, unit: Unit) -> date:
        """The last day to act ``n`` units before ``end`` (not counted), moved back to a working day."""
        if n <= 0:
            raise ValueError(f"n must be >= 1, got {n}")
        if unit == "working":
            self._need(end)
            idx = bisect_left(self._ords, end.toordinal()) - n
            if idx < 0:
                raise CalendarError(f"{n} working days before {end.isoformat()} is before the business "
                                    f"calendar range (starts {self._lo.isoformat()})")
            return date.fromordinal(self._ords[idx])
        day = add_months(end, -n * (12 if unit == "year" else 1)) if unit in ("month", "year") else end - n * _ONE_DAY
        self._need(day)
        while not self.is_working_day(day):
            day -= _ONE_DAY
            self._need(day)
        return day

    def _nth(self, cur: date, n: int, working: bool) -> date:
        """The ``n``-th counted day strictly after ``cur`` (no pauses)."""
        return self.add_working_days(cur, n) if working else cur + timedelta(days=n)

    def due_date(
        self,
        start: date,
        n: int,
        unit: Unit,
        pauses: Sequence[Pause] = (),
    ) -> date | None:
        """Last day of the period: ``count_date`` rolled to a working day (art. 148 k5)."""
        last = self.count_date(start, n, unit, pauses)
        if last is None:
            return None
        return self.next_working_day(last)


def _merge_pauses(pauses: Sequence[Pause]) -> list[Pause]:
    """Validate pauses and merge them into sorted, disjoint excluded intervals."""
    checked: list[Pause] = []
    for i, (paused_on, resumed_on) in enumerate(pauses):
        if resumed_on is not None and resumed_on < paused_on:
            raise ValueError(
                f"pause #{i} ({paused_on.isoformat()}, {resumed_on.isoformat()}): "
                "resumed_on is before paused_on"
            )
        if resumed_on != paused_on:  # an empty pause excludes nothing
            checked.append((paused_on, resumed_on))
    checked.sort(key=lambda p: p[0])
    merged: list[Pause] = []
    for paused_on, resumed_on in checked:
        if merged:
            last_p, last_r = merged[-1]
            if last_r is None:
                break  # an open pause swallows everything after it
            if paused_on <= last_r:
                end = None if resumed_on is None else max(last_r, resumed_on)
                merged[-1] = (last_p, end)
                continue
        merged.append((paused_on, resumed_on))
    return merged
