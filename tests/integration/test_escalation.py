"""Escalation rules over the memory, SQLite and PostgreSQL stores.

Each engine here shares the store of the ``engine`` fixture and gets the reactors of its rules
(compiled by :func:`engine.escalation.compile_rules`), plus, where a test needs a hot spot, a test
reactor that emits a synthetic ``hotspot.detected`` when a case opens (whatever detects hot
spots, the rules only react to the event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.escalation_wiring import escalation_reactors, merge_reactors
from engine import Emit, ReactionError
from engine.escalation import PhasesAt, Rule, compile_rules
from engine.model import NewEvent
from engine.reactors import Effect, Reaction
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration.engines import with_reactors

ROLES = ("clerk", "inspector", "head_of_unit", "director", "system")
CROWDED = {"id": "crowded_before", "on": "hotspot.detected",
           "when": "event.data.type == 'crowded' && 'before' in phase",
           "then": [{"notify": {"roles": ["head_of_unit", "director"], "template": "crowded_case"}},
                    {"set_priority": "urgent"}]}


def rules(*raw: Mapping[str, Any]) -> list[Rule]:
    """Rules from their config shape."""
    return [Rule.model_validate(r) for r in raw]


def crowded_on_opening(reaction: Reaction) -> Iterable[Effect]:
    """A stand-in detector: every opened case is a crowded hot spot."""
    yield Emit(NewEvent("hotspot.detected", reaction.event.case_id, reaction.now,
                        {"type": "crowded", "case_ids": [reaction.event.case_id]}))


def open_complaint(engine: Engine, clock: ManualClock) -> Any:
    """A complaint received now."""
    return engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Trần Thị B"}],
                            respondent="UBND xã", subject="Bồi thường giải phóng mặt bằng")


def outbox(engine: Engine) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """Every outbox message as (channel, kind, case id, data)."""
    with engine.runtime.store.reader() as tx:
        return [(m.channel, m.kind, m.case_id, m.data) for m in tx.outbox(limit=1000)]


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything a refused command must leave unchanged: cases, histories, outbox and feed."""
    with engine.runtime.store.reader() as tx:
        cases = sorted((c.id, c.state, c.version, c.priority) for c in tx.iter_cases())
        histories = [len(tx.history(c[0])) for c in cases]
    return cases, histories, outbox(engine), [(e.seq, e.type) for e in engine.events(limit=10_000)]


def election(at: datetime) -> list[str]:
    """The 2026 election's phases (before 5/1–14/3, during 15/3, after 16/3–15/5)."""
    day = at.date()
    spans = {"before": ("2026-01-05", "2026-03-14"), "during": ("2026-03-15", "2026-03-15"),
             "after": ("2026-03-16", "2026-05-15")}
    return [name for name, (start, end) in spans.items() if start <= day.isoformat() <= end]


def hot_spot_engine(engine: Engine, phases_at: PhasesAt | None) -> Engine:
    """An engine with the stand-in detector and the crowded rule."""
    compiled = compile_rules(rules(CROWDED), ROLES, phases_at=phases_at)
    return with_reactors(engine, merge_reactors({"case.opened": [crowded_on_opening]}, compiled))


def test_a_crowded_hot_spot_before_the_election_escalates_at_once(engine: Engine, clock: ManualClock) -> None:
    """In the before phase the hot spot notifies head_of_unit and director and makes the case urgent, with it."""
    eng = hot_spot_engine(engine, election)
    case = open_complaint(eng, clock)
    assert case.priority == "urgent" and eng.get(case.id).priority == "urgent"
    feed = eng.events()
    assert [e.type for e in feed] == ["case.opened", "hotspot.detected", "escalation.raised"]
    assert feed[-1].data == {"rule": "crowded_before", "on": "hotspot.detected",
                             "actions": ["notify", "set_priority:urgent"], "case_id": case.id}
    # the event's ids and types come along for the templates (engine.escalation.EVENT_KEYS)
    base = {"type": "crowded", "case_ids": [case.id], "rule": "crowded_before", "event": "hotspot.detected",
            "case_id": case.id}
    assert outbox(eng) == [("notify", "crowded_case", case.id, {**base, "role": "head_of_unit"}),
                           ("notify", "crowded_case", case.id, {**base, "role": "director"})]


