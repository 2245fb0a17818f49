"""``kntc``: the command line (DESIGN.md §2b). A thin shell over :func:`adapters.bootstrap.build`.

One module per command group: :mod:`~adapters.cli.definitions` (validate, graph),
:mod:`~adapters.cli.cases` (case open|fire|show|history, events), :mod:`~adapters.cli.operations`
(db upgrade, audit verify, daemon, demo), :mod:`~adapters.cli.outbox` (outbox, outbox retry),
:mod:`~adapters.cli.people` (people import|list), :mod:`~adapters.cli.roster` (roster import|show|check),
:mod:`~adapters.cli.schedule` (schedule [add|publish|postpone|hold]), :mod:`~adapters.cli.report` (report),
:mod:`~adapters.cli.identity` (identity reveal), :mod:`~adapters.cli.secrets` (secrets rotate|new-key);
what they share is in :mod:`~adapters.cli.common`. A user's mistake prints one line to stderr and
exits non-zero, without a traceback. ``--config`` is accepted before or after the command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from adapters.cli import (
    cases,
    deadlines,
    definitions,
    groups,
    hotspots,
    identity,
    operations,
    outbox,
    people,
    periods,
    report,
    roster,
    schedule,
    secrets,
)
from adapters.cli.common import app, parse_now
from engine.errors import KntcError

__all__ = ["app", "hoist_config", "main", "parse_now"]

# importing them registers their commands
_COMMAND_MODULES = (cases, deadlines, definitions, groups, hotspots, identity, operations, outbox, people, periods,
                    report, roster, schedule, secrets)
app.add_typer(outbox.outbox_app, name="outbox")
app.add_typer(groups.group_app, name="group")
app.add_typer(people.people_app, name="people")
app.add_typer(roster.roster_app, name="roster")
app.add_typer(schedule.schedule_app, name="schedule")
app.add_typer(identity.identity_app, name="identity")
app.add_typer(secrets.secrets_app, name="secrets")


def hoist_config(argv: Sequence[str]) -> list[str]:
    """``argv`` with every ``--config X`` / ``-c X`` / ``--config=X`` moved before the command (the last wins)."""
    rest: list[str] = []
    chosen: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg in ("--config", "-c") and i + 1 < len(args):
            chosen = [arg, args[i + 1]]
            i += 2
            continue
        if arg.startswith("--config="):
            chosen = [arg]
        else:
            rest.append(arg)
        i += 1
    return chosen + rest


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``kntc`` console script."""
    args = hoist_config(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="kntc", standalone_mode=False)
    except KntcError as exc:
        typer.echo(f"kntc: error: {exc}", err=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        typer.echo(f"kntc: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("kntc: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
