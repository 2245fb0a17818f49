"""build(): configuration, calendar changes, definition versions, the README example, the daemon's stop."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import build
from adapters.config import Settings, load_settings
from engine import ConfigError, NotAllowedError
from engine.maintenance import sync_calendar
from engine.testing import ManualClock

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _config(tmp_path: Path, extra: str = "", workflows: Path | None = None) -> Path:
    """A config.yaml in tmp_path using the shipped workflows (or ``workflows``) and a local SQLite file."""
    source = (ROOT / "config.yaml").read_text(encoding="utf-8")
    source = source.replace("database_url: sqlite:///kntc.db", "database_url: sqlite:///k.db")
    source = source.replace("workflows_dir: workflows", f"workflows_dir: {workflows or ROOT / 'workflows'}")
    path = tmp_path / "config.yaml"
    path.write_text(source + extra, encoding="utf-8")
    return path


class TestCalendarChange:
    def test_a_new_day_off_reprojects_open_deadlines(self, tmp_path: Path) -> None:
        """Adding an operator day off moves the due date of a running working-day deadline by one day."""
        clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))  # Monday
        eng = build(_config(tmp_path), clock=clock)
        case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "A"}],
                             respondent="R", subject="S")
        # 10 WD from Mon 02/03: 3,4,5,6,9,10,11,12,13,16 -> Mon 16/03
        assert case.deadlines["acceptance"].due_date == date(2026, 3, 16)
        text = (tmp_path / "config.yaml").read_text(encoding="utf-8").replace(
            "  days_off: []", "  days_off:\n    - {date: 2026-03-10, reason: Nghỉ đột xuất (bão)}")
        (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
        again = build(tmp_path / "config.yaml", clock=clock)
        moved = again.get(case.id).deadlines["acceptance"]
        assert moved.due_date == date(2026, 3, 17)  # 10/03 no longer counts: one more day
        assert sync_calendar(again.runtime) == 0  # recorded: a second build re-projects nothing

    def test_an_invalid_override_date_is_refused_with_its_place(self, tmp_path: Path) -> None:
        """A calendar override on a date that does not exist names config.yaml and its line."""
        path = _config(tmp_path)
        text = path.read_text(encoding="utf-8").replace(
            "  days_off: []", "  days_off:\n    - {date: 2026-02-30, reason: x}")
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=r"config\.yaml:\d+:\d+: calendar\.days_off\.0\.date"):
            build(path)


class TestDefinitionVersions:
    def test_a_case_stays_on_the_version_it_was_opened_with(self, tmp_path: Path) -> None:
        """After a workflow changes, an open case keeps the definition it was opened with."""
        workflows = tmp_path / "wf"
        shutil.copytree(ROOT / "workflows", workflows)
        clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
        eng = build(_config(tmp_path, workflows=workflows), clock=clock)
        old = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": "A"}],
                            respondent="R", subject="S")
        text = (workflows / "petition.yaml").read_text(encoding="utf-8")
        (workflows / "petition.yaml").write_text(text.replace("label:", "label: (v2)", 1), encoding="utf-8")
        newer = build(_config(tmp_path, workflows=workflows), clock=clock)
        assert newer.runtime.workflow("petition").content_hash != old.definition_hash
        assert newer.get(old.id).definition_hash == old.definition_hash
        assert "classify" in newer.allowed_events(old.id, role="inspector")

    def test_a_role_unknown_to_the_organisation_is_refused_at_its_line(self, tmp_path: Path) -> None:
        """A workflow naming a role config.yaml does not declare is refused at the workflow's file:line:col."""
        path = _config(tmp_path)
        text = path.read_text(encoding="utf-8").replace("    director: Giám đốc Sở\n", "")
        text = text.replace("roles: [head_of_unit, director]", "roles: [head_of_unit]")  # the escalation rules'
        text = text.replace("roles: [director]", "roles: [clerk]")  # the director among the people
        path.write_text(text, encoding="utf-8")
        first = min(p for p in (ROOT / "workflows").glob("*.yaml") if "director" in p.read_text(encoding="utf-8"))
        lines = first.read_text(encoding="utf-8").splitlines()
        row = next(i for i, line in enumerate(lines, 1) if "roles:" in line and "director" in line)
        column = lines[row - 1].index("director") + 1
        with pytest.raises(ConfigError, match=rf"{first.name}:{row}:{column}: role 'director' is not declared"):
            build(path)