def test_the_same_hot_spot_outside_any_period_does_nothing(engine: Engine, clock: ManualClock) -> None:
    """With no phase in force the rule does not hold: no notice, no priority, no escalation event."""
    for phases_at in (None, election):
        if phases_at is election:
            clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=clock.now().tzinfo))
        eng = hot_spot_engine(engine, phases_at)
        case = open_complaint(eng, clock)
        assert eng.get(case.id).priority == "normal"
    assert outbox(engine) == []
    assert "escalation.raised" not in [e.type for e in engine.events()]


def test_an_overdue_complaint_notifies_the_head_of_unit(engine: Engine, clock: ManualClock) -> None:
    """Ticking a complaint past its acceptance time limit queues one head_of_unit notice, with the overdue event."""
    overdue = {"id": "overdue_acceptance", "on": "deadline.overdue",
               "when": "case.kind == 'complaint' && event.data.deadline == 'acceptance'",
               "then": [{"notify": {"roles": ["head_of_unit"]}}]}
    eng = with_reactors(engine, compile_rules(rules(overdue), ROLES))
    case = open_complaint(eng, clock)
    clock.advance(timedelta(days=30))
    eng.tick()
    assert outbox(eng) == [("notify", "overdue_acceptance", case.id, {
        "deadline": "acceptance", "rule": "overdue_acceptance", "event": "deadline.overdue", "case_id": case.id,
        "role": "head_of_unit"})]
    types = [e.type for e in eng.events()]
    assert types.index("escalation.raised") == types.index("deadline.overdue") + 1


def test_the_shipped_rules_notify_of_an_overdue_first_instance_resolution(
        engine: Engine, clock: ManualClock) -> None:
    """config.yaml's rules: an accepted first-instance complaint past its 30 days notifies head_of_unit only."""
    eng = with_reactors(engine, escalation_reactors(shipped_settings()))
    case = open_complaint(eng, clock)
    eng.fire(case.id, "accept", actor="cb01", role="inspector")
    clock.advance(timedelta(days=45))
    eng.tick()
    assert [(kind, data["role"]) for _, kind, _, data in outbox(eng)] == [("complaint_overdue", "head_of_unit")]


def test_a_looping_pair_of_rules_is_stopped_with_nothing_written(engine: Engine, clock: ManualClock) -> None:
    """Two rules that resume every suspension and suspend every resumption hit the depth bound: nothing written."""
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=clock.now().tzinfo))  # suspension exists from 01/07/2026
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector")
    loop = rules(
        {"id": "resume_it", "on": "case.transitioned", "when": "event.data.event == 'suspend'",
         "then": [{"fire": {"event": "resume", "role": "head_of_unit"}}, {"notify": {"roles": ["director"]}}]},
        {"id": "suspend_it", "on": "case.transitioned", "when": "event.data.event == 'resume'",
         "then": [{"fire": {"event": "suspend", "payload": {"reason": "x"}, "role": "head_of_unit"}}]})
    eng = with_reactors(engine, compile_rules(loop, ROLES))
    before = snapshot(eng)
    with pytest.raises(ReactionError, match=r"deeper than 8 levels \(escalation rule resume_it -> escalation rule "
                                            r"suspend_it"):
        eng.fire(case.id, "suspend", actor="tp01", role="head_of_unit", payload={"reason": "chờ giám định"})
    assert snapshot(eng) == before


def test_a_rule_never_lowers_a_priority(engine: Engine, clock: ManualClock) -> None:
    """set_priority high on an urgent case leaves it urgent; the escalation is still recorded."""
    lower = {"id": "lower", "on": "hotspot.detected", "then": [{"set_priority": "high"}]}
    eng = with_reactors(engine, merge_reactors(
        {"case.opened": [crowded_on_opening]}, compile_rules(rules(CROWDED, lower), ROLES, phases_at=election)))
    case = open_complaint(eng, clock)
    assert eng.get(case.id).priority == "urgent"
    assert [e.data["rule"] for e in eng.events() if e.type == "escalation.raised"] == ["crowded_before", "lower"]
