"""Content groups and their hot spots over the memory, SQLite and PostgreSQL stores.

Six Vietnamese letters about one land-clearance compensation (some without diacritics, one with
its sentences reordered, one edited, one in the singular) join one group as they are opened; the
decoys do not. The group raises early_crowded at its 3rd petitioner and crowded at its 5th, each
once, then grows as hotspot.updated; officers' split and merge are audited in the cases' history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.errors import ValidationError
from engine.grouping import normalise
from engine.groups import grouping_reactors, hot_spots, merge, split
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.engines import with_reactors
from tests.letters import GENERIC, OTHER_MATTER, OTHER_RESPONDENT, RESPONDENT, SAME_MATTER

UNIQUE_NAME = "Hoàng Thị Quỳnh Zyxwv"


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The fixture's engine with the grouping reactors (default policy)."""
    return with_reactors(engine, grouping_reactors())


def letter(eng: Engine, clock: ManualClock, index: int, *, respondent: str = RESPONDENT, names: int = 1,
           text: tuple[str, str] | None = None, first: str | None = None) -> str:
    subject, content = text or SAME_MATTER[index]
    people = [{"name": first or f"Người {index} số {i}"} for i in range(names)]
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=people, respondent=respondent,
                         subject=subject, content=content)
    clock.advance(timedelta(hours=20))
    return str(case.id)


def group_of(eng: Engine, case_id: str) -> str | None:
    with eng.runtime.store.reader() as tx:
        return tx.case_group(case_id)


def spot_events(eng: Engine) -> list[tuple[str, str]]:
    return [(e.type, e.data["type"]) for e in eng.events(limit=10_000) if e.type.startswith("hotspot.")]


def test_letters_about_one_matter_share_a_group_and_decoys_do_not(eng: Engine, clock: ManualClock) -> None:
    """The six land-clearance letters join one group as they are opened; the three decoys each start their own."""
    ids = [letter(eng, clock, i) for i in range(len(SAME_MATTER))]
    assert len({group_of(eng, cid) for cid in ids}) == 1
    decoys = [letter(eng, clock, 0, text=OTHER_MATTER), letter(eng, clock, 0, respondent=OTHER_RESPONDENT),
              letter(eng, clock, 0, text=GENERIC)]
    groups = {group_of(eng, cid) for cid in decoys}
    assert len(groups) == 3 and group_of(eng, ids[0]) not in groups


def test_early_crowded_at_three_crowded_at_five_each_detected_once(eng: Engine, clock: ManualClock) -> None:
    """A growing group is early_crowded at its 3rd petitioner, crowded at its 5th, each detected once, then updated."""
    ids = [letter(eng, clock, 0)]
    ids.append(letter(eng, clock, 1))
    assert spot_events(eng) == []
    ids.append(letter(eng, clock, 2))
    assert spot_events(eng) == [("hotspot.detected", "early_crowded")]
    ids.append(letter(eng, clock, 3))
    ids.append(letter(eng, clock, 4))
    assert [e for e in spot_events(eng) if e[0] == "hotspot.detected"] == [
        ("hotspot.detected", "early_crowded"), ("hotspot.detected", "crowded")]
    ids.append(letter(eng, clock, 5))
    assert spot_events(eng)[-2:] == [("hotspot.updated", "crowded"), ("hotspot.updated", "early_crowded")]
    found = {h.type: h for h in eng_hot_spots(eng)}
    assert set(found) == {"crowded", "early_crowded"} and found["crowded"].case_ids == tuple(ids)
    assert found["crowded"].reasons[0]["petitioners"] == 6
    detected = [e for e in eng.events(limit=10_000) if e.type == "hotspot.detected" and e.data["type"] == "crowded"]
    assert detected[0].case_id == ids[4] and detected[0].data["case_ids"] == ids[:5]
    assert set(detected[0].data) == {"type", "hot_spot", "group", "case_ids", "reasons"}


def eng_hot_spots(eng: Engine) -> list[Any]:
    return hot_spots(eng.runtime)


def test_one_letter_with_six_petitioners_is_crowded_at_once(eng: Engine, clock: ManualClock) -> None:
    """A single letter signed by six petitioners raises crowded when it is opened, for its own reason."""
    case_id = letter(eng, clock, 0, names=6)
    assert ("hotspot.detected", "crowded") in spot_events(eng)
    crowded = next(h for h in eng_hot_spots(eng) if h.type == "crowded")
    assert crowded.case_ids == (case_id,) and crowded.reasons[0]["rule"] == "letter_signatories"


