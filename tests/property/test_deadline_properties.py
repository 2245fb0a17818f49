"""Properties of the complaint resolution deadline, driven through the engine (2026-2030).

For random dates of receipt and acceptance, case fields (instance, remote area, complex) and
suspension spans (a complaint is suspended only from 01/07/2026, LKN Điều 11a; one accepted
before that day may be suspended after it, NĐ 155/2026 Điều 22 k1: the suspension days are drawn
from the later of the acceptance day and 01/07/2026):

* the due date is always a working day (BLDS Điều 148 k5: a period ending on a day off runs to
  the end of the next working day);
* more budget never gives an earlier due date (complex vs not, remote vs not, 2nd vs 1st
  instance, and marking a running case complex);
* a suspension never gives an earlier due date; more precisely the last counted day moves by
  exactly the suspended days (``paused_on < d <= resumed_on``) when the suspension starts before
  that day, and the due date is the first working day on or after it.

Working days are checked with ``engine.runtime.calendar.is_working_day`` only; due dates themselves come
from the engine.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Case, Engine
from engine.testing import ManualClock, memory_engine
from tests.strategies import dates

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PETITIONER = {"name": "Trần Văn Bình", "id_number": "068090001111"}
EXAMPLES = settings(max_examples=50, deadline=None)
SUSPENSION_FROM = date(2026, 7, 1)  # LKN Điều 11a (Luật 136/2025), NĐ 124 Điều 28a-28b (NĐ 155/2026)


@cache
def template() -> tuple[ManualClock, Engine]:
    """One engine per module: loading the workflows and the calendar is the slow part."""
    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=TZ))
    return clock, memory_engine(clock, workflows_dir=ROOT / "workflows")


def fresh() -> tuple[ManualClock, Engine]:
    """The module's engine parts over an empty store (keeps each example's transactions small)."""
    clock, base = template()
    return clock, memory_engine(clock, base.runtime.workflows, calendar=base.runtime.calendar)


def moment(d: date, hour: int) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=TZ)


def accepted(clock: ManualClock, engine: Engine, received: date, accepted_on: date, **fields: Any) -> Case:
    clock.set(moment(received, 8))
    case = engine.open_case("complaint", received_at=clock.now(), petitioners=[PETITIONER],
                            respondent="UBND xã", subject="Khiếu nại quyết định hành chính", fields=fields)
    clock.set(moment(accepted_on, 9))
    return engine.fire(case.id, "accept", actor="ttv", role="inspector")


def fire(clock: ManualClock, engine: Engine, case: Case, event: str, on: date, hour: int, **payload: Any) -> Case:
    clock.set(moment(on, hour))
    return engine.fire(case.id, event, actor="tp", role="head_of_unit", payload=payload,
                       expected_version=case.version)


def first_working_day_from(engine: Engine, d: date) -> date:
    while not engine.runtime.calendar.is_working_day(d):
        d += timedelta(days=1)
    return d


receipts = dates(date(2026, 1, 1), date(2030, 12, 31))
lags = st.integers(0, 20)
flags = st.fixed_dictionaries({"instance": st.sampled_from([1, 2]), "remote_area": st.booleans(),
                               "complex": st.booleans()})
suspensions = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 60)), min_size=1, max_size=2)


@EXAMPLES
@given(received=receipts, lag=lags, fields=flags, spans=suspensions)
def test_resolution_due_date_is_always_a_working_day(received: date, lag: int, fields: dict[str, Any],
                                                     spans: list[tuple[int, int]]) -> None:
    clock, engine = fresh()
    day = received + timedelta(days=lag)
    case = accepted(clock, engine, received, day, **fields)
    due = case.deadlines["resolution"].due_date
    assert due is not None and engine.runtime.calendar.is_working_day(due)
    for gap, span in spans:
        day = max(day, SUSPENSION_FROM) + timedelta(days=gap)
        case = fire(clock, engine, case, "suspend", day, 10, reason="Trở ngại khách quan")
        paused = case.deadlines["resolution"]
        assert paused.status == "paused"
        # known only if the period had run out by the suspension day (then it is unchanged)
        assert paused.due_date is None or engine.runtime.calendar.is_working_day(paused.due_date)
        day += timedelta(days=span)
        case = fire(clock, engine, case, "resume", day, 16)
        due = case.deadlines["resolution"].due_date
        assert due is not None and engine.runtime.calendar.is_working_day(due), due


@EXAMPLES
@given(received=receipts, lag=lags, low=flags, raise_=flags, later=st.integers(0, 40))
def test_more_budget_never_gives_an_earlier_date(received: date, lag: int, low: dict[str, Any],
                                                 raise_: dict[str, Any], later: int) -> None:
    clock, engine = fresh()
    high = {"instance": max(low["instance"], raise_["instance"]),
            "remote_area": low["remote_area"] or raise_["remote_area"],
            "complex": low["complex"] or raise_["complex"]}
    day = received + timedelta(days=lag)
    small = accepted(clock, engine, received, day, **low).deadlines["resolution"]
    big = accepted(clock, engine, received, day, **high).deadlines["resolution"]
    assert big.amount >= small.amount
    assert big.due_date is not None and small.due_date is not None
    assert big.due_date >= small.due_date

    plain = accepted(clock, engine, received, day, **{**low, "complex": False})
    before = plain.deadlines["resolution"]
    marked = fire(clock, engine, plain, "mark_complex", day + timedelta(days=later), 11, reason="Nhiều nội dung",
                  criterion="multiple_contents")  # required for a finding from 01/07/2026 (NĐ 124 Điều 3a)
    after = marked.deadlines["resolution"]
    assert after.amount > before.amount
    assert after.due_date is not None and before.due_date is not None
    assert after.due_date >= before.due_date


@EXAMPLES
@given(received=receipts, lag=lags, fields=flags, gap=st.integers(0, 80), span=st.integers(0, 60))
def test_a_pause_never_gives_an_earlier_date(received: date, lag: int, fields: dict[str, Any], gap: int,
                                             span: int) -> None:
    clock, engine = fresh()
    start = received + timedelta(days=lag)
    case = accepted(clock, engine, received, start, **fields)
    before = case.deadlines["resolution"]
    assert before.due_date is not None
    last_counted = start + timedelta(days=before.amount)  # calendar days, no pause, no roll

    paused_on = max(start, SUSPENSION_FROM) + timedelta(days=gap)
    resumed_on = paused_on + timedelta(days=span)
    case = fire(clock, engine, case, "suspend", paused_on, 10, reason="Thiên tai")
    paused = case.deadlines["resolution"]
    assert paused.status == "paused"
    # while suspended the due date is unknown, unless the last day was counted by the suspension day
    assert paused.due_date == (None if paused_on < last_counted else before.due_date)
    case = fire(clock, engine, case, "resume", resumed_on, 16)
    after = case.deadlines["resolution"]
    assert after.due_date is not None
    assert after.due_date >= before.due_date
    shifted = last_counted + timedelta(days=span) if paused_on < last_counted else last_counted
    assert after.due_date == first_working_day_from(engine, shifted)
    assert after.amount == before.amount
