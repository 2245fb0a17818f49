"""Report writers: the XLSX a clerk opens (sheets, Vietnamese headings, the weekly chart), the CSV and
JSON with the same numbers, and a failed write that leaves nothing behind (adapters/reports/)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

import adapters.reports.xlsx as xlsx_module
from adapters.reports.writers import csv_text, resolve_format, write_report
from adapters.reports.xlsx import SUMMARY_SHEET, sheet_name
from engine.errors import ValidationError
from engine.reports import TABLE_TITLES, Report

TABLES: dict[str, list[dict[str, Any]]] = {
    "summary_by_kind": [
        {"kind": "complaint", "kind_label": "Khiếu nại", "carried_over": 3, "received": 12, "total": 15,
         "resolved": 9, "resolved_on_time": 8, "resolved_late": 1, "overdue_now": 2},
        {"kind": "denunciation", "kind_label": "Tố cáo", "carried_over": 1, "received": 4, "total": 5,
         "resolved": 2, "resolved_on_time": 2, "resolved_late": 0, "overdue_now": 0},
    ],
    "received_by_channel": [{"channel": "portal", "received": 10}, {"channel": "reception", "received": 6}],
    "handling": [{"kind": "complaint", "accepted": 7, "transferred": 3, "guided": 1, "filed": 1}],
    # a reason a citizen typed can start like a formula: it must stay text
    "extensions": [{"case_id": "KN-2026-0007", "deadline": "2026-03-20", "reason": "=HYPERLINK(\"x\")",
                    "on": "2026-03-05"}],
    "reception": [{"visits": 20, "persons": 31, "crowded_delegations": 1, "head_days_held": 3}],
    "hot_spots_by_type": [{"type": "crowded", "count": 1}],
    "by_phase": [{"phase": "before", "received": 5, "hot_spots": 0, "escalations": 1}],
    # weeks start on Monday: 2026-03-02, 03-09 and 03-16 are Mondays
    "weekly": [{"week": "2026-03-02", "received": 5, "resolved": 2},
               {"week": "2026-03-09", "received": 7, "resolved": 4},
               {"week": "2026-03-16", "received": 4, "resolved": 5}],
}


def report(tables: dict[str, list[dict[str, Any]]] | None = None) -> Report:
    """The first quarter of 2026, made on 1 April at 09:00 local (02:00 UTC)."""
    return Report(start=date(2026, 1, 1), end=date(2026, 3, 31), tables=TABLES if tables is None else tables,
                  generated_at=datetime(2026, 4, 1, 2, 0, tzinfo=UTC), notes={"phases": ["before", "during"]})


def ws(book: Workbook, name: str) -> Worksheet:
    sheet = book[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def charts(sheet: Worksheet) -> list[Any]:
    """The charts openpyxl read back from the sheet (a private attribute the stubs do not declare)."""
    found: list[Any] = getattr(sheet, "_charts")  # noqa: B009
    return found


def table_rows(sheet: Worksheet) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(min_row=3, values_only=True))


def test_xlsx_has_the_summary_then_a_sheet_per_table_with_vietnamese_headings(tmp_path: Path) -> None:
    path = write_report(report(), tmp_path / "q1.xlsx")
    book = openpyxl.load_workbook(path)
    # the two long titles (35 and 33 characters) are cut at a word to Excel's 31
    assert book.sheetnames == [SUMMARY_SHEET, "Tổng hợp theo loại đơn", "Tiếp nhận theo nguồn đơn", "Kết quả xử lý đơn",
                               "Gia hạn giải quyết", "Tiếp công dân", "Điểm nóng theo loại",
                               "Theo giai đoạn của thời kỳ nhạy", "Tiếp nhận và giải quyết theo"]
    kinds = ws(book, "Tổng hợp theo loại đơn")
    assert kinds["A1"].value == "Tổng hợp theo loại đơn"
    assert [c.value for c in kinds[2]] == ["Loại", "Loại đơn", "Kỳ trước chuyển sang", "Tiếp nhận mới", "Tổng số",
                                          "Đã giải quyết", "Giải quyết đúng hạn", "Giải quyết quá hạn", "Đang quá hạn"]
    assert all(c.font.bold for c in kinds[2])
    assert kinds.freeze_panes == "A3"
    assert table_rows(kinds) == [("complaint", "Khiếu nại", 3, 12, 15, 9, 8, 1, 2),
                                 ("denunciation", "Tố cáo", 1, 4, 5, 2, 2, 0, 0)]
    # every column got a width from its content: the long heading "Kỳ trước chuyển sang" (20) is wider than "Loại"
    widths = {key: dim.width for key, dim in kinds.column_dimensions.items()}
    assert set("ABCDEFGHI") <= set(widths)
    assert widths["C"] > widths["A"] >= 8
    summary = ws(book, SUMMARY_SHEET)
    cells = [row for row in summary.iter_rows(values_only=True) if row[0] is not None]
    assert ("Từ ngày", datetime(2026, 1, 1)) in cells and ("Đến ngày", datetime(2026, 3, 31)) in cells
    assert ("Tiếp nhận và giải quyết theo tuần", 3) in cells


def test_xlsx_weekly_sheet_has_a_chart_of_received_vs_resolved(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_report(report(), tmp_path / "q1.xlsx"))
    weekly = ws(book, "Tiếp nhận và giải quyết theo")
    assert [c.value for c in weekly[2]] == ["Tuần (từ thứ Hai)", "Tiếp nhận mới", "Đã giải quyết"]
    assert table_rows(weekly) == [(datetime(2026, 3, 2), 5, 2), (datetime(2026, 3, 9), 7, 4),
                                  (datetime(2026, 3, 16), 4, 5)]
    assert weekly["A3"].number_format == "dd/mm/yyyy"
    [chart] = charts(weekly)
    assert chart.tagname == "barChart"
    refs = [series.val.numRef.f for series in chart.series]
    assert refs == ["'Tiếp nhận và giải quyết theo'!$B$3:$B$5", "'Tiếp nhận và giải quyết theo'!$C$3:$C$5"]
    assert all(not charts(ws(book, name)) for name in book.sheetnames if name != weekly.title)


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_report(report(), tmp_path / "q1.xlsx"))
    [(case_id, deadline, reason, on)] = table_rows(ws(book, "Gia hạn giải quyết"))
    assert (case_id, deadline, on) == ("KN-2026-0007", datetime(2026, 3, 20), datetime(2026, 3, 5))
    assert reason == "=HYPERLINK(\"x\")"
    assert ws(book, "Gia hạn giải quyết")["C3"].data_type == "s"


def test_the_same_report_gives_the_same_xlsx_bytes(tmp_path: Path) -> None:
    first = write_report(report(), tmp_path / "a.xlsx").read_bytes()
    second = write_report(report(), tmp_path / "b.xlsx").read_bytes()
    assert first == second
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.created == props.modified == datetime(2026, 4, 1, 2, 0)


def test_a_table_without_rows_and_an_unknown_table_still_get_a_sheet(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_report(report({"weekly": [], "custom": [{"x": 1}]}), tmp_path / "r.xlsx"))
    assert book.sheetnames == [SUMMARY_SHEET, "Tiếp nhận và giải quyết theo", "custom"]
    assert ws(book, "Tiếp nhận và giải quyết theo")["A2"].value == "(không có số liệu)"
    assert not charts(ws(book, "Tiếp nhận và giải quyết theo"))
    assert [c.value for c in ws(book, "custom")[2]] == ["x"]  # a column without a label keeps its name


def test_sheet_names_are_valid_and_unique() -> None:
    taken = {SUMMARY_SHEET}
    assert sheet_name("Tổng hợp", taken) == "Tổng hợp (2)"  # clashes with the summary sheet
    assert sheet_name("a/b:c*d?[e]", taken) == "a b c d  e"
    long = sheet_name("x" * 40, taken)
    assert long == "x" * 31
    assert sheet_name("x" * 40, taken) == "x" * 27 + " (2)"
    assert all(len(name) <= 31 for name in taken)


def test_csv_has_a_table_column_and_the_same_numbers_with_a_bom(tmp_path: Path) -> None:
    path = write_report(report(), tmp_path / "q1.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Vietnamese right only with the BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["table"] for r in rows] == [name for name in TABLE_TITLES for _ in TABLES[name]]
    for name, expected in TABLES.items():
        got = [r for r in rows if r["table"] == name]
        for row, want in zip(got, expected, strict=True):
            shown = {k: (v if not (isinstance(v, str) and v.startswith("=")) else "'" + v) for k, v in want.items()}
            assert {k: row[k] for k in want} == {k: str(v) for k, v in shown.items()}
            assert all(row[k] == "" for k in row if k not in want and k != "table")
    assert rows[0]["kind_label"] == "Khiếu nại"


def test_csv_writes_booleans_and_nothing_like_json() -> None:
    text = csv_text(report({"custom": [{"flag": True, "note": None, "n": 2.5}]}))
    assert text == "table,flag,note,n\r\ncustom,true,,2.5\r\n"


def test_json_is_the_reports_dict(tmp_path: Path) -> None:
    path = write_report(report(), tmp_path / "q1.json")
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == report().as_dict()
    assert '"Khiếu nại"' in text  # not \u-escaped
    assert list(json.loads(text)) == ["from", "to", "tables"]


def test_the_format_comes_from_the_suffix_or_the_argument(tmp_path: Path) -> None:
    assert resolve_format(tmp_path / "r.XLSX", None) == "xlsx"
    assert resolve_format(tmp_path / "r.txt", "csv") == "csv"
    written = write_report(report(), tmp_path / "r.data", "json")
    assert json.loads(written.read_text(encoding="utf-8"))["from"] == "2026-01-01"
    with pytest.raises(ValidationError, match=r"^format: cannot tell the format .* suffix \.txt") as bad:
        write_report(report(), tmp_path / "r.txt")
    assert bad.value.field == "format"
    with pytest.raises(ValidationError, match=r"^format: 'pdf' is not a report format"):
        write_report(report(), tmp_path / "r.pdf", "pdf")  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.data"]


def test_a_folder_or_a_missing_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(ValidationError, match=r"^path: .*out\.csv is a folder, not a file$"):
        write_report(report(), tmp_path / "out.csv")
    with pytest.raises(ValidationError, match=r"^path: the folder .*missing does not exist$"):
        write_report(report(), tmp_path / "missing" / "r.json")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert list((tmp_path / "out.csv").iterdir()) == []


@pytest.mark.parametrize("name", ["r.xlsx", "r.csv", "r.json"])
def test_a_disk_that_fills_up_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / name
    target.write_bytes(b"last quarter's report")

    def full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ValidationError, match=r"^path: cannot write .*: No space left on device$"):
        write_report(report(), target)
    assert target.read_bytes() == b"last quarter's report"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_writer_that_breaks_half_way_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half(_raw: io.BytesIO, out: Any, _stamp: datetime) -> None:
        out.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("broken half way")

    monkeypatch.setattr(xlsx_module, "_restamp", half)
    with pytest.raises(RuntimeError, match="broken half way"):
        write_report(report(), tmp_path / "r.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_is_readable_and_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    new = write_report(report(), tmp_path / "new.json")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    kept = tmp_path / "kept.csv"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o600)
    write_report(report(), kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_bytes().startswith(b"\xef\xbb\xbftable,")
