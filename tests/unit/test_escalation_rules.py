"""Escalation rules: their shape, their checks at load (file:line), and the effects a rule decides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.config import load_settings
from engine.errors import ConfigError
from engine.escalation import Rule, RuleReactor, compile_rules, rule_problems
from engine.expressions import ExpressionError, compile_rule_condition
from engine.model import CaseRecord, NewEvent
from engine.ports import Transaction
from engine.reactors import Emit, Enqueue, FireEvent, Reaction, SetPriority

ROLES = ("clerk", "inspector", "head_of_unit", "director", "system")
AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
HEAD = "database_url: sqlite:///k.db\nescalation:\n  rules:\n"


def write(tmp_path: Path, rules: str) -> Path:
    """A config.yaml whose escalation.rules block is ``rules`` (indented under it)."""
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + rules, encoding="utf-8")
    return path


@pytest.mark.parametrize(("rules", "line", "message"), [
    ("    - {id: a, on: case.closed, then: [{notify: {roles: [director]}}]}\n", 4,
     r"escalation\.rules\.0\.on: unknown event type 'case\.closed'"),
    ("    - id: a\n      on: case.opened\n      then:\n        - notify: {roles: [director, mayor]}\n", 7,
     r"escalation\.rules\.0\.then\.0\.notify\.roles\.1: unknown role 'mayor'"),
    ("    - id: a\n      on: case.opened\n      when: \"case.kind == \"\n      then: [{set_priority: high}]\n", 6,
     r"escalation\.rules\.0\.when: condition does not compile"),
    ("    - id: a\n      on: case.opened\n      when: \"payload.x == 1\"\n      then: [{set_priority: high}]\n", 6,
     r"escalation\.rules\.0\.when: condition unknown name\(s\) payload"),
    ("    - id: a\n      on: case.opened\n      when: \"case.colour == 'x'\"\n      then: [{set_priority: high}]\n", 6,
     r"escalation\.rules\.0\.when: condition unknown case name 'colour'"),
    ("    - id: a\n      on: case.opened\n      then:\n        - set_priority: critical\n", 7,
     r"escalation\.rules\.0\.then\.0\.set_priority: Input should be 'normal', 'high' or 'urgent'"),
    ("    - id: a\n      on: case.opened\n      then: []\n", 6,
     r"escalation\.rules\.0\.then: List should have at least 1"),
    ("    - id: a\n      on: escalation.raised\n      then: [{notify: {roles: [director]}}]\n", 5,
     r"escalation\.rules\.0\.on: escalation\.raised cannot trigger a rule"),
    ("    - id: a\n      on: case.transitioned\n      then:\n        - fire: {event: close}\n", 7,
     r"escalation\.rules\.0\.then\.0\.fire: fires 'close' on every case\.transitioned with no 'when'.*loop"),
])
def test_a_bad_rule_is_refused_at_its_file_line(tmp_path: Path, rules: str, line: int, message: str) -> None:
    """Unknown events, roles and names, a condition that does not compile, a bad priority, an empty then, a loop."""
    path = write(tmp_path, rules)
    with pytest.raises(ConfigError, match=rf"config\.yaml:{line}:\d+: {message}"):
        load_settings(path)


def test_the_shipped_rules_load_and_compile(tmp_path: Path) -> None:
    """config.yaml's default rules pass every check and compile to reactors on their event types."""
    settings = load_settings(Path(__file__).parents[2] / "config.yaml")
    reactors = compile_rules(settings.escalation.rules, settings.organisation.roles)
    assert set(reactors) == {"hotspot.detected", "deadline.overdue"}


def test_compile_rules_names_the_field_of_a_bad_rule() -> None:
    """Rules built in code are checked too: a ConfigError names the field."""
    rule = Rule.model_validate({"id": "a", "on": "case.opened", "then": [{"notify": {"roles": ["mayor"]}}]})
    with pytest.raises(ConfigError, match=r"^escalation\.rules\.0\.then\.0\.notify\.roles\.0: unknown role 'mayor'"):
        compile_rules([rule], ROLES)


