"""The deadline table a jurist reviews (``kntc deadlines``), and the README's copy of it.

The README's table between ``<!-- deadlines:start -->`` and ``<!-- deadlines:end -->`` must be
exactly what ``kntc --config default deadlines --markdown`` prints for the shipped workflows, so
that it never goes stale: regenerate it with ``.venv/bin/kntc --config default deadlines
--update-readme README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.deadlines import END, START, budget_words, json_lines, markdown, rows, splice, text_table
from adapters.definition_cache import load_directory
from engine.definitions import WorkflowDefinition
from engine.errors import ValidationError
from engine.testing import shipped_path

ROOT = Path(__file__).resolve().parents[2]


def _definition(deadlines: dict[str, Any]) -> WorkflowDefinition:
    """A two-state workflow ``demo`` with the given deadlines."""
    return WorkflowDefinition.model_validate({
        "name": "demo", "label": "Demo", "initial": "open",
        "fields": {"meeting_on": {"type": "date"}},
        "states": {"open": {"label": "Mở"}, "held": {"label": "Tạm dừng"}, "done": {"label": "Xong", "final": True}},
        "transitions": [
            {"event": "accept", "from": "open", "to": "open", "roles": ["clerk"], "label": "Thụ lý"},
            {"event": "hold", "from": "open", "to": "held", "roles": ["clerk"]},
            {"event": "extend", "from": "open", "roles": ["clerk"], "label": "Gia hạn"},
            {"event": "close", "from": ["open", "held"], "to": "done", "roles": ["clerk"], "label": "Đóng"}],
        "deadlines": deadlines})


class TestBudgetWords:
    """Budgets read as the law writes them: at least two digits, then the unit in Vietnamese."""

    @pytest.mark.parametrize(("amount", "unit", "words"), [
        (10, "working", "10 ngày làm việc"), (7, "working", "07 ngày làm việc"), (30, "calendar", "30 ngày"),
        (365, "calendar", "365 ngày"), (1, "year", "01 năm"), (3, "month", "03 tháng")])
    def test_words(self, amount: int, unit: str, words: str) -> None:
        """Each unit has its words; amounts under ten get a leading zero."""
        assert budget_words(amount, unit) == words


class TestRows:
    """What a row says about each part of a deadline."""

    def test_a_rule_without_a_budget_shows_the_base_budget_and_its_own_variants(self) -> None:
        """A dated rule that sets only variants keeps the base budget in force; both are written out."""
        defn = _definition({"d": {"starts_on": ["opened"], "budget": {"amount": 15, "unit": "calendar"},
                                  "legal_basis": "Luật A", "rules": [
                                      {"from": "2026-07-01", "legal_basis": "Luật B",
                                       "variants": [{"when": "fields.x", "budget": {"amount": 1, "unit": "month"}}]}]}})
        (row,) = rows([defn])
        assert row.cells[6] == ("from 01/07/2026: 15 ngày (Luật B)", "from 01/07/2026: `fields.x` → 01 tháng")
        assert row.cells[7] == ("`opened` (ngày tiếp nhận)",)

    def test_empty_parts_are_dashes_and_pipes_are_escaped_in_markdown(self) -> None:
        """A condition with ``||`` stays one cell; nothing to say is ``—``."""
        defn = _definition({"d": {"when": "fields.a || fields.b", "starts_on": ["accept"], "warn_at": [],
                                  "budget": {"amount": 5, "unit": "working"}, "legal_basis": "Luật A"}})
        table = markdown(rows([defn]))
        assert table.splitlines()[2] == ("| `demo` | `d` | — | `fields.a \\|\\| fields.b` | 05 ngày làm việc | — | — "
                                         "| `accept` (Thụ lý) | — | — | — | — | — | office | Luật A |")

    def test_a_deadline_counted_back_names_its_date_field_and_one_that_outlives_a_final_state_says_so(
            self) -> None:
        """``before``: the lead and the date field it is counted back from; ``outlives_final`` under Stops on."""
        defn = _definition({"d": {"starts_on": ["accept"], "stops_on": ["close"], "outlives_final": True,
                                  "before": {"field": "meeting_on", "amount": 5, "unit": "working"},
                                  "legal_basis": "Luật A"}})
        (row,) = rows([defn])
        assert row.cells[4] == ("05 ngày làm việc before `meeting_on`",)
        assert row.cells[8] == ("`close`", "runs on after a final state")

    def test_a_clock_counted_from_receipt_or_a_field_plus_days_and_one_with_an_event_when_missed(self) -> None:
        """``start_from`` and ``plus_field`` read after the budget; ``on_missed`` under Stops on."""
        defn = _definition({
            "k1": {"starts_on": ["accept"], "stops_on": ["close"], "start_from": {"field": "meeting_on"},
                   "plus_field": "lost_days", "budget": {"amount": 90, "unit": "calendar"}, "legal_basis": "Luật A"},
            "b6": {"starts_on": ["accept"], "stops_on": ["close"], "start_from": "received", "on_missed": "extend",
                   "budget": {"amount": 5, "unit": "working"}, "legal_basis": "Luật B"}})
        k1, b6 = rows([defn])
        assert k1.cells[4] == ("90 ngày + `lost_days`, from `meeting_on`",)
        assert b6.cells[4] == ("05 ngày làm việc, from the day of receipt",)
        assert b6.cells[8] == ("`close`", "when missed: `extend`")

    def test_json_lines_carry_the_definition_and_each_budget_in_words(self) -> None:
        """One object per deadline: the YAML's fields (``from`` as written), budgets with their ``text``."""
        defn = _definition({"d": {"starts_on": ["accept"], "budget": {"amount": 30, "unit": "calendar"},
                                  "legal_basis": "Luật A", "extensions": {"event": "extend", "max_times": 2,
                                                                          "amount": 30},
                                  "rules": [{"from": "2026-07-01", "budget": {"amount": 1, "unit": "year"},
                                             "legal_basis": "Luật B"}]}})
        (line,) = json_lines(rows([defn])).splitlines()
        data = json.loads(line)
        assert (data["workflow"], data["deadline"]) == ("demo", "d")
        assert data["budget"] == {"amount": 30, "unit": "calendar", "text": "30 ngày"}
        assert data["rules"] == [{"from": "2026-07-01", "budget": {"amount": 1, "unit": "year", "text": "01 năm"},
                                  "variants": None, "legal_basis": "Luật B"}]
        assert data["extensions"]["text"] == "30 ngày"  # no unit of its own: the budget's

    def test_the_text_table_wraps_a_long_cell_within_its_column(self) -> None:
        """Plain text: aligned columns, no backticks, a long label on two lines of the same row."""
        defn = _definition({"d": {"label": "Thời hạn giải quyết khiếu nại lần hai", "starts_on": ["accept"],
                                  "budget": {"amount": 30, "unit": "calendar"}, "legal_basis": "Luật A"}})
        assert text_table(rows([defn])) == (
            "Workflow  Deadline  Label                      Applies when  Budget   Variants  Effective-dated rules  "
            "Starts on        Stops on  Pauses in  Extensions  Warn at   On due  Owner   Legal basis\n"
            "--------  --------  -------------------------  ------------  -------  --------  ---------------------  "
            "---------------  --------  ---------  ----------  --------  ------  ------  -----------\n"
            "demo      d         Thời hạn giải quyết khiếu  —             30 ngày  —         —                      "
            "accept (Thụ lý)  —         —          —           50%, 80%  —       office  Luật A\n"
            "                    nại lần hai\n")


