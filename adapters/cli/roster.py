"""``kntc roster import|show|check``: who receives citizens on which day, and the days nobody covers.

``import`` reads a CSV or YAML roster (:func:`adapters.people_source.read_roster`) and replaces
the stored duties of the days from its first to its last (all or nothing). ``show`` lists the days
of a span with their officers. ``check`` lists the gaps (:func:`engine.roster.roster_gaps`: a
working day without anyone, or any day of a phase with ``roster: every_day``) and exits 1 when
there is one, so a cron job or a CI step can act on it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli.common import JsonOpt, engine, print_value, settings, zone
from engine.errors import ValidationError

__all__ = ["roster_app", "roster_check", "roster_import", "roster_show"]

roster_app = typer.Typer(no_args_is_help=True, help="The duty roster: import, show, check for gaps.")

FromOpt = Annotated[str | None, typer.Option("--from", help="First day (2026-03-15 or 15/03/2026; default: today).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, included (default: 30 days after --from).")]
_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def _span(start: str | None, end: str | None) -> tuple[date, date]:
    """The days ``--from``..``--to`` (default: today .. +30 days), or ValidationError naming the option."""
    from adapters.people_source import parse_day

    def day(option: str, value: str) -> date:
        found = parse_day(value)
        if found is None:
            raise ValidationError(option, f"{value!r} is not a date (2026-03-15 or 15/03/2026)")
        return found

    first = day("--from", start) if start is not None else datetime.now(zone()).date()
    last = day("--to", end) if end is not None else first + timedelta(days=30)
    if last < first:
        raise ValidationError("--to", f"{last.isoformat()} is before --from {first.isoformat()}")
    return first, last


@roster_app.command("import")
def roster_import(file: Annotated[Path, typer.Argument(help="CSV (day,person_id,place,note) or YAML (roster:).")],
                  as_json: JsonOpt = False) -> None:
    """Import a roster: the duties of the days from its first to its last are replaced (all or nothing)."""
    from adapters.people_source import load_directory, read_roster
    eng = engine()
    with eng.runtime.store.transaction() as tx:
        duties = read_roster(file, settings(), load_directory(settings(), tx), eng.runtime.calendar)
        first, last = duties[0].day, duties[-1].day
        tx.replace_duties(first, last, duties)
    print_value({"imported": len(duties), "from": first, "to": last}, as_json,
                f"{len(duties)} dut{'y' if len(duties) == 1 else 'ies'} imported for {first:%d/%m/%Y}.."
                f"{last:%d/%m/%Y} from {file}")


@roster_app.command("show")
def roster_show(start: FromOpt = None, end: ToOpt = None, as_json: JsonOpt = False) -> None:
    """The days of the span with the officers on duty (and where)."""
    from adapters.people_source import load_directory
    first, last = _span(start, end)
    eng = engine()
    with eng.runtime.store.reader() as tx:
        duties = tx.duties(first, last)
        directory = load_directory(settings(), tx)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for d in duties:
        person = directory.get(d.person_id)
        by_day.setdefault(d.day, []).append({"person_id": d.person_id, "name": person.name if person else None,
                                             "place": d.place, "note": d.note})
    if not by_day and not as_json:
        typer.echo(f"nobody on duty {first:%d/%m/%Y}..{last:%d/%m/%Y}")
    for day, rows in by_day.items():
        names = "; ".join(f"{r['name'] or r['person_id']} ({r['person_id']})"
                          + (f" @ {r['place']}" if r["place"] else "") for r in rows)
        print_value({"day": day, "duties": rows}, as_json, f"{_WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}  {names}")


@roster_app.command("check")
def roster_check(start: FromOpt = None, end: ToOpt = None, as_json: JsonOpt = False) -> None:
    """List the days that need cover and have none; exit 1 when there is one."""
    from engine.roster import roster_gaps
    first, last = _span(start, end)
    eng = engine()
    with eng.runtime.store.reader() as tx:
        duties = tx.duties(first, last)
    gaps = roster_gaps(duties, first, last, eng.runtime.calendar, settings().periods)
    for gap in gaps:
        print_value(gap.data(), as_json, f"{_WEEKDAYS[gap.day.weekday()]} {gap.day:%d/%m/%Y}  {gap.reason}")
    if gaps:
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"no gap {first:%d/%m/%Y}..{last:%d/%m/%Y}")
