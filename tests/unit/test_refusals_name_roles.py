"""A refusal says who may (issue 13): the roles allowed in this state, the guard that refused; allowed_events agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import NotAllowedError
from engine.loader import parse_definition
from engine.service import Engine
from engine.testing import memory_engine

ROOT = Path(__file__).resolve().parents[2]

APPROVAL = """\
name: approval
label: Duyệt
initial: open
fields:
  amount: {type: int, default: 0}
states:
  open: {label: Mở}
  approved: {label: Đã duyệt, final: true}
  closed: {label: Đóng, final: true}
transitions:
  - event: approve
    from: open
    to: approved
    roles: [head_of_unit, director]
    guard: "fields.amount <= 10 || role == 'director'"
    guard_message: "above 10 only the director approves (Quy chế Điều 5)"
  - {event: close, from: open, to: closed, roles: [clerk, head_of_unit]}
"""


@pytest.fixture
def eng() -> Engine:
    return memory_engine(workflows={"approval": parse_definition(APPROVAL, source="approval.yaml")})


def _open(eng: Engine, amount: int) -> str:
    return eng.open_case("approval", received_at=eng.clock.now(), petitioners=[{"name": "A"}], respondent="R",
                         subject="S", fields={"amount": amount}).id


def test_a_role_not_allowed_is_told_which_roles_may(eng: Engine) -> None:
    """A clerk approving reads the roles that may approve here, in the definition's order; nothing changes."""
    case_id = _open(eng, 5)
    with pytest.raises(NotAllowedError) as err:
        eng.fire(case_id, "approve", actor="cb01", role="clerk")
    assert "role 'clerk' may not fire it here (allowed for: head_of_unit, director)" in str(err.value)
    assert "(allowed here: close)" in str(err.value)  # what the clerk may do instead
    assert (err.value.why, err.value.roles) == ("role", ["head_of_unit", "director"])
    assert eng.get(case_id).state == "open" and len(eng.history(case_id)) == 1


def test_a_false_guard_is_named_with_its_rule(eng: Engine) -> None:
    """A head of unit approving above 10: the refusal quotes the rule and the guard; the roles are on the error."""
    case_id = _open(eng, 20)
    with pytest.raises(NotAllowedError) as err:
        eng.fire(case_id, "approve", actor="tp01", role="head_of_unit")
    text = str(err.value)
    assert "above 10 only the director approves (Quy chế Điều 5)" in text
    assert "its condition is false: fields.amount <= 10 || role == 'director'" in text
    assert "(allowed here: close)" in text
    assert (err.value.why, err.value.roles) == ("guard", ["head_of_unit", "director"])
    assert eng.fire(case_id, "approve", actor="gd01", role="director").state == "approved"


def test_an_event_of_no_role_here_names_none(eng: Engine) -> None:
    """In a final state nothing may fire: the refusal is for the state and names no roles."""
    case_id = _open(eng, 1)
    eng.fire(case_id, "close", actor="cb01", role="clerk")
    with pytest.raises(NotAllowedError) as err:
        eng.fire(case_id, "approve", actor="gd01", role="director")
    assert (err.value.why, err.value.roles, err.value.allowed) == ("state", [], [])


def test_allowed_events_reflect_roles_and_guards(eng: Engine) -> None:
    """A role that has the event but whose guard is false does not see it listed; the others as they may."""
    small, large = _open(eng, 5), _open(eng, 20)
    assert eng.allowed_events(small, role="head_of_unit") == ["approve", "close"]
    assert eng.allowed_events(large, role="head_of_unit") == ["close"]  # has the role, the guard is false
    assert eng.allowed_events(large, role="director") == ["approve"]
    assert eng.allowed_events(large, role="clerk") == ["close"]
    assert eng.allowed_events(large, role="inspector") == []


def test_shipped_complaint_second_instance_shortcut_is_not_listed() -> None:
    """At second instance the shortcut past the dialogue (guard fields.instance == 1) is not offered."""
    eng = memory_engine(workflows=ROOT / "workflows")
    ids = []
    for instance in (1, 2):
        case = eng.open_case("complaint", received_at=eng.clock.now(), petitioners=[{"name": "A"}],
                             respondent="R", subject="S", fields={"instance": instance})
        for event in ("accept", "start_verification"):
            case = eng.fire(case.id, event, actor="tt01", role="inspector")
        ids.append(case.id)
    assert "draft_decision" in eng.allowed_events(ids[0], role="inspector")
    assert "draft_decision" not in eng.allowed_events(ids[1], role="inspector")
    assert "draft_decision" not in eng.allowed_events(ids[0], role="clerk")
