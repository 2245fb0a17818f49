"""``kntc case fire --occurred-at`` run as a real process on a SQLite file (back-entry, DESIGN.md §4).

The option parses like ``kntc daemon --now`` (no offset: Hà Nội time); ``case history`` shows when
a back-dated act happened beside when it was recorded; a bad date is one ``kntc: error:`` line
naming the option or the field, and writes nothing. The CLI runs on the wall clock, so every date
here is in the past.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_runner import kntc, ok

pytestmark = pytest.mark.slow

RECEIVED = "2026-06-01T09:00+07:00"  # Monday 01/06/2026


def refused(run: subprocess.CompletedProcess[str]) -> str:
    """Assert a user's mistake: non-zero, one stderr line, nothing on stdout; the reason."""
    assert run.returncode != 0 and run.stdout == "", run.stdout
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kntc: error: "), run.stderr
    return lines[0].removeprefix("kntc: error: ")


def test_case_fire_occurred_at_dates_the_act_and_history_shows_it(tmp_path: Path) -> None:
    """Accepted (dated) Wed 03/06/2026 10:00, no offset: the resolution clock counts from 03/06."""
    db = tmp_path / "k.db"
    case: dict[str, Any] = json.loads(ok(kntc(db, "case", "open", "complaint", "--subject", "Thu hồi đất",
                                              "--petitioner", "Nguyễn Văn A", "--received-at", RECEIVED, "--json")))
    cid = case["id"]
    fired = json.loads(ok(kntc(db, "case", "fire", cid, "accept", "--actor", "cb01", "--role", "inspector",
                               "--occurred-at", "2026-06-03T10:00", "--json")))
    # resolution, 30 calendar days from Wed 03/06: 27 to 30/06, 3 in July = Fri 03/07/2026
    assert fired["state"] == "accepted" and fired["deadlines"]["resolution"]["due_date"] == "2026-07-03"
    text = ok(kntc(db, "case", "history", cid))
    accept_line = next(line for line in text.splitlines() if " accept:" in line)
    assert "(occurred 2026-06-03T10:00:00+07:00)" in accept_line
    rows = [json.loads(line) for line in ok(kntc(db, "case", "history", cid, "--json")).splitlines()]
    assert [r["occurred_at"] for r in rows] == [None, "2026-06-03T10:00:00+07:00"]
    audit = json.loads(ok(kntc(db, "audit", "verify", "--json")))
    assert (audit["ok"], audit["cases"], audit["rows"]) == (True, 1, 2)


def test_a_bad_occurred_at_is_one_line_naming_it_and_writes_nothing(tmp_path: Path) -> None:
    """Not a date: the option is named; before receipt (Sun 31/05): the field and the rule are named."""
    db = tmp_path / "k.db"
    cid = json.loads(ok(kntc(db, "case", "open", "complaint", "--subject", "Thu hồi đất", "--petitioner",
                             "Nguyễn Văn A", "--received-at", RECEIVED, "--json")))["id"]
    assert "--occurred-at" in refused(kntc(db, "case", "fire", cid, "accept", "--actor", "cb01", "--role",
                                           "inspector", "--occurred-at", "last monday"))
    reason = refused(kntc(db, "case", "fire", cid, "accept", "--actor", "cb01", "--role", "inspector",
                          "--occurred-at", "2026-05-31T09:00"))
    assert reason.startswith("occurred_at:") and "before the case was received" in reason
    shown = json.loads(ok(kntc(db, "case", "show", cid, "--json")))
    assert (shown["state"], shown["version"]) == ("intake_check", 1)
