"""``kntc schedule [add|publish|postpone|hold]``: the head's reception days (DESIGN §6b; engine/reception_days.py).

``kntc schedule`` lists the reception days of a span (``--from`` today, ``--to`` 90 days later by
default), or with ``--format ics|json`` exports the **published** ones with the roster's officers
on duty for the department's website (:mod:`adapters.reports.ical`), to stdout or ``--out FILE``.
``add`` schedules a day (a working day, not past, at least 5 working days ahead, hosted by a head),
``publish`` posts it (refused when fewer than 5 working days remain: LTCD 2013 Điều 24 k4),
``postpone`` moves it to a new day (posted again), ``hold`` records it held. Each acts as
``--actor`` in ``--role`` like ``kntc case fire``; a mistake is one line, exit 1, nothing changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from adapters.cli.common import JsonOpt, engine, print_value, settings, zone
from engine.errors import ValidationError

if TYPE_CHECKING:
    from engine.model import Case
    from engine.people import Directory
    from engine.reception_days import ReceptionDay
    from engine.roster import Duty
    from engine.service import Engine

__all__ = ["schedule_add", "schedule_app", "schedule_hold", "schedule_list", "schedule_postpone",
           "schedule_publish"]

schedule_app = typer.Typer(help="The head's reception days: list, export (ICS, JSON), add, publish, postpone.")

ActorOpt = Annotated[str, typer.Option(help="Who acts (officer id).")]
RoleOpt = Annotated[str, typer.Option(help="The role acted in.")]
_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
_FORMATS = ("ics", "json")


def _day(option: str, value: str) -> date:
    from adapters.people_source import parse_day
    found = parse_day(value)
    if found is None:
        raise ValidationError(option, f"{value!r} is not a date (2026-03-15 or 15/03/2026)")
    return found


def _line(d: ReceptionDay, names: dict[str, str]) -> str:
    host = f"{names.get(d.host or '', d.host)} ({d.host})" if d.host else "-"
    due = f"  post by {d.posting_due:%d/%m/%Y}" if d.posting_due else ""
    place = f" @ {d.place}" if d.place else ""
    return f"{d.id}  {_WEEKDAYS[d.day.weekday()]} {d.day:%d/%m/%Y}  {d.kind}  {d.state}  {host}{place}{due}"


def _case_line(case: Case) -> str:
    day = date.fromisoformat(str(case.fields["reception_date"]))
    posting = case.deadlines.get("schedule_posting")
    due = f", post by {posting.due_date:%d/%m/%Y}" if posting and posting.due_date and case.state == "planned" else ""
    return f"{case.id} {case.state} {day:%d/%m/%Y} v{case.version}{due}"


@schedule_app.callback(invoke_without_command=True)
def schedule_list(
    ctx: typer.Context,
    fmt: Annotated[str | None, typer.Option("--format", help="Export the published days: ics | json.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (default: today).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included (default: 90 days after --from).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the export to this file (default: stdout).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the reception days of a span, or export the published ones (``--format ics|json``)."""
    if ctx.invoked_subcommand is not None:
        return
    from adapters.people_source import load_directory
    from engine.reception_days import read_days
    if fmt is not None and fmt not in _FORMATS:
        raise ValidationError("--format", f"{fmt!r} is not one of {', '.join(_FORMATS)}")
    if out is not None and fmt is None:
        raise ValidationError("--out", "needs --format ics or json")
    eng = engine()
    rt = eng.runtime
    first = _day("--from", start) if start is not None else rt.calendar.local_date(rt.clock.now())
    last = _day("--to", end) if end is not None else first + timedelta(days=90)
    if last < first:
        raise ValidationError("--to", f"{last.isoformat()} is before --from {first.isoformat()}")
    with rt.store.reader() as tx:
        days = read_days(tx, rt.calendar, first, last)
        duties = tx.duties(first, last) if fmt is not None else []
        directory = load_directory(settings(), tx)
    if fmt is not None:
        _export(fmt, days, duties, directory, out, eng)
        return
    names = {p.id: p.name for p in directory.people.values()}
    if not days and not as_json:
        typer.echo(f"no reception day {first:%d/%m/%Y}..{last:%d/%m/%Y}")
    for d in days:
        print_value({**{k: getattr(d, k) for k in ("id", "day", "host", "kind", "place", "state", "posting_due")},
                     "published": d.published}, as_json, _line(d, names))


def _export(fmt: str, days: list[ReceptionDay], roster: list[Duty], directory: Directory, out: Path | None,
            eng: Engine) -> None:
    from adapters.reports.ical import schedule_ics, schedule_json
    if fmt == "ics":
        data = schedule_ics(days, roster, directory, zone(), stamp=eng.clock.now())
    else:
        data = (schedule_json(days, roster, directory, zone()) + "\n").encode("utf-8")
    if out is None:
        typer.echo(data, nl=False)
        return
    from adapters.reports.writers import atomic_write

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    atomic_write(out, write, field="--out")  # the file whole or not at all
    published = sum(1 for d in days if d.published)
    typer.echo(f"{published} published reception day(s) and {len(roster)} dut{'y' if len(roster) == 1 else 'ies'} "
               f"written to {out}", err=True)


@schedule_app.command("add")
def schedule_add(
    day: Annotated[str, typer.Argument(help="The reception day (2026-10-12 or 12/10/2026).")],
    host: Annotated[str, typer.Option(help="The officer who hosts it (head_of_unit or director).")],
    actor: ActorOpt, role: RoleOpt,
    kind: Annotated[str, typer.Option(help="periodic | adhoc (LTCD Điều 18 k3).")] = "periodic",
    place: Annotated[str | None, typer.Option(help="Where citizens are received.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule a reception day (state planned: publish it at least 5 working days before)."""
    from adapters.people_source import load_directory
    from engine.reception_days import schedule_reception
    when = _day("day", day)
    eng = engine()
    with eng.runtime.store.reader() as tx:
        directory = load_directory(settings(), tx)
    case = schedule_reception(eng, when, host, kind, place, directory=directory, actor=actor, role=role)
    print_value(case, as_json, _case_line(case))


@schedule_app.command("publish")
def schedule_publish(case_id: Annotated[str, typer.Argument(help="The reception day's id.")], actor: ActorOpt,
                     role: RoleOpt, as_json: JsonOpt = False) -> None:
    """Post the day's schedule; refused when fewer than 5 working days remain (postpone it then)."""
    from engine.reception_days import publish
    case = publish(engine(), case_id, actor=actor, role=role)
    print_value(case, as_json, _case_line(case))


@schedule_app.command("postpone")
def schedule_postpone(
    case_id: Annotated[str, typer.Argument(help="The reception day's id.")],
    to: Annotated[str, typer.Option("--to", help="The new day (checked like a new one).")],
    reason: Annotated[str, typer.Option(help="Why it is postponed.")],
    actor: ActorOpt, role: RoleOpt, as_json: JsonOpt = False,
) -> None:
    """Move the day to a new one, for a reason; the new day is published again."""
    from engine.reception_days import postpone
    case = postpone(engine(), case_id, _day("--to", to), reason, actor=actor, role=role)
    print_value(case, as_json, _case_line(case))


@schedule_app.command("hold")
def schedule_hold(case_id: Annotated[str, typer.Argument(help="The reception day's id.")], actor: ActorOpt,
                  role: RoleOpt, as_json: JsonOpt = False) -> None:
    """Record that the (published) day was held."""
    from engine.reception_days import hold
    case = hold(engine(), case_id, actor=actor, role=role)
    print_value(case, as_json, _case_line(case))
