"""The ``prolonged`` hot spot over the memory, SQLite and PostgreSQL stores.

A complaint decided, then a near-duplicate letter against the same respondent: the group is
prolonged (refiled after resolution), once; a decoy in another group raises nothing. Two complaints
of one group both left unaccepted past their acceptance deadline: prolonged (repeated overdue), once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.groups import grouping_reactors, hot_spots
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.engines import with_reactors
from tests.integration.test_groups import group_of, letter, spot_events
from tests.letters import OTHER_MATTER


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The fixture's engine with the grouping reactors (default policy)."""
    return with_reactors(engine, grouping_reactors())


def decide(eng: Engine, case_id: str) -> None:
    """Walk a first-instance complaint to its decision."""
    for event, role in (("accept", "inspector"), ("start_verification", "inspector"),
                        ("draft_decision", "inspector"), ("decide", "head_of_unit")):
        eng.fire(case_id, event, actor="cb01", role=role)


def prolonged(eng: Engine) -> list[tuple[str, str]]:
    """The feed's prolonged hot-spot events, as (type, hot-spot type)."""
    return [e for e in spot_events(eng) if e[1] == "prolonged"]


def test_a_letter_refiled_after_a_decision_makes_its_group_prolonged_once(eng: Engine, clock: ManualClock) -> None:
    """A near-duplicate letter after the decision is prolonged once, naming both; a third updates it."""
    first = letter(eng, clock, 0)
    decide(eng, first)
    assert prolonged(eng) == []
    clock.advance(timedelta(days=3))
    second = letter(eng, clock, 1)
    assert group_of(eng, second) == group_of(eng, first)
    assert prolonged(eng) == [("hotspot.detected", "prolonged")]
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "prolonged"]
    assert set(spot.case_ids) == {first, second}
    assert spot.reasons == ({"rule": "refiled_after_resolution", "resolved_case_ids": [first],
                             "new_case_id": second},)
    decoy = letter(eng, clock, 0, text=OTHER_MATTER)
    assert group_of(eng, decoy) != group_of(eng, first)
    assert prolonged(eng) == [("hotspot.detected", "prolonged")]
    assert [h.type for h in hot_spots(eng.runtime) if decoy in h.case_ids] == []
    third = letter(eng, clock, 2)
    assert prolonged(eng) == [("hotspot.detected", "prolonged"), ("hotspot.updated", "prolonged")]
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "prolonged"]
    assert set(spot.case_ids) == {first, second, third}


def test_a_letter_of_an_undecided_group_is_not_prolonged(eng: Engine, clock: ManualClock) -> None:
    """Two letters of one matter, neither resolved, raise no prolonged hot spot."""
    first = letter(eng, clock, 0)
    eng.fire(first, "accept", actor="cb01", role="inspector")
    second = letter(eng, clock, 1)
    assert group_of(eng, second) == group_of(eng, first)
    assert prolonged(eng) == []


def test_two_overdue_complaints_of_one_group_make_it_prolonged_once(eng: Engine, clock: ManualClock) -> None:
    """Both complaints of a group overrun their acceptance deadline: prolonged (repeated_overdue), once."""
    first = letter(eng, clock, 0)  # received Mon 02/03/2026 09:00
    second = letter(eng, clock, 1)  # received Tue 03/03/2026 05:00
    assert group_of(eng, second) == group_of(eng, first)
    # acceptance: 10 working days, counted from the day after receipt. The later letter (Tue 03/03):
    # Wed 04, Thu 05, Fri 06 (3), Mon 09-Fri 13 (8), Mon 16, Tue 17 (10): due by the end
    # of Tue 17/03 at the latest (no public holiday in March 2026); Mon 23/03 is past both.
    eng.tick(datetime(2026, 3, 23, 12, 0, tzinfo=clock.now().tzinfo))
    overdue = [e.case_id for e in eng.events(limit=10_000) if e.type == "deadline.overdue"]
    assert sorted(overdue) == sorted([first, second])
    assert prolonged(eng) == [("hotspot.detected", "prolonged")]
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "prolonged"]
    assert set(spot.case_ids) == {first, second}
    assert [r["rule"] for r in spot.reasons] == ["repeated_overdue"]
    assert sorted(spot.reasons[0]["case_ids"]) == sorted([first, second])
    eng.tick(datetime(2026, 3, 30, 12, 0, tzinfo=clock.now().tzinfo))
    assert prolonged(eng) == [("hotspot.detected", "prolonged")]


def test_one_overdue_complaint_is_not_prolonged(eng: Engine, clock: ManualClock) -> None:
    """A group with a single overdue deadline is not prolonged (the default asks for two)."""
    first = letter(eng, clock, 0)
    eng.tick(datetime(2026, 3, 23, 12, 0, tzinfo=clock.now().tzinfo))
    assert [e.case_id for e in eng.events(limit=10_000) if e.type == "deadline.overdue"] == [first]
    assert prolonged(eng) == []
