"""Complex marks and case flags over the memory and SQLite stores (one PostgreSQL test of concurrency).

An officer's mark_complex keeps its criterion in the case's flags and the group's complex hot
spot; a crowded complaint received from 01/07/2026 is complex by rule (criterion many_people),
one received in March 2026 is not; open_case's returned case already shows the flags its own
letter raised; flags follow a case through a split and a merge.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.config import Settings
from engine.grouping import GroupingPolicy, workflow_states
from engine.groups import grouping_reactors, hot_spots, merge, split
from engine.hot_spot_reactors import CROWDED_COMPLEX_RULE
from engine.model import Case
from engine.service import Engine
from engine.testing import ManualClock, memory_engine
from tests.integration.engines import with_reactors
from tests.integration.test_groups import group_of, spot_events
from tests.letters import RESPONDENT, SAME_MATTER

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def shipped_policy(**changes: Any) -> GroupingPolicy:
    """The default policy with the shipped workflows' final states and mark_complex states (as the wiring does)."""
    return replace(GroupingPolicy(**changes), **workflow_states(memory_engine().runtime.workflows))


def store_engine(kind: str, clock: ManualClock, settings: Settings, tmp_path: Path) -> Engine:
    """An engine over the memory store or a fresh SQLite file, without reactors."""
    if kind == "memory":
        return memory_engine(clock)
    from adapters.bootstrap import build
    return build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)


@pytest.fixture(params=["memory", "sqlite"])
def eng(request: pytest.FixtureRequest, clock: ManualClock, settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """An engine with the grouping reactors and the shipped workflows' states, over memory and SQLite."""
    base = store_engine(request.param, clock, settings, tmp_path)
    yield with_reactors(base, grouping_reactors(shipped_policy()))
    base.close()


def open_letter(eng: Engine, clock: ManualClock, index: int, **kwargs: Any) -> Case:
    """Open the ``index``-th letter of the land-clearance matter as a complaint, then let 20 hours pass."""
    subject, content = SAME_MATTER[index % len(SAME_MATTER)]
    forwarded = kwargs.pop("forwarded", None)
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"Người {index}"}],
                         respondent=RESPONDENT, subject=subject, content=content,
                         channel="forwarded" if forwarded else "post", forwarded_from=forwarded, **kwargs)
    clock.advance(timedelta(hours=20))
    return case


def flag(case: Case, kind: str) -> Any:
    (found,) = [f for f in case.flags if f.type == kind]
    return found


def test_an_officers_complex_mark_keeps_its_criterion_in_flags_and_hot_spot(eng: Engine, clock: ManualClock) -> None:
    """mark_complex by officer cb07 with multiple_places: the case's complex flag and the group's hot spot keep it."""
    first, second = open_letter(eng, clock, 0).id, open_letter(eng, clock, 1).id
    group = group_of(eng, first)
    marked_at = clock.now()
    case = eng.fire(first, "mark_complex", actor="cb07", role="inspector",
                    payload={"criterion": "multiple_places", "reason": "Phải xác minh tại hai xã"})
    mark = flag(case, "complex")
    assert (mark.source, mark.by, dict(mark.detail), mark.hot_spot) == (
        "officer", "cb07", {"criterion": "multiple_places"}, f"{group}:complex")
    assert mark.since == marked_at
    assert eng.get(first).flags == case.flags
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "complex"]
    assert spot.case_ids == (first,)
    assert spot.reasons == ({"rule": "marked_complex", "case_ids": [first], "criteria": ["multiple_places"]},)
    assert eng.get(second).flags == ()
    with pytest.raises(Exception, match="criterion"):  # a criterion outside the seven is refused
        eng.fire(second, "mark_complex", actor="cb07", role="inspector",
                 payload={"criterion": "very_hard", "reason": "x"})


def test_a_crowded_complaint_received_in_july_2026_is_complex_by_rule(eng: Engine, clock: ManualClock) -> None:
    """Five complaints from 10/07/2026: crowded, and each is marked complex by the rule (many_people); a sixth too."""
    clock.set(datetime(2026, 7, 10, 9, 0, tzinfo=TZ))
    ids = [open_letter(eng, clock, i).id for i in range(4)]
    assert [h.type for h in hot_spots(eng.runtime)] == ["early_crowded"]
    fifth = open_letter(eng, clock, 4)
    ids.append(fifth.id)
    assert [f.type for f in fifth.flags] == ["crowded", "early_crowded", "complex"]
    ids.append(open_letter(eng, clock, 5).id)
    for cid in ids:
        case = eng.get(cid)
        mark = flag(case, "complex")
        assert case.fields["complex"] is True
        assert (mark.source, mark.by, dict(mark.detail)) == ("rule", CROWDED_COMPLEX_RULE, {"criterion": "many_people"})
        entry = eng.history(cid)[-1]
        assert (entry.event, entry.actor, entry.payload["criterion"]) == ("mark_complex", CROWDED_COMPLEX_RULE,
                                                                          "many_people")
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "complex"]
    assert set(spot.case_ids) == set(ids) and spot.reasons[0]["criteria"] == ["many_people"]
    assert spot_events(eng).count(("hotspot.detected", "complex")) == 1


