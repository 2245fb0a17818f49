"""``kntc hotspots``: the open hot spots (crowded, early_crowded, ...), with their cases and reasons."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.common import JsonOpt, app, engine, local, print_value

__all__ = ["hotspots"]


@app.command("hotspots")
def hotspots(kind: Annotated[str | None, typer.Option("--type", help="Only this type (crowded, ...).")] = None,
             as_json: JsonOpt = False) -> None:
    """List the open hot spots, oldest first: type, when detected, cases, reasons."""
    for spot in engine().hot_spots():
        if kind is not None and spot.type != kind:
            continue
        reasons = "; ".join(str(r.get("rule", r)) for r in spot.reasons)
        print_value(spot, as_json, f"{spot.id} {spot.type} detected {local(spot.detected_at)} "
                                   f"cases={len(spot.case_ids)} {' '.join(spot.case_ids)} ({reasons})")
