"""``kntc secrets rotate|new-key``: the key that seals the parties at rest (:mod:`adapters.secrets`).

``new-key`` prints a new Fernet key. To rotate: put the new key first in ``KNTC_SECRET_KEY``
(comma-separated, the old one after it; or first in the SQLite key file), run ``kntc secrets
rotate`` (every stored party re-sealed with the first key, a page per transaction, progress on
stderr; run again after an interruption: what is done is skipped), then drop the old key.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.common import JsonOpt, print_value, settings

__all__ = ["secrets_app", "secrets_new_key", "secrets_rotate"]

secrets_app = typer.Typer(no_args_is_help=True, help="The key sealing identities at rest: rotate, new-key.")


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Print a new Fernet key (for KNTC_SECRET_KEY; the first key encrypts)."""
    from adapters.secrets import generate_key
    typer.echo(generate_key())


@secrets_app.command("rotate")
def secrets_rotate(page: Annotated[int, typer.Option("--page", min=1, max=100_000,
                                                     help="Parties per transaction.")] = 500,
                   as_json: JsonOpt = False) -> None:
    """Re-seal every stored party with the first key (plain ones from before 0010 sealed too)."""
    from adapters.bootstrap import build_store
    from adapters.cli.common import configure_logging
    from adapters.secrets import rotate_parties
    configured = settings()
    configure_logging(configured)
    store = build_store(configured, auto_migrate=configured.auto_migrate)
    try:
        seen, rewritten = rotate_parties(
            store, page=page, progress=lambda s, r: typer.echo(f"{s} parties seen, {r} re-sealed", err=True))
    finally:
        store.close()
    print_value({"parties": seen, "resealed": rewritten}, as_json,
                f"{rewritten} of {seen} parties re-sealed with the first key")
