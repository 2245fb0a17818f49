"""The ``kntc`` command line run as a real process (DESIGN.md §2b, §10).

Every command is a subprocess of the installed console script, run in the repository so that the
shipped ``config.yaml`` and ``workflows/`` are used, with ``KNTC_DATABASE_URL`` pointing at a
temporary SQLite file. A process costs about a second (mostly reading the workflow YAML), so
commands that do not depend on each other run side by side, and the refused commands run against
the case of the open/fire session, which is read back after them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
_SCRIPT = Path(sys.executable).with_name("kntc")
KNTC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "adapters.cli"]
TIMEOUT = 60
RECEIVED = "2026-03-02T09:00"             # a Monday, naive: read in Asia/Ho_Chi_Minh
RECEIVED_LOCAL = "2026-03-02T09:00:00+07:00"
UNKNOWN_ID = "0" * 32


@dataclass(frozen=True)
class Run:
    """One finished ``kntc`` process."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def ok(self) -> str:
        """Assert success without a traceback; return stdout."""
        assert self.code == 0, f"kntc {' '.join(self.argv)} exited {self.code}:\n{self.err}"
        assert "Traceback" not in self.err, self.err
        return self.out

    def refused(self) -> str:
        """Assert the contract for a user's mistake (non-zero, one stderr line, no traceback); return the reason."""
        assert self.code != 0, f"kntc {' '.join(self.argv)} succeeded:\n{self.out}"
        assert "Traceback" not in self.err, self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{self.err}"
        assert lines[0].startswith("kntc: error: "), lines[0]
        assert self.out == "", f"a refused command printed on stdout:\n{self.out}"
        return lines[0].removeprefix("kntc: error: ")

    def json(self) -> Any:
        """Stdout as one JSON document."""
        return json.loads(self.ok())

    def json_lines(self) -> list[dict[str, Any]]:
        """Stdout as JSON lines, one object per line."""
        rows = [json.loads(line) for line in self.ok().splitlines()]
        assert all(isinstance(row, dict) for row in rows), rows
        return rows


def run_all(db: Path, *commands: Sequence[str], cwd: Path = ROOT) -> list[Run]:
    """Run independent ``kntc`` commands side by side against the SQLite file ``db``."""
    env = {**os.environ, "KNTC_DATABASE_URL": f"sqlite:///{db}", "PYTHONIOENCODING": "utf-8"}
    procs = [(tuple(c), subprocess.Popen([*KNTC, *c], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, encoding="utf-8"))
             for c in commands]
    runs: list[Run] = []
    try:
        for argv, proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT)
            runs.append(Run(argv, proc.returncode, out, err))
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return runs


def kntc(db: Path, *args: str) -> Run:
    """Run one ``kntc`` command against the SQLite file ``db``."""
    return run_all(db, args)[0]


def open_case(db: Path, received_at: str = RECEIVED) -> dict[str, Any]:
    """Open a complaint through the CLI and return its JSON."""
    return kntc(db, "case", "open", "complaint", "--subject", "Thu hồi đất", "--petitioner", "Nguyễn Văn A",
                "--received-at", received_at, "--json").json()


