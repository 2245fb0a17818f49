"""Skip-level, circular forwarding, crowded delegations and cases open too long, over memory and SQLite.

Our open complaint and the same matter forwarded from the Government Inspectorate (central) is
skip-level; from a commune it is not, nor once our case is decided. A complaint transferred to the
city, then forwarded back by it, is circular. A reception delegation of six is crowded. A case
open 366 days is prolonged by the daily job; at 365 days it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.config import Settings
from engine.groups import grouping_reactors, hot_spots
from engine.hot_spot_reactors import open_too_long_job
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.engines import with_reactors
from tests.integration.test_groups import group_of, spot_events
from tests.integration.test_groups_prolonged import decide
from tests.integration.test_hot_spots_complex import flag, open_letter, shipped_policy, store_engine
from tests.letters import (
    CENTRAL_INSPECTORATE,
    COMMUNE,
    DELEGATION,
    FORWARDED_BACK,
    RESPONDENT,
    TRANSFER_TO,
)


@pytest.fixture(params=["memory", "sqlite"])
def base(request: pytest.FixtureRequest, clock: ManualClock, settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """An engine without reactors over memory and SQLite."""
    engine = store_engine(request.param, clock, settings, tmp_path)
    yield engine
    engine.close()


@pytest.fixture
def eng(base: Engine) -> Engine:
    """The engine with the grouping reactors and the shipped workflows' states."""
    return with_reactors(base, grouping_reactors(shipped_policy()))


def spots(eng: Engine, kind: str) -> list[tuple[str, ...]]:
    return [h.case_ids for h in hot_spots(eng.runtime) if h.type == kind]


def test_the_same_matter_forwarded_from_the_government_inspectorate_is_skip_level(eng: Engine,
                                                                                  clock: ManualClock) -> None:
    """Ours open + forwarded from Thanh tra Chính phủ (central): skip_level by ids and levels; our decision ends it."""
    ours = open_letter(eng, clock, 0).id
    up = open_letter(eng, clock, 1, forwarded=CENTRAL_INSPECTORATE)
    assert up.forwarded_from == CENTRAL_INSPECTORATE and group_of(eng, up.id) == group_of(eng, ours)
    ((spot),) = [h for h in hot_spots(eng.runtime) if h.type == "skip_level"]
    assert spot.case_ids == (ours, up.id)
    assert spot.reasons == ({"rule": "forwarded_from_higher_level", "case_ids": [up.id], "levels": ["central"],
                             "own_level": "department", "open_case_ids": [ours]},)
    assert "Thanh tra" not in repr(spot.reasons)
    assert flag(up, "skip_level").hot_spot == spot.id  # on the Case open_case returned
    decide(eng, ours)
    assert spots(eng, "skip_level") == [] and ("hotspot.closed", "skip_level") in spot_events(eng)
    assert [f.type for f in eng.get(up.id).flags] == []
    open_letter(eng, clock, 2, forwarded=CENTRAL_INSPECTORATE)  # our case is decided: nothing new
    assert spot_events(eng).count(("hotspot.detected", "skip_level")) == 1 and spots(eng, "skip_level") == []


def test_forwarded_from_a_commune_is_not_skip_level(eng: Engine, clock: ManualClock) -> None:
    """From a commune (below our level, a case of ours to handle): nothing."""
    ours = open_letter(eng, clock, 0).id
    down = open_letter(eng, clock, 1, forwarded=COMMUNE).id
    assert group_of(eng, down) == group_of(eng, ours) and spots(eng, "skip_level") == []


def test_the_centre_writing_after_our_decision_is_not_skip_level(eng: Engine, clock: ManualClock) -> None:
    """Our case decided, then the same matter forwarded from the centre: prolonged (refiled), not skip_level."""
    ours = open_letter(eng, clock, 0).id
    decide(eng, ours)
    clock.advance(timedelta(days=3))
    up = open_letter(eng, clock, 1, forwarded=CENTRAL_INSPECTORATE).id
    assert group_of(eng, up) == group_of(eng, ours)
    assert ("hotspot.detected", "skip_level") not in spot_events(eng)
    assert [f.type for f in eng.get(up).flags] == ["prolonged"]