class TestSplice:
    """``--update-readme`` rewrites only what lies between the two marker lines."""

    def test_replaces_between_the_markers_and_keeps_the_rest(self) -> None:
        """Text before and after the markers is untouched; an old table is replaced whole."""
        text = f"# T\n\nintro\n{START}\n| old |\n{END}\n\n## Next\n"
        assert splice(text, "| new |\n") == f"# T\n\nintro\n{START}\n| new |\n{END}\n\n## Next\n"

    @pytest.mark.parametrize(("text", "message"), [
        ("# T\n", "README.md: the line <!-- deadlines:start --> must occur once (not found)"),
        (f"{START}\n{START}\n{END}\n", "README.md: the line <!-- deadlines:start --> must occur once "
                                        "(found on lines 1, 2)"),
        (f"{END}\n{START}\n", "README.md:1: <!-- deadlines:end --> comes before <!-- deadlines:start --> (line 2)")])
    def test_missing_repeated_or_reversed_markers_are_refused(self, text: str, message: str) -> None:
        """One line naming the file (and the line) and what is wrong with the markers."""
        with pytest.raises(ValidationError) as raised:
            splice(text, "| new |\n")
        assert str(raised.value) == f"--update-readme: {message}"


def test_the_readme_table_is_what_the_command_prints_for_the_shipped_workflows() -> None:
    """README.md's table is generated: run ``.venv/bin/kntc --config default deadlines --update-readme README.md``."""
    workflows = load_directory(shipped_path("workflows"))
    expected = markdown(rows([workflows[name].definition for name in sorted(workflows)]))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert splice(readme, expected) == readme, (
        "README.md's deadline table is stale: run .venv/bin/kntc --config default deadlines --update-readme README.md")
