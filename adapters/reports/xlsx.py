"""A report as an Excel workbook (openpyxl): a summary sheet, a sheet per table, a weekly chart.

- "Tổng hợp": the period (from, to), when the report was made, the tables with their row counts
  and the notes (how the figures were counted).
- One sheet per table, in :data:`~engine.reports.TABLE_TITLES` order (then any other table): the
  sheet's name is the title cut at a word to Excel's 31 characters; row 1 is the full title,
  row 2 the headings of :data:`~engine.reports.COLUMN_LABELS` (bold, frozen), then the rows.
  ISO dates (``2026-03-02``) become date cells shown ``dd/mm/yyyy``; a text is never a formula.
  Column widths follow the content.
- The ``weekly`` sheet has a bar chart of received vs resolved by week.

The file is the same bytes for the same report: the workbook's created/modified times and the zip
entries' times are ``report.generated_at`` (else the period's last day).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, time
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from engine.reports import COLUMN_LABELS, TABLE_TITLES, Report

__all__ = ["SUMMARY_SHEET", "sheet_name", "write_xlsx"]

#: The name of the first sheet.
SUMMARY_SHEET = "Tổng hợp"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_DAY_FORMAT = "dd/mm/yyyy"


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unused sheet name for ``title``: no ``[]:*?/\\``, at most 31 characters cut at a word."""
    name = _BAD_SHEET_CHARS.sub(" ", title).strip(" '") or "Bảng"
    if len(name) > 31:
        cut = name[:32].rsplit(" ", 1)[0] if " " in name[:32] else name[:31]
        name = cut[:31].rstrip()
    candidate, n = name, 2
    while candidate.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        candidate, n = name[:31 - len(suffix)].rstrip() + suffix, n + 1
    taken.add(candidate)
    return candidate


def write_xlsx(report: Report, out: BinaryIO) -> None:
    """Write ``report`` as an XLSX workbook to the binary stream ``out``."""
    stamp = _stamp(report)
    book = Workbook()
    book.properties.created = book.properties.modified = stamp
    book.properties.title = f"Báo cáo {_day(report.start)} - {_day(report.end)}"
    book.properties.creator = "kntc"
    summary = book.worksheets[0]
    summary.title = SUMMARY_SHEET
    taken = {SUMMARY_SHEET}
    tables = [(name, report.tables[name]) for name in TABLE_TITLES if name in report.tables]
    tables += [(name, rows) for name, rows in report.tables.items() if name not in TABLE_TITLES]
    _summary(summary, report, tables)
    for name, rows in tables:
        title = TABLE_TITLES.get(name, name)
        sheet = book.create_sheet(sheet_name(title, taken))
        columns = _table(sheet, title, rows)
        if name == "weekly":
            _weekly_chart(sheet, columns, len(rows))
    raw = io.BytesIO()
    ExcelWriter(book, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()  # save_workbook would stamp now()
    _restamp(raw, out, stamp)


def _stamp(report: Report) -> datetime:
    """The fixed time of the file (naive UTC, as openpyxl and zip want it)."""
    if report.generated_at is not None:
        moment = report.generated_at
        return (moment.astimezone(UTC) if moment.tzinfo else moment).replace(tzinfo=None, microsecond=0)
    return datetime.combine(report.end, time())


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _summary(sheet: Worksheet, report: Report, tables: list[tuple[str, list[dict[str, Any]]]]) -> None:
    sheet.append(["Báo cáo tiếp công dân, xử lý đơn, giải quyết khiếu nại, tố cáo"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["Từ ngày", report.start])
    sheet.append(["Đến ngày", report.end])
    for row in (2, 3):
        sheet.cell(row, 2).number_format = _DAY_FORMAT
    if report.generated_at is not None:
        sheet.append(["Lập lúc", report.generated_at.isoformat(timespec="seconds")])
    sheet.append([])
    sheet.append(["Bảng", "Số dòng"])
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    for name, rows in tables:
        sheet.append([TABLE_TITLES.get(name, name), len(rows)])
    if report.notes:
        sheet.append([])
        sheet.append(["Ghi chú"])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        for key, value in report.notes.items():
            shown = value if isinstance(value, str | int | float) else json.dumps(value, ensure_ascii=False)
            sheet.append([key, shown])
    _widths(sheet, first_row=2)


def _table(sheet: Worksheet, title: str, rows: list[dict[str, Any]]) -> list[str]:
    """Title, headings and rows on ``sheet``; the columns' keys in order."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    if not columns:
        sheet.append(["(không có số liệu)"])
        return columns
    sheet.append([COLUMN_LABELS.get(column, column) for column in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"
    for index, row in enumerate(rows, start=3):
        for col, column in enumerate(columns, start=1):
            _put(sheet, index, col, row.get(column))
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{max(2, len(rows) + 2)}"
    _widths(sheet, first_row=2)
    return columns


def _put(sheet: Worksheet, row: int, col: int, value: Any) -> None:
    """One cell: ISO days as dates, lists and objects as JSON text, a text never a formula."""
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            cell = sheet.cell(row, col, date.fromisoformat(value))
        except ValueError:
            pass
        else:
            cell.number_format = _DAY_FORMAT
            return
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    cell = sheet.cell(row, col, value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl takes "=..." for a formula otherwise


def _widths(sheet: Worksheet, *, first_row: int) -> None:
    """Each column as wide as its longest value from ``first_row`` on (dates as dd/mm/yyyy), within bounds."""
    widest: dict[int, int] = {}
    for cells in sheet.iter_rows(min_row=first_row):
        for cell in cells:
            if cell.value is None:
                continue
            text = _day(cell.value) if isinstance(cell.value, date) else str(cell.value)
            widest[cell.column] = max(widest.get(cell.column, 0), len(text))
    for column, length in widest.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(_MAX_WIDTH, max(_MIN_WIDTH, length + 2))


def _weekly_chart(sheet: Worksheet, columns: list[str], count: int) -> None:
    """A bar chart of received vs resolved by week, right of the table."""
    if count == 0 or "week" not in columns or not {"received", "resolved"} <= set(columns):
        return
    chart = BarChart()
    chart.type = "col"
    chart.title = TABLE_TITLES["weekly"]
    chart.y_axis.title = "Số đơn"
    chart.x_axis.title = COLUMN_LABELS["week"]
    chart.x_axis.number_format = _DAY_FORMAT
    chart.x_axis.delete = False  # openpyxl 3.1 hides the axes otherwise
    chart.y_axis.delete = False
    for key in ("received", "resolved"):
        col = columns.index(key) + 1
        chart.add_data(Reference(sheet, min_col=col, min_row=2, max_row=count + 2), titles_from_data=True)
    week = columns.index("week") + 1
    chart.set_categories(Reference(sheet, min_col=week, min_row=3, max_row=count + 2))
    chart.width, chart.height = 24, 12
    sheet.add_chart(chart, f"{get_column_letter(len(columns) + 2)}2")


def _restamp(raw: io.BytesIO, out: BinaryIO, stamp: datetime) -> None:
    """Copy the zip in ``raw`` to ``out`` with every entry dated ``stamp``: the same report, the same bytes."""
    when = max(stamp, datetime(1980, 1, 1)).timetuple()[:6]
    raw.seek(0)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename))
