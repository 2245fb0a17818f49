"""``kntc report``: the period a clerk names, the file written, and every bad input refused on one line
naming its option before the engine is built (no database opened, no file left).

The CLI's own tests give ``Engine.report`` a fixed Report (``fixed_report``: the period asked, the summary
line); ``test_kntc_report_writes_what_the_engine_counted`` runs a real engine's report through a real process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from adapters.bootstrap import build
from adapters.cli import common, main
from adapters.cli import report as report_cli
from adapters.cli.report import parse_day, period_of
from engine.errors import ValidationError
from engine.reports import Report
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration.cli_runner import ROOT, kntc, ok, refused

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = str(ROOT / "config.yaml")
#: a process whose kntc has the report command, however adapters/cli/__init__.py registers it
WEEKLY = [{"week": "2026-03-02", "received": 5, "resolved": 2}, {"week": "2026-03-09", "received": 7, "resolved": 4}]


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each run reads the configuration again, with its database in the test's folder."""
    monkeypatch.setenv("KNTC_DATABASE_URL", f"sqlite:///{tmp_path / 'kntc.db'}")
    common._state["settings"] = None
    yield
    common._state["settings"] = None


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``kntc --config config.yaml report ARGS`` in this process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as done:
        main(["--config", CONFIG, "report", *args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


# -- the period -------------------------------------------------------------------------------
def test_days_are_iso_or_vietnamese_order() -> None:
    assert parse_day("2026-03-31", "--to") == date(2026, 3, 31)
    assert parse_day("5/3/2026", "--from") == date(2026, 3, 5)  # dd/mm/yyyy: 5 March
    for bad in ("2026-02-30", "31/02/2026", "20260301", "tomorrow", ""):
        with pytest.raises(ValidationError, match=r"^--from: .* is not a day \(YYYY-MM-DD or dd/mm/yyyy\)$"):
            parse_day(bad, "--from")


def test_periodic_reports_cover_their_whole_months() -> None:
    today = date(2026, 5, 20)
    # Q1: January to March, March has 31 days
    assert period_of(today, quarter="2026Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    # Q4: October to December
    assert period_of(today, quarter="2025q4") == (date(2025, 10, 1), date(2025, 12, 31))
    # H1: January to June (30 days); H2: July to December
    assert period_of(today, half="2026H1") == (date(2026, 1, 1), date(2026, 6, 30))
    assert period_of(today, half="2026H2") == (date(2026, 7, 1), date(2026, 12, 31))
    # nine months: January to September (30 days)
    assert period_of(today, year=2026, months=9) == (date(2026, 1, 1), date(2026, 9, 30))
    assert period_of(today, year=2026) == (date(2026, 1, 1), date(2026, 12, 31))
    # --months alone: this year's first months; 2 months of 2026: February has 28 days
    assert period_of(today, months=2) == (date(2026, 1, 1), date(2026, 2, 28))


def test_the_default_period_is_this_quarter_to_today() -> None:
    # 20 May is in Q2, which starts on 1 April
    assert period_of(date(2026, 5, 20)) == (date(2026, 4, 1), date(2026, 5, 20))
    # --to alone: from the start of its quarter; --from alone: to today
    assert period_of(date(2026, 5, 20), end="2026-02-14") == (date(2026, 1, 1), date(2026, 2, 14))
    assert period_of(date(2026, 5, 20), start="01/03/2026") == (date(2026, 3, 1), date(2026, 5, 20))
    # one day is a period
    assert period_of(date(2026, 5, 20), start="2026-03-02", end="2026-03-02") == (date(2026, 3, 2), date(2026, 3, 2))


# -- bad input: one line naming the option, nothing built, nothing written ---------------------
BAD = [
    (["--from", "2026-13-01"], "--from: '2026-13-01' is not a day (YYYY-MM-DD or dd/mm/yyyy)"),
    (["--to", "31/04/2026"], "--to: '31/04/2026' is not a day (YYYY-MM-DD or dd/mm/yyyy)"),
    (["--from", "2026-04-01", "--to", "2026-03-31"], "--from: 2026-04-01 is after --to 2026-03-31"),
    (["--format", "pdf"], "--format: 'pdf' is not a report format (one of xlsx, csv, json)"),
    (["--out", "OUT/q1.txt"], "--format: cannot tell the format from the file name's suffix .txt: "
                              "give one of xlsx, csv, json"),
    (["--format", "xlsx"], "--out: an xlsx report is a file: give --out FILE.xlsx"),
    (["--out", "OUT"], "--out: OUT is a folder, not a file"),
    (["--out", "OUT/missing/q1.json"], "--out: the folder OUT/missing does not exist"),
    (["--quarter", "2026Q5"], "--quarter: '2026Q5' is not a quarter (e.g. 2026Q1)"),
    (["--half", "2026H3"], "--half: '2026H3' is not a half year (e.g. 2026H1)"),
    (["--quarter", "2026Q1", "--year", "2026"],
     "--year: give one of --quarter, --half, --year, not --quarter and --year"),
    (["--quarter", "2026Q1", "--from", "2026-01-01"], "--from: give either --from/--to or --quarter, not both"),
    (["--from", "2026-01-01", "--months", "9"],
     "--months: goes with --year (the first N months of the year), not --from/--to"),
    (["--year", "2026", "--months", "13"], "--months: 13 is not a number of months from 1 to 12"),
    (["--now", "soon"], "--now: 'soon' is not an ISO 8601 date-time (e.g. 2026-03-15T08:00)"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_on_one_line_before_the_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        args: list[str], message: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()

    def no_engine() -> Engine:
        raise AssertionError("the engine was built for a bad input")

    monkeypatch.setattr(report_cli, "engine", no_engine)
    code, out, err = run(capsys, *[a.replace("OUT", str(folder)) for a in args])
    assert (code, out) == (1, "")
    assert err == f"kntc: error: {message.replace('OUT', str(folder))}\n"
    assert list(folder.iterdir()) == []
    assert not (tmp_path / "kntc.db").exists()


@pytest.mark.slow
def test_a_real_process_refuses_from_after_to_without_opening_the_database(tmp_path: Path) -> None:
    out = tmp_path / "q1.xlsx"
    line = refused(kntc(tmp_path / "kntc.db", "report", "--from", "2026-04-01", "--to", "2026-03-31", "--out",
                        str(out)))
    assert line == "kntc: error: --from: 2026-04-01 is after --to 2026-03-31"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- a report written (Engine.report gives a fixed Report) ------------------------------------
@pytest.fixture
def fixed_report(monkeypatch: pytest.MonkeyPatch) -> list[tuple[date, date]]:
    """Engine.report returns a fixed Report for the days asked; the periods asked, in order."""
    asked: list[tuple[date, date]] = []

    def report(self: Engine, start: date, end: date) -> Report:
        asked.append((start, end))
        return Report(start, end, {"summary_by_kind": [{"kind": "complaint", "kind_label": "Khiếu nại",
                                                         "received": 12, "resolved": 6}], "weekly": WEEKLY},
                      generated_at=datetime(2026, 4, 1, 2, 0, tzinfo=UTC))

    monkeypatch.setattr(Engine, "report", report)
    return asked


def test_report_writes_the_file_and_says_what_is_in_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fixed_report: list[tuple[date, date]]) -> None:
    out = tmp_path / "q1.xlsx"
    code, stdout, err = run(capsys, "--quarter", "2026Q1", "--out", str(out))
    assert code == 0, err
    # received 5 + 7, resolved 2 + 4 over the two weeks
    assert stdout == f"{out}: xlsx, 2026-01-01 .. 2026-03-31, 2 tables, received 12, resolved 6\n"
    assert fixed_report == [(date(2026, 1, 1), date(2026, 3, 31))]
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Tổng hợp theo loại đơn", "Tiếp nhận và giải quyết theo"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kntc.db", "q1.xlsx"]


def test_report_without_out_prints_json_or_csv(
        capsys: pytest.CaptureFixture[str], fixed_report: list[tuple[date, date]]) -> None:
    code, stdout, err = run(capsys, "--now", "2026-05-20T10:00")
    assert code == 0, err
    value: dict[str, Any] = json.loads(stdout)
    # the default period: Q2 (from 1 April) to today, 20 May
    assert (value["from"], value["to"]) == ("2026-04-01", "2026-05-20")
    assert value["tables"]["weekly"] == WEEKLY
    code, stdout, err = run(capsys, "--from", "02/03/2026", "--to", "2026-03-15", "--format", "csv")
    assert code == 0, err
    assert stdout.splitlines()[:2] == ["table,kind,kind_label,received,resolved,week",
                                       "summary_by_kind,complaint,Khiếu nại,12,6,"]
    assert fixed_report[1] == (date(2026, 3, 2), date(2026, 3, 15))


# -- a real engine's report through a real process ---------------------------------------------
@pytest.mark.slow
def test_kntc_report_writes_what_the_engine_counted(tmp_path: Path) -> None:
    """Two letters received on Monday 12/01/2026 and one guided: the process prints and writes the engine's report.

    The cases are made with the shipped config.yaml, the one the process reads (its periods name the phases).
    """
    db = tmp_path / "kntc.db"
    clock = ManualClock(datetime(2026, 1, 12, 9, 0, tzinfo=TZ))
    built = build(shipped_settings(), database_url=f"sqlite:///{db}", clock=clock)
    try:
        for n in range(2):
            case = built.open_case("letter", received_at=clock.now(), petitioners=[{"name": f"Người {n}"}],
                                   respondent="UBND phường Xuân Hương", subject="Đơn thử nghiệm", channel="post")
        built.fire(case.id, "classify", actor="cb.inspector", role="inspector", payload={})
        built.fire(case.id, "guide", actor="cb.inspector", role="inspector", payload={})
        clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=TZ))
        expected = built.report(date(2026, 1, 1), date(2026, 3, 31)).as_dict()
    finally:
        built.close()
    printed = json.loads(ok(kntc(db, "report", "--quarter", "2026Q1")))
    for name in expected["tables"]:
        assert printed["tables"][name] == expected["tables"][name], name
    assert printed == expected
    [letters] = [row for row in printed["tables"]["summary_by_kind"] if row["kind"] == "letter"]
    assert letters["received"] == 2
    # 12/01/2026 is a Monday: both letters fall in that week
    [week] = [row for row in printed["tables"]["weekly"] if row["received"]]
    assert (week["week"], week["received"]) == ("2026-01-12", 2)
    out = tmp_path / "q1.xlsx"
    line = ok(kntc(db, "report", "--from", "01/01/2026", "--to", "2026-03-31", "--out", str(out)))
    assert line.startswith(f"{out}: xlsx, 2026-01-01 .. 2026-03-31, ")
    book = openpyxl.load_workbook(out)
    weekly = book["Tiếp nhận và giải quyết theo"]
    assert isinstance(weekly, Worksheet)
    assert (datetime(2026, 1, 12), 2) in [row[:2] for row in weekly.iter_rows(min_row=3, values_only=True)]
