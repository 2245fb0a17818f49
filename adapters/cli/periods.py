"""``kntc periods``: the sensitive periods of config.yaml, their phases, and what is in force.

Reads the configuration only (no database): each period, its phases with their days, the phase
in force now (or at ``--now``) marked ``*``, and what each phase switches on. Importing this
module registers the command on :data:`adapters.cli.common.app`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from adapters.cli.common import JsonOpt, app, parse_now, print_value, settings, zone

__all__ = ["periods_list"]


@app.command("periods")
def periods_list(now: Annotated[str | None, typer.Option(help="ISO date-time to look at (default: now).")] = None,
                 as_json: JsonOpt = False) -> None:
    """List the sensitive periods, their phases, the one in force and what each switches on."""
    configured = settings()
    moment = parse_now(now, configured.timezone) or datetime.now(zone())
    today = moment.astimezone(zone()).date()
    if not configured.periods and not as_json:
        typer.echo("no sensitive periods in config.yaml (see docs/periods.md)")
    for period in configured.periods:
        rows: list[dict[str, Any]] = []
        for name, span in period.ordered():
            rows.append({"phase": name, "from": span.from_.isoformat(), "to": span.to.isoformat(),
                         "in_force": span.covers(today), **period.policy_of(name).switches()})
        value = {"id": period.id, "kind": period.kind, "label": period.label,
                 "day": period.day.isoformat() if period.day else None, "at": today.isoformat(), "phases": rows}
        lines = [f"{period.id} ({period.kind}) {period.label}" + (f", day {period.day}" if period.day else "")]
        for row in rows:
            mark = "*" if row["in_force"] else " "
            lines.append(f" {mark} {row['phase']:<8} {row['from']} .. {row['to']}  {_switches(row)}")
        print_value(value, as_json, "\n".join(lines))


def _switches(row: dict[str, Any]) -> str:
    """What a phase switches on, in a few words."""
    parts = []
    if row["extra_warn_at"]:
        parts.append("extra warnings at " + ", ".join(f"{f:g}" for f in row["extra_warn_at"]))
    if row["notify_at_once"]:
        parts.append("notify at once: " + ", ".join(row["notify_at_once"]))
    if row["daily_report"]:
        parts.append("daily report")
    if row["roster"] == "every_day":
        parts.append("roster every day")
    return "; ".join(parts) or "nothing"
