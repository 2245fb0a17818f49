"""``group.*`` in guards (engine/group_facts.py): checked at load with file:line, read only where used.

An unknown ``group.x`` is a load error at its line, like an unknown deadline; a workflow whose
guards read ``group`` is known as such (its commands read the group), the others read nothing;
a caller that gives no facts (a pure walk) sees a case in no group, as with grouping off.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.errors import NotAllowedError
from engine.group_facts import UNGROUPED, reads_group
from engine.loader import parse_definition, validate_files
from engine.testing import memory_engine

WORKFLOW = """\
name: once
label: "Một lần"
initial: open
states:
  open: {label: "Mở"}
  done: {label: "Xong", final: true}
transitions:
  - {event: send, from: open, to: done, roles: [clerk], guard: "!group.transferred && group.size >= 1"}
  - {event: guide, from: open, to: done, roles: [clerk], guard: "!group.guided_once"}
"""


def test_an_unknown_group_name_is_reported_at_its_line(tmp_path: Path) -> None:
    """`group.guided_once` is not a group fact: the file, its line and the known names."""
    path = tmp_path / "once.yaml"
    path.write_text(WORKFLOW, encoding="utf-8")
    found = [(p.line, str(p).split(": ", 1)[1]) for p in validate_files([path])]
    line = WORKFLOW[:WORKFLOW.index("{event: guide")].count("\n") + 1
    assert found == [(line, "expression '!group.guided_once': unknown group name 'guided_once' "
                            "(known: guided, refile_by, size, terminated_on, transferred)")]


def test_only_a_workflow_that_reads_group_reads_it() -> None:
    """The shipped letter reads group.* (transfer, guide); petition and denunciation do not."""
    workflows = memory_engine().runtime.workflows
    assert reads_group(workflows["letter"])
    assert not reads_group(workflows["petition"]) and not reads_group(workflows["denunciation"])
    good = parse_definition(WORKFLOW.replace("group.guided_once", "group.guided"))
    assert reads_group(good)


def test_a_caller_that_does_not_read_the_group_sees_a_case_in_no_group() -> None:
    """decide without group.* (a pure walk): UNGROUPED, the transfer allowed; with the facts, refused naming them."""
    from engine.commands import decide
    eng = memory_engine()
    case = eng.open_case("letter", received_at=eng.runtime.now(), petitioners=[{"name": "A"}],
                         respondent="UBND xã", subject="Đơn", content="Nội dung")
    eng.fire(case.id, "classify", actor="cb01", role="clerk")
    rt = eng.runtime
    with rt.store.reader() as tx:
        ledgers = tx.get_deadlines(case.id)
        record = rt.load(tx, case.id)
        compiled = rt.workflow_of(tx, record)
    assert UNGROUPED["size"] == 1 and UNGROUPED["transferred"] is False
    with pytest.raises(NotAllowedError, match=r"group\.transferred"):
        decide(compiled, rt.keeper(compiled), replace(record), list(ledgers), "transfer", actor="cb01",
               role="clerk", payload={"to_body": "UBND tỉnh"}, now=rt.now(),
               group={**UNGROUPED, "transferred": True, "size": 2})
    outcome = decide(compiled, rt.keeper(compiled), record, list(ledgers), "transfer", actor="cb01", role="clerk",
                     payload={"to_body": "UBND tỉnh"}, now=rt.now())
    assert outcome.record.state == "transferred"


def test_a_deadline_condition_may_not_read_the_group(tmp_path: Path) -> None:
    """A deadline's `when` is evaluated by the case view and the tick without the group: refused at its line."""
    text = WORKFLOW.replace('guard: "!group.guided_once"', 'guard: "true"') + """\
deadlines:
  reply:
    starts_on: [opened]
    stops_on: [send]
    when: "group.size > 1"
    budget: {amount: 5, unit: working}
    legal_basis: "Điều 1"
"""
    path = tmp_path / "once.yaml"
    path.write_text(text, encoding="utf-8")
    found = [(p.line, str(p).split(": ", 1)[1]) for p in validate_files([path])]
    line = text[:text.index('when: "group.size')].count("\n") + 1
    assert found == [(line, "expression 'group.size > 1': group.* is read only by transition guards "
                            "(a deadline's condition is evaluated without the group)")]
