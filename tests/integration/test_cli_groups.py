"""``kntc group split|merge`` run as a real process on a SQLite file with the shipped grouping on.

Two near-duplicate land-clearance letters (tests/letters.py) are opened with ``build(...)`` so that
they share a group; the CLI then splits the second one out, and the history, the audit chain and
the refusals are read back through the CLI too.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import build
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration import cli_runner
from tests.integration.cli_runner import INSTALLED, ok, refused
from tests.letters import RESPONDENT, SAME_MATTER

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UNKNOWN_ID = "0" * 32


def kntc(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command with the installed ``kntc`` script (the module where it is not installed)."""
    return cli_runner.kntc(db, *args, command=INSTALLED)


@pytest.fixture
def grouped(tmp_path: Path) -> tuple[Path, str, str, str]:
    """A SQLite file holding two near-duplicate letters in one group: the file, both case ids, the group."""
    db = tmp_path / "k.db"
    clock = ManualClock(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))  # after the election period: no phase rungs
    eng = build(shipped_settings(), database_url=f"sqlite:///{db}", clock=clock)
    try:
        ids: list[str] = []
        for subject, content in SAME_MATTER[:2]:
            case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"Người {len(ids)}"}],
                                 respondent=RESPONDENT, subject=subject, content=content)
            ids.append(str(case.id))
            clock.advance(timedelta(hours=20))
        with eng.runtime.store.reader() as tx:
            groups = {tx.case_group(cid) for cid in ids}
    finally:
        eng.close()
    assert len(groups) == 1 and None not in groups, groups
    return db, ids[0], ids[1], str(groups.pop())


def test_group_split_moves_the_case_and_records_the_reason(grouped: tuple[Path, str, str, str]) -> None:
    """`kntc group split` takes the second letter out, says so in one line, and its history shows the reason."""
    db, _, second, old = grouped
    out = ok(kntc(db, "group", "split", second, "--reason", "khác nội dung", "--actor", "tp01",
                  "--role", "head_of_unit"))
    assert out.count("\n") == 1 and f"case {second} moved from group {old} to new group " in out, out
    rows = [json.loads(line) for line in ok(kntc(db, "case", "history", second, "--json")).splitlines()]
    split = [r for r in rows if r["event"] == "group.split"]
    assert len(split) == 1, rows
    assert split[0]["payload"]["reason"] == "khác nội dung"
    assert split[0]["actor"] == "tp01" and split[0]["role"] == "head_of_unit"
    assert "2 cases" in ok(kntc(db, "audit", "verify"))


def test_group_split_refuses_an_unknown_case_and_a_lone_one(grouped: tuple[Path, str, str, str]) -> None:
    """An unknown case id is refused with one line; so is a second split of a case already alone."""
    db, first, _, _ = grouped
    args = ("--reason", "khác nội dung", "--actor", "tp01", "--role", "head_of_unit")
    assert UNKNOWN_ID in refused(kntc(db, "group", "split", UNKNOWN_ID, *args))
    ok(kntc(db, "group", "split", first, *args))
    assert "alone in its group" in refused(kntc(db, "group", "split", first, *args))


def test_group_merge_puts_a_split_case_back(grouped: tuple[Path, str, str, str]) -> None:
    """After a split, `kntc group merge OLD NEW --json` moves the case back and says which cases moved."""
    db, _, second, old = grouped
    args = ("--reason", "cùng nội dung", "--actor", "tp01", "--role", "head_of_unit")
    new = json.loads(ok(kntc(db, "group", "split", second, *args, "--json")))["group"]
    value = json.loads(ok(kntc(db, "group", "merge", old, new, *args, "--json")))
    assert value == {"group": old, "previous_group": new, "case_ids": [second]}
    assert "group_b" in refused(kntc(db, "group", "merge", old, old, *args))
    assert "2 cases" in ok(kntc(db, "audit", "verify"))
