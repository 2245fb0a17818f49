"""Sensitive periods: validation, the phases in force on a day, the phase-change job's slots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from engine.calendar import BusinessCalendar
from engine.deadlines import WarnWindow
from engine.periods import Period, PhaseChanges, check_periods, phases_at, warn_windows

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def election(**changes: Any) -> dict[str, Any]:
    """The 2026 election as config.yaml would give it, with ``changes`` applied."""
    base: dict[str, Any] = {
        "id": "bau_cu_2026", "kind": "election", "label": "Bầu cử ĐBQH khóa XVI", "day": "2026-03-15",
        "phases": {"before": {"from": "2026-01-05", "to": "2026-03-14"},
                   "during": {"from": "2026-03-15", "to": "2026-03-15"},
                   "after": {"from": "2026-03-16", "to": "2026-05-15"}},
        "policy": {"before": {"extra_warn_at": [0.3], "notify_at_once": ["crowded", "skip_level"]}}}
    base.update(changes)
    return base


def test_phase_boundaries_are_days_both_included() -> None:
    """14/03 is the last day of `before`, 15/03 the only day of `during`, 16/03 the first of `after`."""
    period = Period.model_validate(election())
    assert phases_at([period], date(2026, 1, 4)) == []  # the day before `before`
    assert [a.phase for a in phases_at([period], date(2026, 1, 5))] == ["before"]
    assert [a.phase for a in phases_at([period], date(2026, 3, 14))] == ["before"]
    assert [a.phase for a in phases_at([period], date(2026, 3, 15))] == ["during"]
    assert [a.phase for a in phases_at([period], date(2026, 3, 16))] == ["after"]
    assert [a.phase for a in phases_at([period], date(2026, 5, 15))] == ["after"]
    assert phases_at([period], date(2026, 5, 16)) == []
    [before] = phases_at([period], date(2026, 2, 1))
    assert before.policy.extra_warn_at == (0.3,) and before.policy.notify_at_once == ("crowded", "skip_level")
    assert phases_at([period], date(2026, 3, 15))[0].policy.notify_at_once == ()  # no policy: nothing on


@pytest.mark.parametrize(("changes", "message"), [
    ({"phases": {"before": {"from": "2026-03-14", "to": "2026-01-05"}}}, "ends (2026-01-05) before it starts"),
    ({"phases": {"before": {"from": "2026-01-05", "to": "2026-03-15"},
                 "during": {"from": "2026-03-15", "to": "2026-03-15"}}}, "'before' (2026-01-05..2026-03-15) and "
                                                                         "'during' (2026-03-15..2026-03-15) overlap"),
    ({"day": "2026-06-01"}, "day 2026-06-01 lies outside the period's phases (2026-01-05..2026-05-15)"),
    ({"policy": {"before": {"notify_at_once": ["riot"]}}}, "unknown hot-spot type 'riot'"),
    ({"policy": {"before": {"extra_warn_at": [1.5]}}}, "strictly between 0 and 1, got 1.5"),
    ({"policy": {"befor": {}}}, "policy names phase 'befor'"),
    ({"policy": {"before": {"daily_report": "often"}}}, "Input should be a valid boolean"),
    ({"policy": {"before": {"roster": "every_week"}}}, "Input should be 'every_day' or 'working_days'"),
    ({"kind": "festival"}, "Input should be 'election'"),
])
def test_bad_periods_are_refused_with_a_clear_message(changes: dict[str, Any], message: str) -> None:
    """Inverted or overlapping phases, a day outside, unknown types, fractions outside (0, 1) are refused."""
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        Period.model_validate(election(**changes))


def test_periods_may_overlap_but_ids_are_unique() -> None:
    """A congress inside an election's `before` phase is allowed; both are in force; one id twice is not."""
    congress = Period.model_validate({"id": "dai_hoi_14", "kind": "congress", "label": "Đại hội XIV",
                                      "phases": {"during": {"from": "2026-01-19", "to": "2026-01-23"}}})
    both = [Period.model_validate(election()), congress]
    assert [(a.period, a.phase) for a in phases_at(both, date(2026, 1, 20))] == [
        ("bau_cu_2026", "before"), ("dai_hoi_14", "during")]
    with pytest.raises(ValueError, match="period id 'bau_cu_2026' is declared twice"):
        check_periods([both[0], both[0]])


def test_warn_windows_carry_each_phase_fraction_with_its_days() -> None:
    """`before`'s 0.3 becomes one window 05/01..14/03."""
    assert warn_windows([Period.model_validate(election())]) == (
        WarnWindow(0.3, date(2026, 1, 5), date(2026, 3, 14)),)


def test_phase_changes_are_due_from_the_first_day_of_each_phase_in_order() -> None:
    """At 20/03 the three phase starts are due, earliest first; at 04/01 23:59 none is."""
    calendar = BusinessCalendar(timezone="Asia/Ho_Chi_Minh", first_year=2025, last_year=2027)
    job = PhaseChanges((Period.model_validate(election()),))
    assert list(job.due(datetime(2026, 1, 4, 23, 59, tzinfo=TZ), calendar)) == []
    slots = list(job.due(datetime(2026, 3, 20, 8, 0, tzinfo=TZ), calendar))
    assert [s.slot for s in slots] == ["bau_cu_2026:before", "bau_cu_2026:during", "bau_cu_2026:after"]
    assert {s.subject for s in slots} == {"bau_cu_2026"}
    assert slots[0].at == datetime(2026, 1, 5, tzinfo=TZ)  # 00:00 local of the phase's first day
