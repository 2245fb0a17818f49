"""`validate_files` reports every mistake of every workflow file at once, and guards with a type
error fail at load, not when an officer fires the event."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.loader import load_file, load_files, parse_definition, validate_files, workflow_files
from tests.unit.workflow_walker import WORKFLOWS

#: A small sound workflow; tests replace a line or two to break it.
BASE = """\
name: small
label: "Nhỏ"
initial: draft
fields:
  flag: {type: bool, default: false}
  count: {type: int, default: 0}
  note: {type: str}
  received: {type: date}
  tags: {type: list}
states:
  draft: {label: "Nháp"}
  done: {label: "Xong", final: true}
transitions:
  - event: close
    from: draft
    to: done
    roles: [clerk]
    guard: "true"
    payload:
      amount: {type: int}
deadlines:
  answer:
    starts_on: [opened]
    stops_on: [close]
    budget: {amount: 10, unit: working}
    legal_basis: "Điều 1"
"""


def write(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` as ``directory/name`` and return the path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` on which ``needle`` first appears."""
    return text[: text.index(needle)].count("\n") + 1


def with_guard(guard: str) -> str:
    """BASE with the transition's guard replaced (double quotes in ``guard`` must be escaped)."""
    return BASE.replace('guard: "true"', f'guard: "{guard}"')


class TestEveryProblemAtOnce:
    def test_sound_files_have_no_problems(self) -> None:
        """The shipped workflows validate with an empty list of problems."""
        assert validate_files(workflow_files(WORKFLOWS)) == []

    def test_every_mistake_of_every_file_is_reported(self, tmp_path: Path) -> None:
        """Shape, cross-check and expression mistakes in two files are all reported, each at its line."""
        shape = write(tmp_path, "a.yaml", BASE.replace("    stops_on: [close]", "    stop_on: [close]")
                      .replace("amount: 10,", "amount: 0,"))
        cross = write(tmp_path, "b.yaml", with_guard("fields.flag &&").replace("name: small", "name: other")
                      .replace("stops_on: [close]", "stops_on: [clos]").replace("starts_on: [opened]",
                                                                              "starts_on: [opend]"))
        problems = validate_files([shape, cross])
        a, b = shape.read_text(encoding="utf-8"), cross.read_text(encoding="utf-8")
        assert [(Path(p.source).name, p.line) for p in problems] == [
            ("a.yaml", line_of(a, "stop_on")), ("a.yaml", line_of(a, "amount: 0")),
            ("b.yaml", line_of(b, "opend")), ("b.yaml", line_of(b, "clos]")), ("b.yaml", line_of(b, "guard:")),
        ]
        assert [p.reason for p in problems[:4]] == [
            "deadlines.answer.stop_on: unknown key", "deadlines.answer.budget.amount: Input should be greater than 0",
            "unknown event 'opend'", "unknown event 'clos'"]
        assert "expression 'fields.flag &&': does not compile" in problems[4].reason
        assert all(str(p).startswith(f"{p.source}:{p.line}:{p.column}: ") and p.column >= 1 for p in problems)

    def test_every_expression_is_checked(self, tmp_path: Path) -> None:
        """Two broken expressions are two problems, even when a cross check fails too."""
        text = with_guard("fields.nope == 1").replace(
            "    starts_on: [opened]", "    when: \"fields.flag +\"\n    starts_on: [opened]").replace(
            "stops_on: [close]", "stops_on: [clos]")
        reasons = [p.reason for p in validate_files([write(tmp_path, "small.yaml", text)])]
        assert reasons[0] == "unknown event 'clos'"
        assert "unknown fields name 'nope'" in reasons[1]
        assert "expression 'fields.flag +': does not compile" in reasons[2]
        assert len(reasons) == 3

    def test_a_name_declared_twice_is_reported_at_the_second_name(self, tmp_path: Path) -> None:
        """A workflow name already used by an earlier file is reported at the later file's `name:`."""
        first, second = write(tmp_path, "a.yaml", BASE), write(tmp_path, "b.yaml", BASE)
        [problem] = validate_files([first, second])
        assert (problem.source, problem.line, problem.column) == (str(second), 1, 1)
        assert problem.reason == f"workflow 'small' is already defined in {first}"
        with pytest.raises(DefinitionError) as info:
            load_files([first, second])
        assert str(info.value) == str(problem)

    def test_unreadable_and_broken_files_do_not_hide_the_others(self, tmp_path: Path) -> None:
        """A missing file and broken YAML are one problem each, and the next file is still checked."""
        broken = write(tmp_path, "a.yaml", "name: [oops\n")
        missing = tmp_path / "missing.yaml"
        bad = write(tmp_path, "c.yaml", BASE.replace("stops_on: [close]", "stops_on: [close]\n    pauses_in: [held]"))
        problems = validate_files([broken, missing, bad])
        assert [p.source for p in problems] == [str(broken), str(missing), str(bad)]
        assert "broken YAML" in problems[0].reason
        assert problems[1].reason.startswith("cannot read")
        assert problems[2].reason == "unknown state 'held'"

    def test_loading_still_stops_at_the_first_problem(self, tmp_path: Path) -> None:
        """load_file raises the first problem validate_files reports for that file."""
        path = write(tmp_path, "small.yaml", BASE.replace("[opened]", "[opend]").replace("[close]", "[clos]"))
        problems = validate_files([path])
        assert len(problems) == 2
        with pytest.raises(DefinitionError) as info:
            load_file(path)
        assert str(info.value) == str(problems[0])


class TestGuardTypes:
    @pytest.mark.parametrize(("guard", "reason"), [
        ("fields.flag + 1 > 0", "type error: Unsupported operation: bool + int"),
        ("fields.note + 1 == 2", "type error: Unsupported operation: string + int"),
        ("payload.amount > 'a'", "type error: No such overload"),
        ("fields.tags + 1 == []", "type error: No such overload"),
        ("fields.count", "gives int 0, not true or false"),
    ])
    def test_a_guard_with_a_type_error_fails_to_load(self, guard: str, reason: str) -> None:
        """A guard that fails whatever the values is refused at load, at the guard's line."""
        with pytest.raises(DefinitionError) as info:
            parse_definition(with_guard(guard), source="small.yaml")
        assert (info.value.line, info.value.column) == (line_of(BASE, "guard:"), 5)
        assert info.value.reason.startswith(f"expression {guard!r}: {reason}")

    def test_a_condition_with_a_type_error_fails_to_load(self) -> None:
        """A deadline's `when:` is checked the same way, at its own line."""
        text = BASE.replace("    starts_on: [opened]", "    when: \"case.petitioner_count + 'x' == 1\"\n"
                                                      "    starts_on: [opened]")
        where = f"small.yaml:{line_of(text, 'when:')}:5"
        with pytest.raises(DefinitionError, match=rf"^{where}: expression .*: type error"):
            parse_definition(text, source="small.yaml")

    @pytest.mark.parametrize("guard", [
        "fields.count / fields.count > 0",  # division by zero only for the value 0
        "fields.tags[0] == 'a'",  # an index out of range only for an empty list
        "{'a': true}[fields.note]",  # a missing key only for some values
        "fields.received >= '2026-07-01'",  # a date field reaches CEL as an ISO string
        "fields.flag && fields.count + 1 > 0",
        "case.state == 'draft' && role == 'clerk' && payload.amount >= 0",
    ])
    def test_errors_that_depend_on_the_values_are_not_reported(self, guard: str) -> None:
        """A guard that can work for some values of the declared types loads."""
        assert parse_definition(with_guard(guard)).name == "small"
