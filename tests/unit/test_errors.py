"""Every user mistake gets one clear error that names the place, and changes nothing (memory store)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import ConditionError, ConflictError, Engine, KntcError, NotAllowedError, NotFound, ValidationError
from engine.loader import parse_definition
from engine.testing import ManualClock, memory_engine

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTING = """
name: counting
label: "Đếm"
initial: open
states:
  open: {label: "Mở"}
  done: {label: "Xong", final: true}
fields:
  count: {type: int}
transitions:
  - {event: close, from: open, to: done, roles: [clerk]}
deadlines:
  reply:
    starts_on: [opened]
    stops_on: [close]
    budget: {amount: 10, unit: working}
    variants:
      - {when: "fields.count > 3", budget: {amount: 20, unit: working}}
    legal_basis: "thử"
"""


@pytest.fixture
def eng(clock: ManualClock) -> Engine:
    return memory_engine(clock, workflows_dir=ROOT / "workflows")


def _open(eng: Engine, clock: ManualClock, **overrides: Any) -> Any:
    args: dict[str, Any] = {"received_at": clock.now(), "petitioners": [{"name": "Lê Văn C"}],
                            "respondent": "Phòng A", "subject": "Đất đai", "channel": "post"}
    args.update(overrides)
    return eng.open_case(args.pop("workflow", "complaint"), **args)


def _snapshot(eng: Engine, case_id: str) -> tuple[Any, ...]:
    return eng.get(case_id), len(eng.history(case_id)), len(eng.events(limit=10_000))


class TestRefusedEvents:
    @pytest.mark.parametrize(("event", "role", "expected"), [
        ("explode", "inspector", "has no such event"),
        ("decide", "director", "cannot fire in this state"),
        ("accept", "clerk", "role 'clerk' may not fire it"),
    ])
    def test_refusal_names_state_event_and_what_is_allowed(self, eng: Engine, clock: ManualClock, event: str,
                                                           role: str, expected: str) -> None:
        """A refused event names the case's state, the event, the reason and the events allowed there."""
        case = _open(eng, clock)
        before = _snapshot(eng, case.id)
        with pytest.raises(NotAllowedError) as err:
            eng.fire(case.id, event, actor="cb01", role=role)
        text = str(err.value)
        assert f"event {event!r}" in text and "state 'intake_check'" in text and expected in text
        assert "allowed here:" in text
        assert (err.value.state, err.value.event) == ("intake_check", event)
        assert _snapshot(eng, case.id) == before

    def test_a_false_guard_is_quoted(self, eng: Engine, clock: ManualClock) -> None:
        """At second instance the shortcut past the dialogue is refused, quoting the condition."""
        case = _open(eng, clock, fields={"instance": 2})
        for event in ("accept", "start_verification"):
            case = eng.fire(case.id, event, actor="cb01", role="inspector")
        with pytest.raises(NotAllowedError, match=r"condition is false: fields\.instance == 1"):
            eng.fire(case.id, "draft_decision", actor="cb01", role="inspector")

    def test_stale_version_is_a_conflict(self, eng: Engine, clock: ManualClock) -> None:
        """A stale expected_version raises ConflictError naming both versions, and writes nothing."""
        case = _open(eng, clock)
        eng.fire(case.id, "accept", actor="cb01", role="inspector")
        before = _snapshot(eng, case.id)
        with pytest.raises(ConflictError, match="at version 2, not 1"):
            eng.fire(case.id, "start_verification", actor="cb01", role="inspector", expected_version=1)
        assert _snapshot(eng, case.id) == before