def test_the_rule_skips_a_complaint_where_mark_complex_is_not_allowed(eng: Engine, clock: ManualClock) -> None:
    """A crowded group from July 2026 whose first complaint was transferred: the others are marked, it is not."""
    clock.set(datetime(2026, 7, 10, 9, 0, tzinfo=TZ))
    ids = [open_letter(eng, clock, i).id for i in range(4)]
    eng.fire(ids[0], "transfer", actor="cb01", role="clerk", payload={"to_body": "Sở Tài nguyên và Môi trường"})
    ids.append(open_letter(eng, clock, 4).id)  # crowded: the transferred case counts, but is final
    assert eng.get(ids[0]).state == "transferred" and eng.get(ids[0]).fields["complex"] is False
    assert all(eng.get(cid).fields["complex"] is True for cid in ids[1:])


def test_a_crowded_complaint_received_in_march_2026_stays_the_officers_call(eng: Engine,
                                                                           clock: ManualClock) -> None:
    """Five complaints from 02/03/2026 (before NĐ 155/2026): crowded, none complex; the fifth's Case shows crowded."""
    cases = [open_letter(eng, clock, i) for i in range(5)]
    group = group_of(eng, cases[0].id)
    assert [f.type for f in cases[2].flags] == ["early_crowded"]
    crowded = flag(cases[4], "crowded")  # the Case open_case returned, before any re-read
    assert (crowded.source, crowded.by, crowded.hot_spot) == ("rule", "group_petitioners", f"{group}:crowded")
    assert [f.type for f in eng.get(cases[0].id).flags] == ["crowded", "early_crowded"]
    assert all(eng.get(c.id).fields["complex"] is False for c in cases)
    assert "complex" not in [h.type for h in hot_spots(eng.runtime)]


def test_flags_follow_a_case_through_split_and_merge(eng: Engine, clock: ManualClock) -> None:
    """Split out a case marked complex: it keeps its mark (in its new group), loses crowded; a merge gives it back."""
    ids = [open_letter(eng, clock, i).id for i in range(5)]
    group = str(group_of(eng, ids[0]))
    eng.fire(ids[0], "mark_complex", actor="cb07", role="inspector",
             payload={"criterion": "several_agencies", "reason": "Liên quan nhiều cơ quan"})
    new = split(eng.runtime, ids[0], actor="cb01", role="inspector", reason="Khác thửa đất")
    alone = eng.get(ids[0])
    assert [f.type for f in alone.flags] == ["complex"]
    assert (flag(alone, "complex").by, flag(alone, "complex").hot_spot) == ("cb07", f"{new}:complex")
    assert [f.type for f in eng.get(ids[1]).flags] == ["early_crowded"]  # 4 petitioners left: no longer crowded
    merge(eng.runtime, group, new, actor="cb01", role="inspector", reason="Cùng một vụ việc")
    back = eng.get(ids[0])
    assert [f.type for f in back.flags] == ["crowded", "early_crowded", "complex"]
    assert (flag(back, "complex").by, flag(back, "complex").hot_spot) == ("cb07", f"{group}:complex")
    assert dict(flag(back, "complex").detail) == {"criterion": "several_agencies"}
    assert [f.type for f in eng.get(ids[1]).flags] == ["crowded", "early_crowded"]


@pytest.mark.postgres
def test_concurrent_letters_make_each_crowded_complaint_complex_once(pg_url: str, settings: Settings,
                                                                    clock: ManualClock) -> None:
    """On PostgreSQL, the 5th and 6th letters opened at once: crowded once, every complaint marked complex once."""
    from adapters.bootstrap import build

    clock.set(datetime(2026, 7, 10, 9, 0, tzinfo=TZ))
    eng = build(settings, database_url=pg_url, clock=clock, reactors=grouping_reactors(shipped_policy()))
    try:
        ids = [open_letter(eng, clock, i).id for i in range(4)]
        barrier, failures, opened = threading.Barrier(2), [], []

        def open_one(index: int) -> None:
            barrier.wait()
            try:
                opened.append(eng.open_case("complaint", received_at=clock.now(),
                                            petitioners=[{"name": f"P{index}"}], respondent=RESPONDENT,
                                            subject=SAME_MATTER[index][0], content=SAME_MATTER[index][1]).id)
            except Exception as exc:  # reported below, with the thread's error
                failures.append(exc)

        threads = [threading.Thread(target=open_one, args=(i,)) for i in (4, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert spot_events(eng).count(("hotspot.detected", "crowded")) == 1
        for cid in [*ids, *opened]:
            marks = [e for e in eng.history(cid) if e.event == "mark_complex"]
            assert [m.actor for m in marks] == [CROWDED_COMPLEX_RULE]
            assert [f.type for f in eng.get(cid).flags].count("complex") == 1
    finally:
        eng.close()
