"""``kntc report``: the report of a period to the inspectorate, as XLSX, CSV or JSON (DESIGN §6c).

The period is ``--from``/``--to`` (YYYY-MM-DD or dd/mm/yyyy, both days included), or one of
``--quarter 2026Q1``, ``--half 2026H1``, ``--year 2026`` (with ``--months 9``: the first nine
months), or by default the current quarter up to today (local). Every input is checked before the
engine is built: a bad date, ``--from`` after ``--to``, an unknown format or a folder for ``--out``
print one line naming the option and change nothing. Without ``--out`` the report goes to stdout
(JSON, or CSV); with it the file is written atomically (adapters/reports/) and its path and a
one-line summary are printed. Importing this module registers the command.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.common import app, engine, parse_now, settings, zone
from engine.errors import ValidationError

if TYPE_CHECKING:
    from engine.reports import Report

__all__ = ["parse_day", "period_of", "report"]

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_HALF = re.compile(r"^(\d{4})-?H([12])$", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_day(value: str, option: str) -> date:
    """A day written YYYY-MM-DD or dd/mm/yyyy; ValidationError naming ``option`` otherwise."""
    text = value.strip()
    found = _DMY.match(text)
    try:
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        if len(text) == 10:  # not the basic form 20260301 that fromisoformat also takes
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValidationError(option, f"{value!r} is not a day (YYYY-MM-DD or dd/mm/yyyy)")


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_end(year: int, months: int, first: int = 1) -> date:
    """The last day of the ``months`` months of ``year`` from month ``first``."""
    after = first + months
    return (date(year + 1, 1, 1) if after > 12 else date(year, after, 1)) - timedelta(days=1)


def period_of(today: date, *, start: str | None = None, end: str | None = None, quarter: str | None = None,
              half: str | None = None, year: int | None = None, months: int | None = None) -> tuple[date, date]:
    """The days ``start`` .. ``end`` the options name (see the module); ValidationError naming the option."""
    chosen = [name for name, value in (("--quarter", quarter), ("--half", half), ("--year", year)) if value]
    if len(chosen) > 1:
        raise ValidationError(chosen[1], f"give one of --quarter, --half, --year, not {' and '.join(chosen)}")
    if months is not None and (months < 1 or months > 12):
        raise ValidationError("--months", f"{months} is not a number of months from 1 to 12")
    if months is not None and (quarter or half):
        raise ValidationError("--months", "goes with --year (the first N months of the year), not " + chosen[0])
    if months is not None and (start or end):
        raise ValidationError("--months", "goes with --year (the first N months of the year), not --from/--to")
    if chosen and (start or end):
        raise ValidationError("--from" if start else "--to", f"give either --from/--to or {chosen[0]}, not both")
    if quarter:
        found = _QUARTER.match(quarter.strip())
        if not found:
            raise ValidationError("--quarter", f"{quarter!r} is not a quarter (e.g. 2026Q1)")
        month = 3 * int(found[2]) - 2
        return date(int(found[1]), month, 1), _months_end(int(found[1]), 3, month)
    if half:
        found = _HALF.match(half.strip())
        if not found:
            raise ValidationError("--half", f"{half!r} is not a half year (e.g. 2026H1)")
        month = 6 * int(found[2]) - 5
        return date(int(found[1]), month, 1), _months_end(int(found[1]), 6, month)
    if year is not None or months is not None:
        chosen_year = today.year if year is None else year
        if not 1900 <= chosen_year <= 9999:
            raise ValidationError("--year", f"{chosen_year} is not a year")
        return date(chosen_year, 1, 1), _months_end(chosen_year, 12 if months is None else months)
    last = parse_day(end, "--to") if end else today
    first = parse_day(start, "--from") if start else _quarter_start(last)
    if first > last:
        raise ValidationError("--from", f"{first.isoformat()} is after --to {last.isoformat()}")
    return first, last


@app.command("report")
def report(
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD or dd/mm/yyyy).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included (default: today).")] = None,
    quarter: Annotated[str | None, typer.Option(help="A quarter, e.g. 2026Q1.")] = None,
    half: Annotated[str | None, typer.Option(help="A half year, e.g. 2026H1.")] = None,
    year: Annotated[int | None, typer.Option(help="A year (with --months: its first N months).")] = None,
    months: Annotated[int | None, typer.Option(help="With --year: the first N months (3, 6, 9, 12).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="xlsx | csv | json (default: from --out, else json).")]
        = None,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
    now: Annotated[str | None, typer.Option(help="ISO date-time taken as now (default: now).")] = None,
) -> None:
    """Compute the report of a period and write it (XLSX with a chart, CSV or JSON)."""
    from adapters.reports.writers import check_target, csv_text, json_text, resolve_format, write_report
    if out is not None:
        check_target(out, field="--out")
    chosen = resolve_format(out, fmt, field="--format")
    if out is None and chosen == "xlsx":
        raise ValidationError("--out", "an xlsx report is a file: give --out FILE.xlsx")
    moment = parse_now(now, settings().timezone) or datetime.now(zone())
    first, last = period_of(moment.astimezone(zone()).date(), start=start, end=end, quarter=quarter, half=half,
                            year=year, months=months)
    built = engine()
    try:
        made = built.report(first, last)
    finally:
        built.close()
    if out is None:
        typer.echo(csv_text(made) if chosen == "csv" else json_text(made), nl=False)
        return
    try:
        written = write_report(made, out, chosen)
    except ValidationError as exc:
        if exc.field != "path":
            raise
        raise ValidationError("--out", str(exc).removeprefix("path: ")) from None
    typer.echo(f"{written}: {chosen}, {_summary(made)}")


def _summary(made: Report) -> str:
    """``2026-01-01 .. 2026-03-31, 8 tables, received 16, resolved 11`` (the totals of the weekly table)."""
    text = f"{made.start.isoformat()} .. {made.end.isoformat()}, {len(made.tables)} tables"
    weekly = made.tables.get("weekly", [])
    if weekly:
        received = sum(int(row.get("received") or 0) for row in weekly)
        resolved = sum(int(row.get("resolved") or 0) for row in weekly)
        text += f", received {received}, resolved {resolved}"
    return text