def test_split_and_merge_are_audited_and_change_the_hot_spots(eng: Engine, clock: ManualClock) -> None:
    """An officer's split and merge are history entries with the reason, keep the audit chain, and move hot spots."""
    ids = [letter(eng, clock, i) for i in range(3)]
    group = group_of(eng, ids[0])
    assert [h.type for h in eng_hot_spots(eng)] == ["early_crowded"]
    new = split(eng.runtime, ids[2], actor="cb01", role="inspector", reason="Khác thửa đất")
    assert group_of(eng, ids[2]) == new != group and eng_hot_spots(eng) == []
    entry = eng.history(ids[2])[-1]
    assert (entry.event, entry.payload, entry.source, entry.target) == (
        "group.split", {"reason": "Khác thửa đất", "group": new}, eng.get(ids[2]).state, eng.get(ids[2]).state)
    assert eng.get(ids[2]).version == 2
    merge(eng.runtime, str(group), new, actor="cb01", role="inspector", reason="Cùng một vụ việc")
    assert group_of(eng, ids[2]) == group
    assert [h.event for h in eng.history(ids[2])][-2:] == ["group.split", "group.merged"]
    assert [h.type for h in eng_hot_spots(eng)] == ["early_crowded"]
    changes = [e.data["change"] for e in eng.events(limit=10_000) if e.type == "group.changed"]
    assert changes == ["group.split", "group.merged"]
    assert eng.verify_audit().ok


def test_split_and_merge_refuse_bad_input_naming_the_field(eng: Engine, clock: ManualClock) -> None:
    """A split without a reason, of a case alone in its group, or a merge of a group with itself is refused."""
    ids = [letter(eng, clock, i) for i in range(2)]
    with pytest.raises(ValidationError, match="reason"):
        split(eng.runtime, ids[0], actor="cb01", role="inspector", reason=" ")
    lone = letter(eng, clock, 0, text=GENERIC)
    with pytest.raises(ValidationError, match="case_id"):
        split(eng.runtime, lone, actor="cb01", role="inspector", reason="x")
    group = str(group_of(eng, ids[0]))
    with pytest.raises(ValidationError, match="group_b"):
        merge(eng.runtime, group, group, actor="cb01", role="inspector", reason="x")


def test_no_petitioner_name_reaches_the_feed(eng: Engine, clock: ManualClock) -> None:
    """A petitioner's name appears nowhere in the feed, written as given or normalised, even for a crowded group."""
    for i in range(5):
        letter(eng, clock, i, names=2, first=UNIQUE_NAME)
    feed = repr([(e.type, e.data) for e in eng.events(limit=10_000)])
    assert "hotspot.detected" in feed
    for part in (UNIQUE_NAME, normalise(UNIQUE_NAME), "Zyxwv", "zyxwv"):
        assert part not in feed


def test_candidates_come_from_the_band_index_not_a_scan(tmp_path: Any, settings: Any, clock: ManualClock) -> None:
    """On SQLite the candidate query searches the band keys' index; it never scans the band table."""
    import sqlite3

    from sqlalchemy.dialects import sqlite

    from adapters.bootstrap import build
    from adapters.sql.statements import compile_statements

    build(settings, database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock).close()
    stmt = compile_statements(sqlite.dialect())["group_candidates_all"]
    with sqlite3.connect(tmp_path / "k.db") as conn:
        plan = " | ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {stmt.sql}",
                                                               stmt.params({**{f"band_{i}": "x" for i in range(16)},
                                                                            "limit": 5})))
    assert "SEARCH kntc_group_bands USING" in plan and "(band=?)" in plan and "SCAN kntc_group_bands" not in plan


def test_letters_joining_one_group_at_once_detect_it_once(pg_url: str, settings: Any, clock: ManualClock) -> None:
    """On PostgreSQL two letters of one matter opened at the same moment both join; early_crowded is detected once."""
    import threading

    from adapters.bootstrap import build

    eng = build(settings, database_url=pg_url, clock=clock, reactors=grouping_reactors())
    try:
        first = [letter(eng, clock, i) for i in range(2)]
        barrier, failures = threading.Barrier(2), []

        def open_one(index: int) -> None:
            barrier.wait()
            try:
                eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"P{index}"}],
                              respondent=RESPONDENT, subject=SAME_MATTER[index][0], content=SAME_MATTER[index][1])
            except Exception as exc:  # reported below, with the thread's error
                failures.append(exc)

        threads = [threading.Thread(target=open_one, args=(i,)) for i in (2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert spot_events(eng).count(("hotspot.detected", "early_crowded")) == 1
        with eng.runtime.store.reader() as tx:
            assert len(tx.group_members(str(tx.case_group(first[0])))) == 4
    finally:
        eng.close()
