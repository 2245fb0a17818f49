"""engine.reports.COUNTING names real events and deadlines of the shipped workflows (a renamed event fails here)."""

from __future__ import annotations

import pytest

from engine.reports import COUNTING, DIALOGUE_EVENTS, EXTEND_EVENTS, HEAD_DAY_EVENT
from engine.testing import memory_engine


@pytest.fixture(scope="module")
def shipped() -> dict[str, tuple[set[str], set[str]]]:
    engine = memory_engine()
    return {name: ({t.event for t in w.definition.transitions}, set(w.definition.deadlines))
            for name, w in engine.runtime.workflows.items()}


def test_every_shipped_kind_is_counted(shipped: dict[str, tuple[set[str], set[str]]]) -> None:
    assert set(COUNTING) == set(shipped)


@pytest.mark.parametrize("kind", sorted(COUNTING))
def test_the_events_and_time_limit_of_a_kind_exist(kind: str, shipped: dict[str, tuple[set[str], set[str]]]) -> None:
    events, deadlines = shipped[kind]
    assert set(COUNTING[kind].ends_by) <= events
    assert COUNTING[kind].time_limit is None or COUNTING[kind].time_limit in deadlines


def test_dialogues_extensions_and_head_days_are_events_of_their_kinds(
        shipped: dict[str, tuple[set[str], set[str]]]) -> None:
    assert set(DIALOGUE_EVENTS) <= shipped["complaint"][0]
    assert {"extend"} <= shipped["complaint"][0] and set(EXTEND_EVENTS) <= shipped["denunciation"][0]
    assert EXTEND_EVENTS["extend_intake"] in shipped["denunciation"][1]
    assert HEAD_DAY_EVENT in shipped["reception_schedule"][0]