def line_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of ``needle`` in ``text``."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _copy_db(source: Path, target: Path) -> None:
    """Copy a SQLite database with the backup API (safe with WAL)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _count_cases(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM kntc_cases").fetchone()[0])
    finally:
        conn.close()


# -- definitions ------------------------------------------------------------------------------
def test_validate_accepts_the_shipped_workflows(tmp_path: Path) -> None:
    """`kntc validate` with no path checks the configured workflows/ and prints one "ok <name>" line each."""
    run = kntc(tmp_path / "k.db", "validate")
    lines = run.ok().splitlines()
    names = [m.group(1) for m in (re.match(r"ok (\w+)\b", line) for line in lines) if m]
    assert len(names) == len(lines), lines
    assert sorted(names) == sorted(p.stem for p in WORKFLOWS.glob("*.yaml"))
    assert not (tmp_path / "k.db").exists(), "validate should not touch the database"


BROKEN = {
    "stops_on names an unknown event": ("stops_on: [accept, reject, transfer, withdraw]",
                                        "stops_on: [accept, reject, transfer, vanish]", "vanish"),
    "broken indentation": ("\n  accepted: {label:", "\n   accepted: {label:", "accepted: {label:"),
}


@pytest.mark.parametrize("mistake", list(BROKEN))
def test_validate_names_file_line_and_column_of_a_broken_copy(tmp_path: Path, mistake: str) -> None:
    """A broken copy of complaint.yaml is refused with one `kntc: error: <path>:<line>:<col>:` line."""
    old, new, culprit = BROKEN[mistake]
    text = (WORKFLOWS / "complaint.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    broken = text.replace(old, new)
    path = tmp_path / "complaint.yaml"
    path.write_text(broken, encoding="utf-8")
    line, col = line_of(broken, culprit)
    reason = kntc(tmp_path / "k.db", "validate", str(path)).refused()
    assert reason.startswith(f"{path}:{line}:{col}:"), reason


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """`kntc graph` in each format, plus an unknown format and an unknown workflow."""
    db = tmp_path_factory.mktemp("graph") / "k.db"
    commands = {"mermaid": ["graph", "complaint", "--format", "mermaid"],
                "dot": ["graph", "complaint", "--format", "dot"],
                "svg": ["graph", "complaint", "--format", "svg"],
                "unknown": ["graph", "nope"]}
    return dict(zip(commands, run_all(db, *commands.values()), strict=True))


def test_graph_prints_mermaid_and_dot(graphs: dict[str, Run]) -> None:
    """`kntc graph complaint` prints a Mermaid stateDiagram-v2 or a DOT digraph of the same transitions."""
    mermaid = [line.strip() for line in graphs["mermaid"].ok().splitlines()]
    assert mermaid[0] == "stateDiagram-v2"
    assert "[*] --> intake_check" in mermaid
    assert "intake_check --> accepted: accept" in mermaid
    dot = graphs["dot"].ok()
    assert dot.startswith("digraph complaint {")
    assert dot.rstrip().endswith("}")
    assert 'intake_check -> accepted [label="accept"];' in dot


def test_graph_refuses_an_unknown_format_or_workflow(graphs: dict[str, Run]) -> None:
    """`--format svg` and an unknown workflow are refused with one line naming what was wrong."""
    reason = graphs["svg"].refused()
    assert "--format" in reason and "svg" in reason
    assert "nope" in graphs["unknown"].refused()


# -- database ---------------------------------------------------------------------------------
def _tables(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        conn.close()
    return {"names": names, "version": version, "cases": _count_cases(db)}


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    """`kntc db upgrade` creates the schema on a new file, and a second run changes nothing."""
    db = tmp_path / "k.db"
    first = kntc(db, "db", "upgrade").ok()
    schema = _tables(db)
    assert {"kntc_cases", "kntc_history", "kntc_events", "alembic_version"} <= schema["names"]
    assert len(schema["version"]) == 1 and schema["cases"] == 0
    second = kntc(db, "db", "upgrade").ok()
    assert second == first
    assert _tables(db) == schema
    assert kntc(db, "db", "upgrade", "--json").json() == {"revision": schema["version"][0][0]}


# -- cases ------------------------------------------------------------------------------------
REFUSALS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    # name: (argv, with {id} for the session's case; fragments the reason must contain)
    "wrong role": (["case", "fire", "{id}", "start_verification", "--actor", "cb01", "--role", "clerk"],
                   ("start_verification", "clerk")),
    "unknown event": (["case", "fire", "{id}", "fly", "--actor", "cb01", "--role", "inspector"], ("fly",)),
    "stale expected version": (["case", "fire", "{id}", "start_verification", "--actor", "cb01",
                                "--role", "inspector", "--expected-version", "1"], ("version",)),
    "unknown case id": (["case", "fire", UNKNOWN_ID, "accept", "--actor", "cb01", "--role", "inspector"],
                        (UNKNOWN_ID,)),
    "payload not JSON": (["case", "fire", "{id}", "suspend", "--actor", "tp01", "--role", "head_of_unit",
                          "--payload", "{reason: x"], ("--payload",)),
    "required payload field missing": (["case", "fire", "{id}", "suspend", "--actor", "tp01",
                                        "--role", "head_of_unit"], ("reason",)),
    "missing --actor": (["case", "fire", "{id}", "start_verification", "--role", "inspector"], ("--actor",)),
    "received-at garbage": (["case", "open", "complaint", "--subject", "S", "--received-at", "garbage"],
                            ("--received-at", "garbage")),
}


@dataclass(frozen=True)
class Session:
    """A complaint opened and accepted through the CLI, mistakes refused on it, then read back."""

    db: Path
    snapshot: Path  # a copy of the database right after `case open`
    opened: dict[str, Any]
    fired: dict[str, Any]
    refusals: dict[str, Run]
    show: Run
    show_json: Run
    history: Run
    events: Run
    events_after_1: Run
    cases: int


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Open a complaint and accept it, run every refused command on it, then read it back five ways."""
    folder = tmp_path_factory.mktemp("case")
    db, snapshot = folder / "k.db", folder / "snapshot.db"
    opened = open_case(db)
    _copy_db(db, snapshot)
    cid = opened["id"]
    # received 02/03/2026; accepted on 10/03 (before its due day 16/03), entered now: back-entry keeps it met
    fired = kntc(db, "case", "fire", cid, "accept", "--actor", "cb01", "--role", "inspector",
                 "--expected-version", str(opened["version"]), "--occurred-at", "2026-03-10T09:00", "--json").json()
    commands = [[cid if a == "{id}" else a for a in argv] for argv, _ in REFUSALS.values()]
    refusals = dict(zip(REFUSALS, run_all(db, *commands), strict=True))
    reads = run_all(db, ["case", "show", cid], ["case", "show", cid, "--json"], ["case", "history", cid, "--json"],
                    ["events", "--json"], ["events", "--after", "1", "--json"])
    return Session(db, snapshot, opened, fired, refusals, *reads, cases=_count_cases(db))


