"""``kntc case open|fire|show|history`` and ``kntc events``: cases and the feed, times in local time."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.common import (
    JsonOpt,
    app,
    case_app,
    engine,
    json_option,
    jsonable,
    local,
    local_data,
    parse_now,
    print_value,
    settings,
)
from engine.errors import ValidationError

if TYPE_CHECKING:
    from engine.model import Case

__all__ = ["case_fire", "case_history", "case_open", "case_show", "events"]


def _deadline_lines(case: Case) -> list[str]:
    lines = []
    for d in case.deadlines.values():
        due = f"{d.due_date:%d/%m/%Y}" if d.due_date else "paused"
        lines.append(f"  {d.name}: {d.status}, due {due} ({d.amount} {d.unit}; {d.legal_basis})")
    return lines


def _forwarded_from(body: str | None, level: str | None) -> dict[str, str] | None:
    """``--forwarded-from-body`` and ``--forwarded-from-level`` go together (the engine checks the values)."""
    if body is None and level is None:
        return None
    if body is None or level is None:
        given, missing = ("body", "level") if level is None else ("level", "body")
        raise ValidationError(f"--forwarded-from-{missing}", f"is needed with --forwarded-from-{given}")
    return {"body": body, "level": level}


@case_app.command("open")
def case_open(
    workflow: str,
    subject: Annotated[str, typer.Option(help="What the letter is about.")],
    petitioner: Annotated[list[str] | None, typer.Option(help="A petitioner's name (repeatable).")] = None,
    respondent: Annotated[str, typer.Option(help="Whom the letter is about.")] = "",
    content: Annotated[str, typer.Option(help="The letter's content.")] = "",
    channel: Annotated[str, typer.Option(help="post | reception | portal | forwarded")] = "post",
    received_at: Annotated[str | None, typer.Option(help="ISO date-time of receipt (default: now).")] = None,
    fields: Annotated[str | None, typer.Option(help="Workflow fields as a JSON object.")] = None,
    forwarded_from_body: Annotated[str | None, typer.Option(
        help="With --channel forwarded: the body that forwarded the letter.")] = None,
    forwarded_from_level: Annotated[str | None, typer.Option(
        help="That body's level: commune | department | province | central.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a case; print it with the deadlines it set."""
    eng = engine()
    received = parse_now(received_at, settings().timezone, option="--received-at") or eng.clock.now()
    case = eng.open_case(workflow, received_at=received, petitioners=[{"name": n} for n in petitioner or []],
                         respondent=respondent, subject=subject, content=content, channel=channel,
                         fields=json_option("--fields", fields),
                         forwarded_from=_forwarded_from(forwarded_from_body, forwarded_from_level))
    print_value(case, as_json, "\n".join([f"{case.id} {case.kind} {case.state} v{case.version}",
                                          *_deadline_lines(case)]))


@case_app.command("fire")
def case_fire(
    case_id: str, event: str,
    actor: Annotated[str, typer.Option(help="Who acts (officer id).")],
    role: Annotated[str, typer.Option(help="The role acted in.")],
    payload: Annotated[str | None, typer.Option(help="Event payload as a JSON object.")] = None,
    expected_version: Annotated[int | None, typer.Option(help="Refuse if the case moved on.")] = None,
    occurred_at: Annotated[str | None, typer.Option(
        help="When the act happened, if entered late: ISO date-time (no offset: local time).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fire an event on a case (``--occurred-at``: back-entry of an act dated earlier)."""
    occurred = parse_now(occurred_at, settings().timezone, option="--occurred-at")
    case = engine().fire(case_id, event, actor=actor, role=role, payload=json_option("--payload", payload),
                         expected_version=expected_version, occurred_at=occurred)
    print_value(case, as_json, f"{case.id} {case.kind} {case.state} v{case.version}")


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """Show a case and its deadlines."""
    eng = engine()
    case = eng.get(case_id)
    lines = [f"{case.id} {case.kind} state={case.state} v{case.version} received={local(case.received_at)}",
             f"allowed: {', '.join(eng.allowed_events(case_id)) or '-'}", *_deadline_lines(case)]
    if case.forwarded_from:
        lines.insert(1, f"forwarded from: {case.forwarded_from['body']} ({case.forwarded_from['level']})")
    print_value(case, as_json, "\n".join(lines))


def _payload_text(payload: Any) -> str:
    return f" {json.dumps(jsonable(payload), ensure_ascii=False)}" if payload else ""


@case_app.command("history")
def case_history(case_id: str, as_json: JsonOpt = False) -> None:
    """Show a case's history, with each event's payload (the reasons given)."""
    for h in engine().history(case_id):
        dated = f" (occurred {local(h.occurred_at)})" if h.occurred_at is not None else ""
        print_value(h, as_json, f"{h.seq:>3} {local(h.at)}{dated} {h.event}: {h.source or '(new)'} -> {h.target} "
                                f"by {h.actor} ({h.role}){_payload_text(h.payload)}")


@app.command()
def events(after: Annotated[int, typer.Option(help="Print events after this seq.")] = 0,
           limit: Annotated[int, typer.Option(help="At most this many (1..10000).")] = 100,
           as_json: JsonOpt = False) -> None:
    """Print the event feed (times local; stderr says when more remain)."""
    eng = engine()
    rows = eng.events(after=after, limit=limit)
    for e in rows:
        data = local_data(e.data)
        if as_json:
            typer.echo(json.dumps({**jsonable(e), "data": jsonable(data)}, ensure_ascii=False))
        else:
            typer.echo(f"{e.seq:>6} {local(e.at)} {e.type} {e.case_id or '-'} {json.dumps(data, ensure_ascii=False)}")
    if rows and len(rows) == limit and eng.events(after=rows[-1].seq, limit=1):
        last = rows[-1].seq
        typer.echo(f"… more after seq {last}: kntc events --after {last}", err=True)
