"""``kntc identity reveal CASE --reason TEXT --actor A --role R``: a case's parties, for the roles allowed.

The one command that prints a petitioner's name, id number, address or contact: for a workflow
with ``confidential_parties`` and a role in its ``reveal_roles`` (:meth:`Engine.reveal_identity`).
Either way the request is recorded in the case's history and the feed (``identity.revealed``,
``identity.reveal_refused``: who, when, why; never the identity); a refused one prints one
``kntc: error:`` line and exits 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from adapters.cli.common import JsonOpt, engine, print_value

__all__ = ["identity_app", "identity_reveal"]

identity_app = typer.Typer(no_args_is_help=True, help="Confidential identities: reveal (recorded).")

_FIELDS = ("name", "id_number", "address", "phone", "email")


def _text(index: int, party: dict[str, Any]) -> str:
    return f"{index}. " + "  ".join(f"{k}={party[k]}" for k in (*_FIELDS, *sorted(set(party) - set(_FIELDS)))
                                     if party.get(k) is not None)


@identity_app.command("reveal")
def identity_reveal(case_id: Annotated[str, typer.Argument(help="The case id.")],
                    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")],
                    actor: Annotated[str, typer.Option("--actor", help="Who asks (an officer's id).")],
                    role: Annotated[str, typer.Option("--role", help="In which role.")],
                    as_json: JsonOpt = False) -> None:
    """Print a case's parties (for a role the workflow's reveal_roles names); recorded either way."""
    parties = engine().reveal_identity(case_id, actor, role, reason)
    if not parties and not as_json:
        typer.echo("no parties")
    for i, party in enumerate(parties, 1):
        print_value(party, as_json, _text(i, party))