def test_case_open_prints_the_case_as_json(session: Session) -> None:
    """`case open --json` prints one object with the id, the initial state and the acceptance deadline."""
    case = session.opened
    assert re.fullmatch(r"\w+", case["id"])
    assert (case["kind"], case["state"], case["version"]) == ("complaint", "intake_check", 1)
    assert case["received_at"] == RECEIVED_LOCAL, "a naive --received-at is Asia/Ho_Chi_Minh time"
    acceptance = case["deadlines"]["acceptance"]
    assert acceptance["status"] == "running"
    assert acceptance["due_date"] == "2026-03-16"  # 10 working days after Monday 2 March 2026
    assert acceptance["unit"] == "working" and acceptance["legal_basis"]


def test_case_fire_prints_the_moved_case(session: Session) -> None:
    """`case fire <id> accept --json` prints the case in its new state and version, its clocks updated."""
    case = session.fired
    assert (case["id"], case["state"], case["version"]) == (session.opened["id"], "accepted", 2)
    assert case["deadlines"]["acceptance"]["status"] == "met"
    assert case["deadlines"]["resolution"]["status"] == "running"


def test_case_show_prints_state_allowed_events_and_deadlines(session: Session) -> None:
    """`case show <id>` prints the state, the events allowed next and each deadline; --json the case itself."""
    text = session.show.ok()
    assert session.opened["id"] in text and "state=accepted" in text and "v2" in text
    assert re.search(r"allowed: .*\bstart_verification\b", text)
    assert "acceptance: met, due 16/03/2026" in text
    assert "resolution: running" in text
    assert session.show_json.json() == session.fired


def test_case_history_prints_json_lines(session: Session) -> None:
    """`case history <id> --json` prints one JSON object per history row, in order."""
    rows = session.history.json_lines()
    assert [r["seq"] for r in rows] == [1, 2]
    assert [(r["event"], r["source"], r["target"]) for r in rows] == [
        ("opened", None, "intake_check"), ("accept", "intake_check", "accepted")]
    assert (rows[1]["actor"], rows[1]["role"]) == ("cb01", "inspector")


def test_events_prints_the_feed_as_json_lines(session: Session) -> None:
    """`events --json` prints one object per line with seq increasing, and `--after` is a cursor."""
    rows = session.events.json_lines()
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(set(seqs)) and seqs
    assert [r["type"] for r in rows] == ["case.opened", "case.transitioned"]
    assert {r["case_id"] for r in rows} == {session.opened["id"]}
    assert "Nguyễn Văn A" not in session.events.out
    assert session.events_after_1.json_lines() == [r for r in rows if r["seq"] > 1]


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_mistake_is_refused_with_one_line(session: Session, name: str) -> None:
    """A user's mistake exits non-zero with one `kntc: error:` line naming the culprit and no traceback."""
    reason = session.refusals[name].refused()
    for fragment in REFUSALS[name][1]:
        assert fragment in reason, reason


def test_refused_commands_change_nothing(session: Session) -> None:
    """After the refused commands there is still one case, at the fired version, with two history rows."""
    assert session.cases == 1
    assert session.show_json.json() == session.fired
    assert len(session.history.json_lines()) == 2
    assert len(session.events.json_lines()) == 2


