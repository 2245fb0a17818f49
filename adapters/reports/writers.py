"""Write a :class:`~engine.reports.Report` to a file: XLSX, CSV or JSON, atomically.

:func:`write_report` (import it from here: ``adapters.reports`` holds other exports too) writes
to a temporary file in the target's folder and moves it into place with ``os.replace``: a failure
(a bad path, a full disk, a bug) leaves no partial file and an existing file untouched.
A new file gets mode 0644; a file replaced keeps its mode.

The formats carry the same numbers:

- **xlsx** (:mod:`adapters.reports.xlsx`): a summary sheet "Tổng hợp", then one sheet per table with
  its Vietnamese title and headings, and a chart of the weekly received vs resolved.
- **csv**: ONE file for all the tables, UTF-8 with a BOM (Excel then reads Vietnamese right). The
  first column ``table`` names the table (``weekly``, ...); the header row has the columns' names
  as in JSON (``received``, ...), the union over all the tables in order, a column a table lacks is
  empty. ``True``/``False`` are written ``true``/``false``, ``None`` empty; a text starting with
  ``=``, ``+``, ``-``, ``@`` gets a leading ``'`` so a spreadsheet does not run it as a formula.
- **json**: ``Report.as_dict()`` (``{"from", "to", "tables"}``, DESIGN §6c), indented, UTF-8.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Literal, get_args

from engine.errors import ValidationError
from engine.reports import TABLE_TITLES, Report

__all__ = ["FORMATS", "Format", "atomic_write", "check_target", "csv_text", "json_text", "resolve_format",
           "write_report"]

Format = Literal["xlsx", "csv", "json"]
#: The formats a report is written in.
FORMATS: tuple[Format, ...] = get_args(Format)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def resolve_format(path: Path | None, fmt: str | None, *, field: str = "format") -> Format:
    """``fmt``, or the one ``path``'s suffix names; ValidationError naming ``field`` for any other."""
    chosen = fmt.lower() if fmt is not None else (path.suffix.lower().lstrip(".") if path is not None else "json")
    for known in FORMATS:
        if chosen == known:
            return known
    if fmt is None:
        shown = path.suffix if path is not None and path.suffix else "(no suffix)"
        raise ValidationError(field, f"cannot tell the format from the file name's suffix {shown}: "
                                     f"give one of {', '.join(FORMATS)}")
    raise ValidationError(field, f"{fmt!r} is not a report format (one of {', '.join(FORMATS)})")


def check_target(path: Path, *, field: str = "path") -> None:
    """ValidationError naming ``field`` unless ``path`` can be a report file: its folder exists, it is no folder."""
    if path.is_dir():
        raise ValidationError(field, f"{path} is a folder, not a file")
    if not path.parent.is_dir():
        raise ValidationError(field, f"the folder {path.parent} does not exist")


def write_report(report: Report, path: Path, fmt: Format | None = None) -> Path:
    """Write ``report`` to ``path`` (format ``fmt``, else from the suffix) atomically; the path written.

    Raises ValidationError naming ``format`` (unknown format) or ``path`` (a folder, a missing
    folder, a file that cannot be written); nothing is left behind and an existing file is untouched.
    """
    chosen = resolve_format(path, fmt)
    check_target(path)
    writer: Callable[[Report, BinaryIO], None]
    if chosen == "xlsx":
        from adapters.reports.xlsx import write_xlsx
        writer = write_xlsx
    elif chosen == "csv":
        writer = _write_csv
    else:
        writer = _write_json
    atomic_write(path, lambda out: writer(report, out))
    return path


def csv_text(report: Report) -> str:
    """The CSV form of ``report`` (without the BOM): a ``table`` column, then the tables' columns."""
    columns: list[str] = []
    for _name, rows in _ordered_tables(report):
        for row in rows:
            columns += [key for key in row if key not in columns]
    buffer = io.StringIO(newline="")
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["table", *columns])
    for name, rows in _ordered_tables(report):
        for row in rows:
            out.writerow([name, *(_csv_cell(row.get(column)) for column in columns)])
    return buffer.getvalue()


def json_text(report: Report) -> str:
    """The JSON form of ``report``: ``report.as_dict()``, indented by 2, non-ASCII kept, a final newline."""
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"


def _ordered_tables(report: Report) -> list[tuple[str, list[dict[str, Any]]]]:
    """The report's tables: those of TABLE_TITLES in its order, then any other in the report's order."""
    known = [(name, report.tables[name]) for name in TABLE_TITLES if name in report.tables]
    return known + [(name, rows) for name, rows in report.tables.items() if name not in TABLE_TITLES]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _write_csv(report: Report, out: BinaryIO) -> None:
    out.write(csv_text(report).encode("utf-8-sig"))


def _write_json(report: Report, out: BinaryIO) -> None:
    out.write(json_text(report).encode("utf-8"))


def atomic_write(path: Path, write: Callable[[BinaryIO], None], *, field: str = "path") -> None:
    """Run ``write`` on a temporary file next to ``path``, then move it to ``path``; on failure remove it."""
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ValidationError(field, f"cannot write in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise ValidationError(field, f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)
