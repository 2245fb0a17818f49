"""`kntc validate` names each mistake in the new schema features with file:line, every one of them;
`kntc schema` prints the JSON Schema an editor checks a workflow file with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError
from typer.testing import CliRunner

from adapters.cli import common
from engine.definitions import Budget
from engine.loader import validate_files

ROOT = Path(__file__).resolve().parents[2]
GOOD = Path(__file__).parent / "schema_workflows" / "detours.yaml"

BROKEN = """\
name: broken
label: "Hỏng"
initial: open
states:
  open: {label: "Mở"}
  done: {label: "Xong", final: true}
fields:
  heard_on: {type: date}
transitions:
  - {event: note, from: [open, done], to: "@same", roles: [clerk]}
  - event: close
    from: open
    to: done
    roles: [clerk]
    guard: "deadlines.apeal_window.status == 'running'"
  - {event: late, from: open, to: done, roles: [clerk], guard: "received_at >= date('2026-02-30')"}
  - {event: later, from: open, to: done, roles: [clerk], guard: "deadlines.window.ends == now"}
deadlines:
  window:
    starts_on: [opened]
    budget: {amount: 1, unit: month}
    variants:
      - when: "fields.heard_at < now"
        budget: {amount: 2, unit: month}
    legal_basis: "Điều 1"
"""


def line_of(needle: str) -> int:
    """The 1-based line of ``needle`` in BROKEN."""
    return BROKEN[:BROKEN.index(needle)].count("\n") + 1


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def test_every_new_mistake_is_reported_at_its_line(broken: Path) -> None:
    """`@same` from a final state, an unknown deadline, an impossible date, an unknown attribute and field."""
    found = {(p.line, str(p).split(": ", 1)[1]) for p in validate_files([broken])}
    assert found == {
        (line_of("{event: note"), "state 'done' is final (a `@same` transition would keep the case in it)"),
        (line_of("guard: \"deadlines.apeal"), "expression \"deadlines.apeal_window.status == 'running'\": "
                                              "unknown deadline 'apeal_window' (declared: window)"),
        (line_of("{event: late"), "expression \"received_at >= date('2026-02-30')\": "
                                  "date('2026-02-30') is not a date: day is out of range for month"),
        (line_of("{event: later"), "expression 'deadlines.window.ends == now': "
                                   "unknown deadline attribute 'ends' (known: due_date, status)"),
        (line_of("- when"), "expression 'fields.heard_at < now': unknown fields name 'heard_at' (declared: heard_on)"),
    }


def test_a_date_compared_with_a_timestamp_is_a_type_error_at_load(tmp_path: Path) -> None:
    """Dates are ISO strings in CEL: comparing one with CEL's timestamp() fails at load, not at fire time."""
    path = tmp_path / "w.yaml"
    path.write_text(GOOD.read_text(encoding="utf-8").replace(
        "received_at >= date('2026-07-01')", "received_at >= timestamp('2026-07-01T00:00:00Z')"), encoding="utf-8")
    [problem] = validate_files([path])
    assert "type error" in str(problem) and problem.line > 1


def test_the_test_workflow_has_no_problem() -> None:
    """The workflow that uses every new feature validates cleanly."""
    assert validate_files([GOOD]) == []


def test_kntc_validate_prints_every_problem(broken: Path) -> None:
    """The command prints each one as file:line:column and exits 1."""
    result = CliRunner().invoke(common.app, ["--config", str(ROOT / "config.yaml"), "validate", str(broken)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("kntc: error:")]
    assert len(errors) == 5
    assert all(f"{broken}:" in line for line in errors)


def test_month_and_year_units_are_accepted() -> None:
    """`month` and `year` are units of the schema; anything else is refused."""
    assert Budget(amount=1, unit="year").unit == "year"
    assert Budget(amount=3, unit="month").unit == "month"
    with pytest.raises(PydanticValidationError):
        Budget.model_validate({"amount": 1, "unit": "week"})


def test_kntc_schema_prints_the_json_schema_of_a_workflow_file(tmp_path: Path) -> None:
    """`from` is one state or a list, `to` may be left out, the units include month and year."""
    result = CliRunner().invoke(common.app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    transition = schema["$defs"]["TransitionSpec"]
    assert {"event", "from", "roles"} <= set(transition["required"]) and "to" not in transition["required"]
    assert [option["type"] for option in transition["properties"]["from"]["anyOf"]] == ["string", "array"]
    assert schema["$defs"]["Budget"]["properties"]["unit"]["enum"] == ["calendar", "working", "month", "year"]
    out = tmp_path / "workflow.schema.json"
    written = CliRunner().invoke(common.app, ["schema", "--out", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text(encoding="utf-8")) == schema