# -- daemon -----------------------------------------------------------------------------------
def test_daemon_once_fires_due_rungs_exactly_once(tmp_path: Path) -> None:
    """`daemon --once --now ... --json` prints a TickReport; a second tick at the same moment fires nothing."""
    db = tmp_path / "k.db"
    case = open_case(db, received_at="2026-03-02T02:00:00+00:00")
    assert case["received_at"] == RECEIVED_LOCAL, "an ISO date-time with an offset keeps its instant"
    rungs = len(case["deadlines"]["acceptance"]["warn_at"]) + 1  # warnings, then overdue: all past by June
    report = kntc(db, "daemon", "--once", "--now", "2026-06-01T09:00", "--json").json()
    assert report["now"] == "2026-06-01T09:00:00+07:00"
    # the shipped election period's three phases (before 05/01, during 15/03, after 16/03) also change by June;
    # the roster check of Mon 01/06 looks 7 days ahead with nobody on duty: working days Mon 01 to Fri 05/06
    # and Mon 08/06 are 6 roster.gap events (Sat 06, Sun 07 lie in no every_day phase); Mon 01/06 is June's
    # first working day and June has no reception day of the head: 1 reception.month_without_day
    assert (report["fired"], report["events"]) == (rungs, rungs + 3 + 6 + 1)
    assert 1 <= report["claimed"] <= rungs  # a claimed timer row may fire several overdue rungs in one go
    assert report["max_lag_seconds"] > 0
    again, bad, wall, feed, page = run_all(db, ["daemon", "--once", "--now", "2026-06-01T09:00", "--json"],
                                           ["daemon", "--once", "--now", "not-a-date"], ["daemon", "--once"],
                                           ["events", "--json"], ["events", "--limit", "1"])
    assert (again.json()["claimed"], again.json()["fired"], again.json()["events"]) == (0, 0, 0)
    assert "--now" in bad.refused()
    assert re.match(r"tick at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00: ", wall.ok()), wall.out
    due = [row["data"]["due_at"] for row in feed.json_lines() if "due_at" in row["data"]]
    assert due and all(d.endswith("+07:00") for d in due), "feed data times are shown in local time"
    assert page.ok().count("\n") == 1
    assert page.err.strip() == "… more after seq 1: kntc events --after 1"


def test_open_shows_its_deadlines_and_history_shows_payloads(tmp_path: Path) -> None:
    """`case open` prints the deadlines it set; `case history` prints each event's payload (the reason)."""
    db = tmp_path / "k.db"
    opened = kntc(db, "case", "open", "complaint", "--subject", "S", "--petitioner", "A",
                  "--received-at", RECEIVED).ok().splitlines()
    cid = opened[0].split()[0]
    assert "  acceptance: running, due 16/03/2026 (10 working; " in opened[1]
    kntc(db, "case", "fire", cid, "accept", "--actor", "cb01", "--role", "inspector").ok()
    kntc(db, "case", "fire", cid, "suspend", "--actor", "tp01", "--role", "head_of_unit",
         "--payload", '{"reason": "chờ kết quả giám định"}').ok()
    history = kntc(db, "case", "history", cid).ok().splitlines()
    assert len(history) == 3
    assert history[2].endswith('by tp01 (head_of_unit) {"reason": "chờ kết quả giám định"}'), history[2]
    assert re.search(r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00 suspend: accepted -> suspended ", history[2])


# -- audit ------------------------------------------------------------------------------------
def test_audit_verify_detects_a_tampered_history_row(session: Session, tmp_path: Path) -> None:
    """`audit verify` passes on a fresh database and fails once a history row is edited behind its back."""
    db = tmp_path / "k.db"
    _copy_db(session.snapshot, db)
    assert "1 cases" in kntc(db, "audit", "verify").ok()
    conn = sqlite3.connect(db)
    try:
        with conn:
            assert conn.execute("UPDATE kntc_history SET actor = 'x'").rowcount == 1
    finally:
        conn.close()
    run, as_json = run_all(db, ["audit", "verify"], ["audit", "verify", "--json"])
    assert run.code != 0
    assert "Traceback" not in run.err
    assert run.err.splitlines()[-1].startswith("kntc: error: ")
    assert session.opened["id"] in run.err
    assert as_json.code != 0
    report = json.loads(as_json.out)
    assert report["ok"] is False and report["cases"] == 1 and session.opened["id"] in report["problems"][0]
