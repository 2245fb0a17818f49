"""Hypothesis strategies shared by kntc tests (calendar counting inputs)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from hypothesis import strategies as st

Unit = Literal["calendar", "working"]
Pause = tuple[date, date | None]

MIN_DATE = date(2016, 1, 1)
MAX_DATE = date(2044, 12, 31)
MAX_BUDGET = 400
MAX_PAUSE_DAYS = 60
MAX_PAUSES = 4


def dates(min_value: date = MIN_DATE, max_value: date = MAX_DATE) -> st.SearchStrategy[date]:
    """Calendar dates inside the range the tests' business calendar covers."""
    return st.dates(min_value=min_value, max_value=max_value)


def budgets(max_value: int = MAX_BUDGET) -> st.SearchStrategy[int]:
    """Deadline budgets (number of units), 1..max_value."""
    return st.integers(min_value=1, max_value=max_value)


def units() -> st.SearchStrategy[Unit]:
    """Counting unit: calendar days or working days."""
    return st.sampled_from(("calendar", "working"))


@st.composite
def pauses(draw: st.DrawFn, start: date, *, allow_open: bool = True) -> Pause:
    """One pause near ``start`` (it may begin up to 30 days before it); maybe open."""
    paused_on = start + timedelta(days=draw(st.integers(-30, 400)))
    if allow_open and draw(st.booleans()):
        return (paused_on, None)
    return (paused_on, paused_on + timedelta(days=draw(st.integers(0, MAX_PAUSE_DAYS))))


@st.composite
def pause_ledgers(
    draw: st.DrawFn, start: date, *, allow_open: bool = True, max_size: int = MAX_PAUSES
) -> list[Pause]:
    """A chronological, non-overlapping ledger of pauses; only the last may be open."""
    size = draw(st.integers(0, max_size))
    ledger: list[Pause] = []
    cursor = start + timedelta(days=draw(st.integers(-30, 60)))
    for i in range(size):
        paused_on = cursor + timedelta(days=draw(st.integers(0, 90)))
        if allow_open and i == size - 1 and draw(st.booleans()):
            ledger.append((paused_on, None))
            break
        resumed_on = paused_on + timedelta(days=draw(st.integers(0, MAX_PAUSE_DAYS)))
        ledger.append((paused_on, resumed_on))
        cursor = resumed_on
    return ledger
