"""``kntc`` and its configuration, run as a real process: where it is found, what is checked, how a mistake reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import ROOT, WORKFLOWS, line_of, run_all

pytestmark = pytest.mark.slow


def test_config_is_accepted_after_the_command_and_never_guessed(tmp_path: Path) -> None:
    """`--config` works after the command; no config.yaml here is said; `--config default` is the shipped one."""
    none, after, shipped = run_all(tmp_path / "k.db", ["validate"], ["validate", "--config", str(ROOT / "config.yaml")],
                                   ["--config", "default", "validate"], cwd=tmp_path)
    assert "no ./config.yaml here; pass --config PATH" in none.refused()
    assert "ok complaint" in after.ok() and "ok complaint" in shipped.ok()


def test_validate_checks_config_and_the_roles_workflows_name(tmp_path: Path) -> None:
    """`validate config.yaml` checks it as config; a role it does not declare is named at the workflow's line."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("workflows_dir: workflows", f"workflows_dir: {WORKFLOWS}")
    good, no_director, later = tmp_path / "config.yaml", tmp_path / "config-x.yaml", tmp_path / "config-p.yaml"
    good.write_text(text, encoding="utf-8")
    no_director.write_text(text.replace("    director: Giám đốc Sở\n", "").replace(
        "roles: [head_of_unit, director]", "roles: [head_of_unit]").replace(  # the escalation rules'
        "roles: [director]", "roles: [clerk]"), encoding="utf-8")  # and the director among the people
    later.write_text(text.replace("  - id: bau_cu_2026\n", "  - name: bau_cu_2026\n    id: bau_cu_2026\n"),
                     encoding="utf-8")
    ok, roles, periods = run_all(tmp_path / "k.db", ["validate", str(good)], ["validate", str(no_director)],
                                 ["validate", str(later)])
    assert ok.ok().startswith(f"ok config {good}: 5 roles, 3 units")
    assert roles.code == 1 and "Traceback" not in roles.err
    complaint = (WORKFLOWS / "complaint.yaml").read_text(encoding="utf-8")
    line, column = line_of(complaint, "director")
    assert f"kntc: error: {WORKFLOWS / 'complaint.yaml'}:{line}:{column}: role 'director' is not declared" in roles.err
    reason = periods.refused()
    entry = text[:text.index("  - id: bau_cu_2026")].count(chr(10)) + 1  # the line of the misspelt key
    assert reason.startswith(f"{later}:{entry}:5: periods.0.name: unknown key"), reason


def test_config_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    """A missing `--config` file, or one with an unknown key, is refused with one line naming file (line, key)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert text.count("\ndatabase_url:") == 1
    typo = tmp_path / "config.yaml"
    typo.write_text(text.replace("\ndatabase_url:", "\ndatabse_url:"), encoding="utf-8")
    line, _ = line_of(typo.read_text(encoding="utf-8"), "databse_url:")
    missing, unknown = run_all(tmp_path / "k.db", ["--config", "missing.yaml", "validate"],
                               ["--config", str(typo), "validate"])
    assert "missing.yaml" in missing.refused()
    reason = unknown.refused()
    assert reason.startswith(f"{typo}:{line}:"), reason
    assert "databse_url" in reason
