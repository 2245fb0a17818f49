"""decide -> record -> react, over the memory, SQLite and PostgreSQL stores.

Reactors run in the transaction of the event that triggered them: what they add (events, outbox
messages, a priority, a fired event) commits with it, and a reactor that raises, or a chain of
reactions that loops, rolls the cause back too. Each engine here shares the store of the
``engine`` fixture and adds its own reactors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest

from engine import Emit, Enqueue, FireEvent, Reaction, ReactionError, SetPriority
from engine.model import NewEvent
from engine.reactors import Effect
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.engines import with_reactors


def open_complaint(engine: Engine, clock: ManualClock, name: str = "Trần Thị B") -> Any:
    return engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": name}],
                            respondent="UBND xã", subject="Cấp giấy chứng nhận")


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything a failed call must leave unchanged: the feed, the outbox, each case and its history."""
    rt = engine.runtime
    with rt.store.reader() as tx:
        cases = sorted((c.id, c.state, c.version, c.priority) for c in tx.iter_cases())
        histories = [len(tx.history(c[0])) for c in cases]
        outbox = [(m.channel, m.kind) for m in tx.outbox(limit=1000)]
    return cases, histories, outbox, [(e.seq, e.type) for e in engine.events(limit=10_000)]


def test_reactions_commit_with_their_cause(engine: Engine, clock: ManualClock) -> None:
    """A reactor on case.opened adds an event, an outbox message and a priority, all in the opening's transaction."""
    def crowded(reaction: Reaction) -> Iterable[Effect]:
        assert reaction.case is not None and reaction.case.id == reaction.event.case_id
        yield Emit(NewEvent("hotspot.detected", reaction.event.case_id, reaction.now, {"type": "crowded"}))
        yield Enqueue("log", "crowded_case", reaction.event.case_id, {"reason": "test"})
        yield SetPriority(reaction.case.id, "urgent")

    eng = with_reactors(engine, {"case.opened": [crowded]})
    case = open_complaint(eng, clock)
    assert case.priority == "urgent" and eng.get(case.id).priority == "urgent"
    assert [e.type for e in eng.events()] == ["case.opened", "hotspot.detected"]
    with eng.runtime.store.reader() as tx:
        messages = tx.outbox(limit=10)
    assert [(m.channel, m.kind, m.case_id, m.status) for m in messages] == [("log", "crowded_case", case.id, "pending")]


def test_a_reaction_may_fire_a_workflow_event(engine: Engine, clock: ManualClock) -> None:
    """A FireEvent effect moves the case through decide -> record -> react, and fire returns the case moved."""
    def auto_accept(reaction: Reaction) -> Iterable[Effect]:
        if reaction.event.data.get("event") == "accept":
            yield FireEvent(reaction.event.case_id or "", "start_verification", role="inspector")

    eng = with_reactors(engine, {"case.transitioned": [auto_accept]})
    case = open_complaint(eng, clock)
    moved = eng.fire(case.id, "accept", actor="cb01", role="inspector")
    assert (moved.state, moved.version) == ("verifying", 3)
    assert [h.event for h in eng.history(case.id)] == ["opened", "accept", "start_verification"]
    assert eng.verify_audit().ok


def test_a_reactor_that_raises_rolls_its_cause_back(engine: Engine, clock: ManualClock) -> None:
    """An exception in a reactor is a ReactionError naming it, and neither the cause nor any effect is written."""
    case = open_complaint(engine, clock)

    def broken(reaction: Reaction) -> Iterable[Effect]:
        yield Emit(NewEvent("hotspot.detected", reaction.event.case_id, reaction.now, {}))
        raise KeyError("group")

    eng = with_reactors(engine, {"case.transitioned": [broken]})
    before = snapshot(eng)
    with pytest.raises(ReactionError, match=r"reactor 'broken' failed on case.transitioned .*KeyError"):
        eng.fire(case.id, "accept", actor="cb01", role="inspector")
    assert snapshot(eng) == before
    with pytest.raises(ReactionError, match=r"on case\.opened"):
        open_complaint(with_reactors(engine, {"case.opened": [broken]}), clock)
    assert snapshot(eng) == before


def test_a_rule_that_triggers_itself_stops_with_a_clear_error(engine: Engine, clock: ManualClock) -> None:
    """A reaction that emits the event it reacts to hits the depth bound: ReactionError, nothing written."""
    def echo(reaction: Reaction) -> Iterable[Effect]:
        yield Emit(NewEvent("case.opened", reaction.event.case_id, reaction.now, {}))

    eng = with_reactors(engine, {"case.opened": [echo]})
    before = snapshot(eng)
    with pytest.raises(ReactionError, match=r"deeper than 8 levels \(echo -> echo"):
        open_complaint(eng, clock)
    assert snapshot(eng) == before


def test_firing_an_event_in_a_loop_is_bounded_too(engine: Engine, clock: ManualClock) -> None:
    """Reactions that resume every suspension and suspend every resumption stop at the bound, nothing written."""
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=clock.now().tzinfo))  # suspension exists from 01/07/2026
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector")

    def flip(reaction: Reaction) -> Iterable[Effect]:
        event, case_id = reaction.event.data["event"], reaction.event.case_id or ""
        if event == "suspend":
            yield FireEvent(case_id, "resume", role="head_of_unit")
        elif event == "resume":
            yield FireEvent(case_id, "suspend", payload={"reason": "x"}, role="head_of_unit")

    eng = with_reactors(engine, {"case.transitioned": [flip]})
    before = snapshot(eng)
    with pytest.raises(ReactionError, match="deeper than"):
        eng.fire(case.id, "suspend", actor="tp01", role="head_of_unit", payload={"reason": "chờ giám định"})
    assert snapshot(eng) == before


def test_no_reactor_no_cost_of_reacting(engine: Engine, clock: ManualClock) -> None:
    """Without reactors an engine writes exactly the command's own events (the hot path does no more)."""
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector")
    assert [e.type for e in engine.events()] == ["case.opened", "case.transitioned"]
    assert not engine.runtime.reactors
