"""``kntc deadlines`` run as a real process on a small workflow folder of its own.

The folder's ``config.yaml`` names only ``workflows_dir``; the two workflows cover what a row
says: a dated rule, a variant, a pause, an extension, a timed event, a condition. The expected
markdown is written out in full: it is what a jurist reads in the README. Mistakes exit 1 with one
``kntc: error:`` line and nothing on stdout; a usage error exits 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KNTC = [sys.executable, "-m", "adapters.cli"]

DEMO = """\
name: demo
label: Demo
initial: open
fields:
  urgent: {type: bool, default: false}
states:
  open: {label: Mở}
  held: {label: Tạm dừng}
  done: {label: Xong, final: true}
transitions:
  - {event: accept, from: open, roles: [clerk], label: Thụ lý}
  - {event: hold, from: open, to: held, roles: [clerk]}
  - {event: close, from: [open, held], to: done, roles: [clerk]}
deadlines:
  reply:
    label: Thời hạn trả lời
    starts_on: [opened]
    stops_on: [accept, close]
    pauses_in: [held]
    budget: {amount: 10, unit: working}
    variants:
      - {when: fields.urgent, budget: {amount: 3, unit: working}, legal_basis: Luật B Điều 2}
    rules:
      - {from: 2026-07-01, budget: {amount: 7, unit: working}, legal_basis: Luật C Điều 3}
    legal_basis: Luật A Điều 1
"""
ARCHIVE = """\
name: archive
label: Lưu trữ
initial: kept
states:
  kept: {label: Lưu}
  gone: {label: Hủy, final: true}
transitions:
  - {event: file, from: kept, roles: [clerk], label: Lưu đơn}
  - {event: prolong, from: kept, roles: [clerk]}
  - {event: destroy, from: kept, to: gone, roles: [clerk]}
deadlines:
  retention:
    when: "case.channel == 'post' || case.channel == 'reception'"
    starts_on: [file]
    budget: {amount: 1, unit: year}
    extensions: {event: prolong, max_times: 2, amount: 1, legal_basis: Luật E}
    warn_at: []
    on_due: destroy
    legal_basis: Luật D Điều 28
"""
HEADER = ("| Workflow | Deadline | Label | Applies when | Budget | Variants | Effective-dated rules | Starts on "
          "| Stops on | Pauses in | Extensions | Warn at | On due | Owner | Legal basis |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
ARCHIVE_ROW = ("| `archive` | `retention` | — | `case.channel == 'post' \\|\\| case.channel == 'reception'` | 01 năm "
               "| — | — | `file` (Lưu đơn) | — | — | +01 năm on `prolong`, at most 2 times (Luật E) | — "
               "| `destroy` | office | Luật D Điều 28 |\n")
DEMO_ROW = ("| `demo` | `reply` | Thời hạn trả lời | — | 10 ngày làm việc "
            "| `fields.urgent` → 03 ngày làm việc (Luật B Điều 2) | from 01/07/2026: 07 ngày làm việc (Luật C Điều 3) "
            "| `opened` (ngày tiếp nhận) | `accept`, `close` | `held` (paused days not counted) | — | 50%, 80% | — "
            "| office | Luật A Điều 1 |\n")
README = "# Title\n\nIntro.\n\n<!-- deadlines:start -->\nold table\n<!-- deadlines:end -->\n\n## After\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``config.yaml`` and ``workflows/{demo,archive}.yaml``."""
    root = tmp_path_factory.mktemp("deadlines")
    (root / "workflows").mkdir()
    (root / "workflows" / "demo.yaml").write_text(DEMO, encoding="utf-8")
    (root / "workflows" / "archive.yaml").write_text(ARCHIVE, encoding="utf-8")
    (root / "config.yaml").write_text("workflows_dir: workflows\n", encoding="utf-8")
    return root


def run_all(folder: Path, *commands: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent ``kntc`` commands side by side in ``folder`` (its ``./config.yaml``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("KNTC_CONFIG", None)
    procs = [subprocess.Popen([*KNTC, *c], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, encoding="utf-8") for c in commands]
    done = []
    for c, p in zip(commands, procs, strict=True):
        out, err = p.communicate(timeout=60)
        done.append(subprocess.CompletedProcess([*KNTC, *c], p.returncode, out, err))
    return done


def ok(run: subprocess.CompletedProcess[str]) -> str:
    """Assert success without a traceback; stdout."""
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


def refused(run: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """Assert a user's mistake: exit ``code``, one ``kntc: error:`` line, nothing on stdout; the reason."""
    assert run.returncode == code, (run.returncode, run.stderr)
    assert run.stdout == "", run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kntc: error: "), run.stderr
    return lines[0].removeprefix("kntc: error: ")


def test_outputs_and_refusals(folder: Path) -> None:
    """Markdown of every workflow by name, one named workflow, JSON lines, text; each mistake refused."""
    md, one, as_json, text, unknown, both, usage = run_all(
        folder, ["deadlines", "--markdown"], ["deadlines", "demo", "--markdown"], ["deadlines", "--json"],
        ["deadlines", "archive"], ["deadlines", "demo", "nope"], ["deadlines", "--markdown", "--json"],
        ["deadlines", "--bogus"])
    assert ok(md) == HEADER + ARCHIVE_ROW + DEMO_ROW  # workflows in name order
    assert ok(one) == HEADER + DEMO_ROW
    rows = [json.loads(line) for line in ok(as_json).splitlines()]
    assert [(r["workflow"], r["deadline"], r["budget"]["text"]) for r in rows] == [
        ("archive", "retention", "01 năm"), ("demo", "reply", "10 ngày làm việc")]
    assert rows[1]["rules"][0]["from"] == "2026-07-01" and rows[1]["pauses_in"] == ["held"]
    lines = ok(text).splitlines()
    assert lines[0].split()[:3] == ["Workflow", "Deadline", "Label"]
    assert lines[2].startswith("archive   retention") and "01 năm" in lines[2] and "`" not in ok(text)
    assert refused(unknown) == "workflow: unknown workflow 'nope' (known: archive, demo)"
    assert refused(both) == "--json: choose one of --markdown and --json"
    assert "--bogus" in refused(usage, code=2)


def test_update_readme_rewrites_only_the_table(folder: Path, tmp_path: Path) -> None:
    """The table lands between the markers, the rest stays; a second run changes nothing; no markers: refused."""
    readme, bare = tmp_path / "README.md", tmp_path / "BARE.md"
    readme.write_text(README, encoding="utf-8")
    bare.write_text("# No markers\n", encoding="utf-8")
    (first,) = run_all(folder, ["deadlines", "--update-readme", str(readme)])
    assert ok(first) == f"updated: {readme} (2 deadlines)\n"
    assert readme.read_text(encoding="utf-8") == README.replace(
        "old table\n", HEADER + ARCHIVE_ROW + DEMO_ROW)
    again, missing, with_json = run_all(folder, ["deadlines", "--markdown", "--update-readme", str(readme)],
                                        ["deadlines", "--update-readme", str(bare)],
                                        ["deadlines", "--json", "--update-readme", str(readme)])
    assert ok(again) == f"up to date: {readme} (2 deadlines)\n"
    assert refused(missing) == f"--update-readme: {bare}: the line <!-- deadlines:start --> must occur once (not found)"
    assert bare.read_text(encoding="utf-8") == "# No markers\n"
    assert refused(with_json) == "--update-readme: writes the markdown table; drop --json"
