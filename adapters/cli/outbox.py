"""``kntc outbox``: what waits to be delivered, what was, what died; and the timers that keep failing."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.common import JsonOpt, engine, local, print_value

__all__ = ["outbox_list", "outbox_retry"]

outbox_app = typer.Typer(invoke_without_command=True, help="Outbox messages and failing timers.")


@outbox_app.callback()
def outbox_list(ctx: typer.Context,
                status: Annotated[str | None, typer.Option(help="pending | sent | dead")] = None,
                limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
                as_json: JsonOpt = False) -> None:
    """List outbox messages (oldest first), then the rungs and jobs whose runs raised."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.maintenance import failures
    from engine.outbox import list_messages
    eng = engine()
    for m in list_messages(eng.runtime, status, limit):
        when = local(m.sent_at) if m.sent_at else (f"next {local(m.next_attempt_at)}" if m.next_attempt_at else "")
        error = f" last error: {m.last_error}" if m.last_error else ""
        print_value(m, as_json, f"{m.id:>6} {m.status:<7} {m.channel} {m.kind} {m.case_id or '-'} "
                                f"attempts={m.attempts} {when}{error}")
    if status in (None, "dead"):
        for f in failures(eng.runtime, limit):
            if status == "dead" and not f.dead:
                continue
            print_value(f, as_json, f"{f.what} {f.subject} {'dead' if f.dead else 'failing'} "
                                    f"attempts={f.attempts} last error: {f.last_error}")


@outbox_app.command("retry")
def outbox_retry(message_id: int, as_json: JsonOpt = False) -> None:
    """Put a dead (or pending) message back in line, due now."""
    from engine.outbox import requeue
    message = requeue(engine().runtime, message_id)
    print_value({"id": message.id, "status": "pending"}, as_json,
                f"message {message.id} ({message.channel} {message.kind}) queued again")