def test_unknown_config_keys_name_file_and_line(tmp_path: Path) -> None:
    """A typo in config.yaml is named with file:line and the key."""
    path = tmp_path / "config.yaml"
    path.write_text("database_url: sqlite:///k.db\ntimezon: Asia/Ho_Chi_Minh\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:2:1: timezon: unknown key"):
        load_settings(path)


def test_relative_paths_resolve_beside_the_config(tmp_path: Path) -> None:
    """A relative SQLite path and workflow folder resolve against the config file's folder."""
    settings = load_settings(_config(tmp_path))
    assert settings.resolved_database_url("") == f"sqlite:///{tmp_path / 'k.db'}"
    assert Settings().workflows_path() == ROOT / "workflows"  # no workflows_dir: the shipped workflows


def test_the_shipped_configuration_builds_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build(None) uses the shipped config and workflows, with its SQLite file in the current folder."""
    monkeypatch.chdir(tmp_path)
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    eng = build(None, clock=clock)
    case = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": "A"}], respondent="R",
                         subject="S")
    assert case.state == "received"
    assert (tmp_path / "kntc.db").exists()
    eng.close()


def test_the_readme_portal_example_runs(tmp_path: Path) -> None:
    """The embedding example of README.md runs as written against a fresh SQLite file."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## Embedding kntc in a portal\n\n```python\n(.*?)```", readme, re.S)
    assert example is not None
    env = {**os.environ, "KNTC_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"}
    done = subprocess.run([sys.executable, "-c", example.group(1)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "event 'decide' is not allowed" in done.stdout
    assert "case.opened" in done.stdout


@pytest.mark.slow
def test_the_daemon_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`kntc daemon` ticks, and on SIGTERM finishes its tick and exits 0."""
    path = _config(tmp_path, workflows=ROOT / "workflows")
    text = path.read_text(encoding="utf-8").replace("tick_seconds: 60", "tick_seconds: 0.2")
    path.write_text(text, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "--config", str(path), "daemon"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    started = []
    try:
        for line in proc.stderr:  # wait until the daemon says it runs (EOF if it dies first)
            started.append(line)
            if "daemon_started" in line:
                break
        time.sleep(0.3)  # let it tick; the assertions below do not depend on how many ticks ran
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        proc.kill()
    err = "".join(started) + rest
    assert proc.returncode == 0, err
    assert "daemon_started" in err and "daemon_stopped" in err
    assert "Traceback" not in err


def test_refusals_change_nothing_on_sqlite(tmp_path: Path) -> None:
    """A refused event on SQLite leaves the case, its history and the feed as they were."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    eng = build(_config(tmp_path), clock=clock)
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "A"}],
                         respondent="R", subject="S")
    before = (eng.get(case.id), len(eng.history(case.id)), len(eng.events()))
    with pytest.raises(NotAllowedError, match="state 'intake_check'"):
        eng.fire(case.id, "decide", actor="cb01", role="director")
    assert (eng.get(case.id), len(eng.history(case.id)), len(eng.events())) == before


def test_the_readme_reactor_example_runs(tmp_path: Path) -> None:
    """README's reactor example: an accepted complaint from a remote area gets priority high and a notice."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"### Reacting inside the transaction: reactors\n.*?```python\n(.*?)```", readme, re.S)
    assert example is not None
    use = """
from datetime import datetime
from zoneinfo import ZoneInfo
case = eng.open_case("complaint", received_at=datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
                     petitioners=[{"name": "Người A"}], respondent="UBND xã", subject="Đất",
                     fields={"remote_area": True})
case = eng.fire(case.id, "accept", actor="cb01", role="inspector")
from engine.outbox import list_messages
print(case.priority, [e.type for e in eng.events()], [m.kind for m in list_messages(eng.runtime)])
"""
    env = {**os.environ, "KNTC_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"}
    done = subprocess.run([sys.executable, "-c", example.group(1) + use], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("high ['case.opened', 'case.transitioned', 'portal.remote_accepted'] "
                                   "['remote_complaint_accepted']")