def test_a_complaint_transferred_to_the_city_and_forwarded_back_is_circular(eng: Engine,
                                                                           clock: ManualClock) -> None:
    """Transferred to 'Ủy ban nhân dân thành phố Hà Nội', the same matter comes back from 'UBND TP Hà Nội': circular."""
    first = open_letter(eng, clock, 0).id
    eng.fire(first, "transfer", actor="cb01", role="clerk", payload={"to_body": TRANSFER_TO})
    assert spots(eng, "circular_forwarding") == []
    back = open_letter(eng, clock, 1, forwarded=FORWARDED_BACK)
    assert group_of(eng, back.id) == group_of(eng, first)
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "circular_forwarding"]
    assert spot.case_ids == (first, back.id)
    assert spot.reasons == ({"rule": "transferred_back", "bodies": [TRANSFER_TO], "transferred_case_ids": [first],
                             "forwarded_case_ids": [back.id]},)
    assert flag(back, "circular_forwarding").source == "rule"
    assert [f.type for f in eng.get(first).flags] == ["circular_forwarding"]


def test_a_transfer_elsewhere_is_not_circular(eng: Engine, clock: ManualClock) -> None:
    """Transferred to the city, the matter forwarded by the commune: no circle."""
    first = open_letter(eng, clock, 0).id
    eng.fire(first, "transfer", actor="cb01", role="clerk", payload={"to_body": TRANSFER_TO})
    open_letter(eng, clock, 1, forwarded=COMMUNE)
    assert spots(eng, "circular_forwarding") == []


def test_a_reception_delegation_of_six_is_crowded(eng: Engine, clock: ManualClock) -> None:
    """One visitor signs in for a delegation of 6: crowded at once (reception_delegation), flagged on the Case."""
    visit = eng.open_case("reception", received_at=clock.now(), petitioners=[{"name": "Người đại diện"}],
                          respondent=RESPONDENT, subject=DELEGATION[0], content=DELEGATION[1], channel="reception",
                          fields={"delegation_size": 6})
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "crowded"]
    assert spot.case_ids == (visit.id,)
    assert spot.reasons == ({"rule": "reception_delegation", "threshold": 5, "case_ids": [visit.id]},)
    assert (flag(visit, "crowded").by, flag(visit, "crowded").hot_spot) == ("reception_delegation", spot.id)


def test_a_case_open_366_days_is_prolonged_by_the_daily_job(base: Engine, clock: ManualClock) -> None:
    """Received 02/03/2026 09:00: the job of 02/03/2027 (365 days) raises nothing; of 03/03/2027 (366): prolonged."""
    policy = shipped_policy(prolonged_overdues=50)  # the complaint's overdue deadlines are not what is tested
    rt = base.runtime
    eng = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock,
                 reactors=grouping_reactors(policy), jobs=[open_too_long_job(policy)])
    case = open_letter(eng, clock, 0)
    clock.set(case.received_at + timedelta(days=30))
    eng.tick()  # the first month's deadlines run out
    # 02/03/2026 -> 02/03/2027: 365 days (2027 is no leap year): open 365 days, not more
    clock.set(case.received_at + timedelta(days=365))
    eng.tick()
    assert spots(eng, "prolonged") == []
    clock.set(case.received_at + timedelta(days=366))  # 03/03/2027 09:00: 366 days
    eng.tick()
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "prolonged"]
    assert spot.case_ids == (case.id,)
    assert spot.reasons == ({"rule": "open_too_long", "case_ids": [case.id], "days": 365},)
    assert flag(eng.get(case.id), "prolonged").by == "open_too_long"
    eng.tick()  # the same day again: its slot was claimed
    assert spot_events(eng).count(("hotspot.detected", "prolonged")) == 1


def test_missed_days_are_caught_up_by_the_daily_job(base: Engine, clock: ManualClock) -> None:
    """A daemon down from day 360 to day 370: its first tick runs the missed days and raises prolonged once."""
    policy = shipped_policy(prolonged_overdues=50)
    rt = base.runtime
    eng = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock,
                 reactors=grouping_reactors(policy), jobs=[open_too_long_job(policy)])
    case = open_letter(eng, clock, 0)
    clock.set(case.received_at + timedelta(days=360))
    eng.tick()
    assert spots(eng, "prolonged") == []
    clock.set(case.received_at + timedelta(days=370))
    eng.tick()
    assert spots(eng, "prolonged") == [(case.id,)]
    assert spot_events(eng).count(("hotspot.detected", "prolonged")) == 1