class TestBadInput:
    @pytest.mark.parametrize(("overrides", "field"), [
        ({"received_at": datetime(2026, 3, 2, 9)}, "received_at"),
        ({"received_at": "2026-03-02"}, "received_at"),
        ({"petitioners": "Nguyễn Văn A"}, "petitioners"),
        ({"petitioners": [{"nam": "A"}]}, "petitioners[0].nam"),
        ({"channel": "fax"}, "channel"),
        ({"subject": ""}, "subject"),
        ({"fields": {"remote_area": "yes"}}, "fields.remote_area"),
        ({"fields": {"remote": True}}, "fields.remote"),
        ({"fields": {"instance": 3}}, "fields.instance"),
        ({"petitioners": []}, "petitioners"),  # a complaint names its complainant (min_petitioners: 1)
        ({"petitioners": [], "workflow": "denunciation"}, "petitioners"),
        # before the calendar's first year (2015): a KntcError naming the field, not a bare ValueError
        ({"received_at": datetime(2014, 12, 30, 9, tzinfo=TZ)}, "received_at"),
    ])
    def test_open_case_names_the_field(self, eng: Engine, clock: ManualClock, overrides: dict[str, Any],
                                       field: str) -> None:
        """A bad argument to open_case raises ValidationError naming that field, and opens nothing."""
        with pytest.raises(ValidationError) as err:
            _open(eng, clock, **overrides)
        assert err.value.field == field
        assert eng.events() == []

    def test_a_missing_payload_field_is_named(self, eng: Engine, clock: ManualClock) -> None:
        """An event whose payload lacks a required field names payload.<field>."""
        case = _open(eng, clock)
        with pytest.raises(ValidationError) as err:
            eng.fire(case.id, "reject", actor="cb01", role="inspector", payload={})
        assert err.value.field == "payload.reason"

    def test_unknown_workflow_and_case(self, eng: Engine, clock: ManualClock) -> None:
        """An unknown workflow lists the known ones; an unknown case id is NotFound."""
        with pytest.raises(NotFound, match=r"unknown workflow: 'nope' \(known: complaint, denunciation"):
            _open(eng, clock, workflow="nope")
        with pytest.raises(NotFound, match="unknown case: 'missing'"):
            eng.fire("missing", "accept", actor="cb01", role="inspector")

    @pytest.mark.parametrize(("kwargs", "field"), [
        ({"after": -1}, "after"), ({"limit": 0}, "limit"), ({"limit": 10_001}, "limit"), ({"after": "0"}, "after"),
    ])
    def test_feed_arguments_are_checked(self, eng: Engine, kwargs: dict[str, Any], field: str) -> None:
        """events() refuses a negative cursor and limits outside 1..10000, naming the argument."""
        with pytest.raises(ValidationError) as err:
            eng.events(**kwargs)
        assert err.value.field == field

    def test_actor_and_role_are_required(self, eng: Engine, clock: ManualClock) -> None:
        """fire() needs a non-empty actor and role."""
        case = _open(eng, clock)
        with pytest.raises(ValidationError, match="actor"):
            eng.fire(case.id, "accept", actor=" ", role="inspector")


def test_a_petition_may_come_without_a_named_petitioner(eng: Engine, clock: ManualClock) -> None:
    """Only complaints and denunciations declare a minimum: an anonymous petition still opens."""
    assert _open(eng, clock, workflow="petition", petitioners=[]).petitioner_count == 0


def test_a_condition_that_cannot_be_evaluated_names_workflow_deadline_and_expression(clock: ManualClock) -> None:
    """A variant reading a field left empty fails at open_case as a ConditionError that names it; nothing opens."""
    eng = memory_engine(clock, {"counting": parse_definition(COUNTING)})
    with pytest.raises(ConditionError) as err:
        eng.open_case("counting", received_at=clock.now(), petitioners=[], respondent="R", subject="S")
    assert isinstance(err.value, KntcError)
    assert str(err.value).startswith("workflow 'counting', deadline 'reply': condition 'fields.count > 3' "
                                     "could not be evaluated")
    assert eng.events() == []
    case = eng.open_case("counting", received_at=clock.now(), petitioners=[], respondent="R", subject="S",
                         fields={"count": 5})
    assert case.deadlines["reply"].amount == 20