@pytest.mark.parametrize(("when", "why"), [
    ("phase in ['before', 'during']", "phase is the list of phases in force"),
    ("event.type == 'crowded'", "a hot spot's type is event.data.type"),
    ("1 + 1", "not true or false"),
])
def test_conditions_that_would_never_mean_what_they_say_are_refused(when: str, why: str) -> None:
    """Common slips (DESIGN's own sketch) are load errors, not rules that silently never fire."""
    rule = Rule.model_validate({"id": "a", "on": "hotspot.detected", "when": when, "then": [{"set_priority": "high"}]})
    assert why in rule_problems([rule], ROLES)[0][1]


def test_rule_conditions_read_event_case_and_phase_only() -> None:
    """compile_rule_condition accepts event.data paths and refuses guard names and unknown members."""
    assert compile_rule_condition("has(event.data.case) && event.data.case.x == 1").roots == ("event",)
    for bad in ("fields.x == 1", "event.payload == 1", "role == 'x'"):
        with pytest.raises(ExpressionError):
            compile_rule_condition(bad)


@pytest.mark.parametrize("raw", [
    {"id": "a", "on": "case.opened", "then": [{"notify": {}}]},
    {"id": "a", "on": "case.opened", "then": [{"notify": {"people": ["Nguyễn Văn A"]}}]},
    {"id": "a", "on": "case.opened", "then": [{"set_priority": "high", "fire": {"event": "x"}}]},
    {"id": "a", "on": "case.opened", "then": [{}]},
    {"id": "A b", "on": "case.opened", "then": [{"set_priority": "high"}]},
    {"id": "a", "on": "case.opened", "then": [{"set_priority": "high"}], "unless": "x"},
])
def test_malformed_rules_are_refused_by_their_shape(raw: dict[str, Any]) -> None:
    """No one to notify, a name instead of an officer id, two actions in one, unknown keys: refused."""
    with pytest.raises(ValueError):
        Rule.model_validate(raw)


def case_record(priority: str = "normal") -> CaseRecord:
    """A complaint row (its content never reaches a rule's messages)."""
    return CaseRecord(id="KN-1", kind="complaint", definition_hash="h", state="accepted", previous_state=None,
                      version=2, received_at=AT, opened_at=AT, updated_at=AT, channel="post", subject="Đất đai",
                      respondent="UBND xã", content="Nội dung đơn", petitioner_count=6, fields={"instance": 1},
                      priority=priority)  # type: ignore[arg-type]


def test_a_rule_decides_its_effects_and_carries_no_personal_data() -> None:
    """One escalation.raised, one message per role and officer, the priority, the fired event, in order."""
    rule = Rule.model_validate({
        "id": "crowded", "on": "hotspot.detected",
        "when": "event.data.type == 'crowded' && case.petitioner_count >= 5 && 'during' in phase",
        "then": [{"notify": {"roles": ["director"], "people": ["tp01"], "channel": "sms"}},
                 {"set_priority": "urgent"}, {"fire": {"event": "mark", "payload": {"k": 1}}}]})
    react = RuleReactor(rule, compile_rule_condition(rule.when or ""), lambda at: ["during"])
    event = NewEvent("hotspot.detected", "KN-1", AT, {"type": "crowded"})
    effects = react(Reaction(event=event, case=case_record(), tx=cast(Transaction, None), now=AT, depth=0))
    raised, *rest = effects
    assert isinstance(raised, Emit) and raised.event.type == "escalation.raised"
    base = {"type": "crowded", "rule": "crowded", "event": "hotspot.detected", "case_id": "KN-1"}
    # queued for the router (engine/routing.py), which sends only on the rule's channel
    assert rest == [Enqueue("notify", "crowded", "KN-1", {**base, "via": "sms", "role": "director"}),
                    Enqueue("notify", "crowded", "KN-1", {**base, "via": "sms", "person": "tp01"}),
                    SetPriority("KN-1", "urgent"), FireEvent("KN-1", "mark", {"k": 1})]
    assert "Nguyễn" not in repr(effects) and "Nội dung" not in repr(effects) and "UBND" not in repr(effects)
    quiet = RuleReactor(rule, compile_rule_condition(rule.when or ""), lambda at: ["after"])
    assert quiet(Reaction(event=event, case=case_record(), tx=cast(Transaction, None), now=AT, depth=0)) == []
