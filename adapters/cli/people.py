"""``kntc people import|list``: the body's officers, from config.yaml and the database.

``import`` reads a CSV file (:func:`adapters.people_source.read_people_csv`: header
``id,name,unit,roles,email,phone[,channels]``) and stores its officers, an officer of a known id
replaced; a file with any bad row stores nothing. ``list`` shows the officers notifications reach:
config.yaml's, then the database's (which replace configured ones of the same id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.common import JsonOpt, engine, print_value, settings

__all__ = ["people_app", "people_import", "people_list"]

people_app = typer.Typer(no_args_is_help=True, help="Officers: import from CSV, list.")


@people_app.command("import")
def people_import(file: Annotated[Path, typer.Argument(help="CSV: id,name,unit,roles,email,phone[,channels].")],
                  as_json: JsonOpt = False) -> None:
    """Import the officers of a CSV file (all or nothing); roles and channels separated by ';'."""
    from adapters.people_source import read_people_csv
    people = read_people_csv(file, settings())
    eng = engine()
    with eng.runtime.store.transaction() as tx:
        tx.upsert_people(people, eng.runtime.clock.now())
    print_value({"imported": len(people), "ids": [p.id for p in people]}, as_json,
                f"{len(people)} officer{'' if len(people) == 1 else 's'} imported from {file}")


@people_app.command("list")
def people_list(as_json: JsonOpt = False) -> None:
    """List the officers (config.yaml's and the imported ones), by id."""
    from adapters.people_source import load_directory
    eng = engine()
    with eng.runtime.store.reader() as tx:
        directory = load_directory(settings(), tx)
    people = sorted(directory.people.values(), key=lambda p: p.id)
    if not people and not as_json:
        typer.echo("no officers (config.yaml people:, or kntc people import FILE.csv)")
    for p in people:
        value = {"id": p.id, "name": p.name, "unit": p.unit, "roles": list(p.roles), "email": p.email,
                 "channels": list(p.channels)}
        channels = f" via {','.join(p.channels)}" if p.channels else ""
        print_value(value, as_json, f"{p.id:<12} {p.name}  [{p.unit}] {','.join(p.roles)}"
                                    f"{'  ' + p.email if p.email else ''}{channels}")
