"""Periods in months and years (BLDS 2015 Điều 147-148), on the calendar and through the engine.

A period in months ends on the same-numbered day of its last month, or on that month's last day
when the month has no such day; a year is twelve months ("01 năm" from Mon 01/03/2027 ends Wed
01/03/2028, LEGAL-AUDIT H13a). As for calendar days, the trigger day is not counted and a last day
that is a day off runs to the next working day. kntc turns the months into the calendar days from
the start to that day, so a suspension moves the end by the days it excluded.

Weekdays used (counted from Mon 02/03/2026 and Mon 01/03/2027, both given by the calendar on the
wall): Sat 07/03/2026, Thu 02/04/2026, Tue 07/04/2026, Sun 28/02/2027, Sun 07/03/2027, Tue
29/02/2028, Wed 01/03/2028, Mon 06/03/2028, Wed 28/02/2029, Thu 01/03/2029, Tue 06/03/2029.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import Engine
from engine.calendar import BusinessCalendar, Unit, add_months
from engine.definitions import WorkflowDefinition
from engine.machines import CompiledWorkflow, compile_workflow
from engine.testing import ManualClock, default_calendar, memory_engine

D = date
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@cache
def cal() -> BusinessCalendar:
    return default_calendar()


# ------------------------------------------------------------------------------- the calendar


@pytest.mark.parametrize(("start", "n", "unit", "last", "due"), [
    # 31/01/2027 + 1 month: February 2027 has no 31st, so its last day, Sun 28/02; rolls to Mon 01/03
    (D(2027, 1, 31), 1, "month", D(2027, 2, 28), D(2027, 3, 1)),
    # 31/01/2028 + 1 month: 2028 is a leap year, so Tue 29/02/2028, a working day
    (D(2028, 1, 31), 1, "month", D(2028, 2, 29), D(2028, 2, 29)),
    # 31/03/2026 + 1 month: April has 30 days, so Thu 30/04/2026, Ngày Chiến thắng; 01/05 off too,
    # then Sat 02/05 and Sun 03/05: due Mon 04/05/2026
    (D(2026, 3, 31), 1, "month", D(2026, 4, 30), D(2026, 5, 4)),
    # 29/02/2028 + 1 year: 2029 has no 29/02, so Wed 28/02/2029
    (D(2028, 2, 29), 1, "year", D(2029, 2, 28), D(2029, 2, 28)),
    # H13a: "01 năm" from Mon 01/03/2027 is Wed 01/03/2028 (365 days would be Tue 29/02/2028)
    (D(2027, 3, 1), 1, "year", D(2028, 3, 1), D(2028, 3, 1)),
    # a year from Sat 07/03/2026 ends Sun 07/03/2027, which rolls to Mon 08/03/2027
    (D(2026, 3, 7), 1, "year", D(2027, 3, 7), D(2027, 3, 8)),
    # the same as 12 months
    (D(2026, 3, 7), 12, "month", D(2027, 3, 7), D(2027, 3, 8)),
    # 3 months from Mon 30/11/2026: 30/12, 30/01, then February 2027 has no 30th: Sun 28/02 -> Mon 01/03
    (D(2026, 11, 30), 3, "month", D(2027, 2, 28), D(2027, 3, 1)),
])
def test_month_and_year_periods(start: date, n: int, unit: Unit, last: date, due: date) -> None:
    assert cal().count_date(start, n, unit) == last
    assert cal().due_date(start, n, unit) == due


def test_add_months_keeps_the_day_or_takes_the_last() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 8, 31), 1) == D(2026, 9, 30)
    assert add_months(D(2026, 12, 15), 1) == D(2027, 1, 15)
    assert add_months(D(2026, 5, 31), 24) == D(2028, 5, 31)
    with pytest.raises(ValueError, match="beyond year 9999"):
        add_months(D(9999, 12, 1), 1)


def test_period_days() -> None:
    """A warning at a fraction of a month or a year is counted on these days."""
    assert cal().period_days(D(2027, 3, 1), 1, "year") == 366  # 01/03/2027 -> 01/03/2028 crosses 29/02/2028
    assert cal().period_days(D(2028, 3, 1), 1, "year") == 365
    assert cal().period_days(D(2027, 1, 31), 1, "month") == 28
    assert cal().period_days(D(2026, 3, 2), 10, "working") == 10
    with pytest.raises(ValueError, match="n must be >= 1"):
        cal().period_days(D(2026, 3, 2), 0, "month")
    with pytest.raises(ValueError, match="n must be >= 1"):
        cal().count_date(D(2026, 3, 2), 0, "year")


def test_a_paused_month_ends_as_many_days_later() -> None:
    # 1 month from Mon 02/03/2026 is Thu 02/04/2026; suspended on 10/03 and resumed on 15/03, the days
    # 11, 12, 13, 14 and 15/03 (5) do not count: Tue 07/04/2026
    assert cal().due_date(D(2026, 3, 2), 1, "month") == D(2026, 4, 2)
    assert cal().due_date(D(2026, 3, 2), 1, "month", [(D(2026, 3, 10), D(2026, 3, 15))]) == D(2026, 4, 7)
    # still suspended: unknown
    assert cal().due_date(D(2026, 3, 2), 1, "month", [(D(2026, 3, 10), None)]) is None
    # a suspension after the end changes nothing
    assert cal().due_date(D(2026, 3, 2), 1, "month", [(D(2026, 4, 3), None)]) == D(2026, 4, 2)


# ------------------------------------------------------------------------------- the engine

DOC: dict[str, Any] = {
    "name": "keeping", "label": "Lưu hồ sơ", "initial": "kept",
    "states": {"kept": {"label": "Đang lưu"}, "suspended": {"label": "Tạm dừng"},
               "closed": {"label": "Đã hủy", "final": True}},
    "transitions": [
        {"event": "suspend", "from": "kept", "to": "suspended", "roles": ["clerk"]},
        {"event": "resume", "from": "suspended", "to": "kept", "roles": ["clerk"]},
        {"event": "extend", "from": "kept", "to": "kept", "roles": ["clerk"]},
        {"event": "close", "from": "kept", "to": "closed", "roles": ["clerk"]},
    ],
    "deadlines": {"retention": {
        "starts_on": ["opened"], "stops_on": ["close"], "pauses_in": ["suspended"],
        "budget": {"amount": 1, "unit": "calendar"}, "warn_at": [0.5],
        "extensions": {"event": "extend", "max_times": 1, "amount": 1},
        "legal_basis": "BLDS 2015 Điều 148"}},
}


def keeping(amount: int, unit: Unit) -> CompiledWorkflow:
    """The workflow above with a budget of ``amount`` ``unit``."""
    doc = copy.deepcopy(DOC)
    doc["deadlines"]["retention"]["budget"] = {"amount": amount, "unit": unit}
    return compile_workflow(WorkflowDefinition.model_validate(doc))


def desk(amount: int, unit: Unit, received: date) -> tuple[ManualClock, Engine, str]:
    clock = ManualClock(datetime(received.year, received.month, received.day, 9, tzinfo=TZ))
    engine = memory_engine(clock, {"keeping": keeping(amount, unit)}, calendar=cal())
    case = engine.open_case("keeping", received_at=clock.now(), petitioners=[], respondent="UBND xã",
                            subject="Lưu hồ sơ đơn")
    return clock, engine, case.id


def fire(clock: ManualClock, engine: Engine, case_id: str, event: str, on: date) -> Any:
    clock.set(datetime(on.year, on.month, on.day, 10, tzinfo=TZ))
    return engine.fire(case_id, event, actor="cb.lan", role="clerk")


def end_of(d: date) -> datetime:
    """24:00 local of ``d`` (Vietnam is UTC+7): 17:00 UTC."""
    return datetime(d.year, d.month, d.day, 17, tzinfo=UTC)


def test_a_year_budget_through_the_engine() -> None:
    # H13a: filed Mon 01/03/2027, "01 năm" -> Wed 01/03/2028; the 0.5 warning is the 183rd of the 366
    # days: March 2..31 (30), April (60), May (91), June (121), July (152), August 31 -> 183: 31/08/2027
    _, engine, case_id = desk(1, "year", D(2027, 3, 1))
    deadline = engine.get(case_id).deadlines["retention"]
    assert (deadline.amount, deadline.unit, deadline.due_date) == (1, "year", D(2028, 3, 1))
    assert deadline.due_at == end_of(D(2028, 3, 1))
    assert deadline.warn_at == (end_of(D(2027, 8, 31)),)


def test_a_suspended_year_and_its_extension() -> None:
    # suspended Wed 10/03/2027, resumed Mon 15/03/2027: 11..15/03 (5 days) do not count, so Wed
    # 01/03/2028 + 5 = Mon 06/03/2028
    clock, engine, case_id = desk(1, "year", D(2027, 3, 1))
    fire(clock, engine, case_id, "suspend", D(2027, 3, 10))
    assert engine.get(case_id).deadlines["retention"].due_date is None
    fire(clock, engine, case_id, "resume", D(2027, 3, 15))
    assert engine.get(case_id).deadlines["retention"].due_date == D(2028, 3, 6)
    # extended by one year, in the budget's unit: two years from 01/03/2027 is Thu 01/03/2029, plus the
    # 5 suspended days: Tue 06/03/2029
    case = fire(clock, engine, case_id, "extend", D(2027, 4, 1))
    assert (case.deadlines["retention"].amount, case.deadlines["retention"].due_date) == (2, D(2029, 3, 6))


def test_a_month_budget_paused_for_five_days_through_the_engine() -> None:
    # 1 month from Mon 02/03/2026 is Thu 02/04/2026; suspended Tue 10/03, resumed Sun 15/03: 11..15/03
    # (5 days) do not count -> Tue 07/04/2026. The 0.5 warning: 31 days, the 15th counted day, with
    # 11..15/03 skipped: 03..10/03 are days 1-8, 16..22/03 days 9-15 -> 22/03/2026
    clock, engine, case_id = desk(1, "month", D(2026, 3, 2))
    assert engine.get(case_id).deadlines["retention"].due_date == D(2026, 4, 2)
    fire(clock, engine, case_id, "suspend", D(2026, 3, 10))
    case = fire(clock, engine, case_id, "resume", D(2026, 3, 15))
    assert case.deadlines["retention"].due_date == D(2026, 4, 7)
    assert case.deadlines["retention"].warn_at == (end_of(D(2026, 3, 22)),)
