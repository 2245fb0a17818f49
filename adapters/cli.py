"""``kntc``: the command line (DESIGN.md §2b). A thin shell over :func:`adapters.bootstrap.build`.

A user's mistake prints one line to stderr and exits non-zero, without a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import structlog
import typer

from adapters.config import Settings, load_settings
from engine.errors import KntcError, ValidationError

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="kntc: workflows and legal deadlines for complaints, denunciations, petitions.")
case_app = typer.Typer(no_args_is_help=True, help="Open, fire, show cases.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
audit_app = typer.Typer(no_args_is_help=True, help="Audit trail checks.")
app.add_typer(case_app, name="case")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

_state: dict[str, Any] = {"config": Path("config.yaml")}
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config.yaml to use.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON (lists: one object per line).")]


@app.callback()
def _root(config: ConfigOpt = Path("config.yaml")) -> None:
    _state["config"] = config


def _settings() -> Settings:
    path: Path = _state["config"]
    return load_settings(path) if path.exists() or path != Path("config.yaml") else Settings()


def _configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.logging.level.upper())
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if settings.logging.format == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True),
                    renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr), cache_logger_on_first_use=False)


def _engine(clock: Any = None) -> Any:
    from adapters.bootstrap import build
    settings = _settings()
    _configure_logging(settings)
    return build(settings, clock=clock)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _print(value: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(_jsonable(value), ensure_ascii=False) if as_json else text)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"kntc: error: {message}", err=True)
    raise typer.Exit(code)


def parse_now(value: str | None, tz: str = "Asia/Ho_Chi_Minh", *, option: str = "--now") -> datetime | None:
    """ISO 8601 with or without offset (without: local time of the configured zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(option, f"{value!r} is not an ISO 8601 date-time (e.g. 2026-03-15T08:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(tz))


def _json_option(name: str, value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationError(name, f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(parsed, dict):
        raise ValidationError(name, "must be a JSON object")
    return parsed


# -- definitions ------------------------------------------------------------------------------
@app.command()
def validate(paths: Annotated[list[Path] | None, typer.Argument(help="Workflow files (default: all).")] = None
             ) -> None:
    """Check workflow files: shape, states, events, deadlines, expressions."""
    from engine.loader import load_directory, load_files
    loaded = load_files(paths) if paths else load_directory(_settings().workflows_path())
    for name, workflow in loaded.items():
        d = workflow.definition
        typer.echo(f"ok {name}: {len(d.states)} states, {len(d.events())} events, "
                   f"{len(d.deadlines)} deadlines ({workflow.content_hash[:12]})")


@app.command()
def graph(workflow: str, fmt: Annotated[str, typer.Option("--format", help="mermaid or dot")] = "mermaid") -> None:
    """Print a workflow's state graph."""
    from engine.graph import to_dot, to_mermaid
    from engine.loader import load_directory
    if fmt not in ("mermaid", "dot"):
        raise ValidationError("--format", f"{fmt!r} is not one of mermaid, dot")
    workflows = load_directory(_settings().workflows_path())
    if workflow not in workflows:
        raise ValidationError("workflow", f"unknown workflow {workflow!r} (known: {', '.join(sorted(workflows))})")
    definition = workflows[workflow].definition
    typer.echo(to_mermaid(definition) if fmt == "mermaid" else to_dot(definition), nl=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (Alembic)."""
    from adapters.bootstrap import build_store
    from adapters.sql.migrate import head_revision
    settings = _settings()
    _configure_logging(settings)
    build_store(settings, auto_migrate=True)
    typer.echo(f"database at schema {head_revision()}")


# -- cases ------------------------------------------------------------------------------------
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
    as_json: JsonOpt = False,
) -> None:
    """Open a case."""
    eng = _engine()
    received = parse_now(received_at, _settings().timezone, option="--received-at") or eng.clock.now()
    case = eng.open_case(workflow, received_at=received, petitioners=[{"name": n} for n in petitioner or []],
                         respondent=respondent, subject=subject, content=content, channel=channel,
                         fields=_json_option("--fields", fields))
    _print(case, as_json, f"{case.id} {case.kind} {case.state} v{case.version}")


@case_app.command("fire")
def case_fire(
    case_id: str, event: str,
    actor: Annotated[str, typer.Option(help="Who acts (officer id).")],
    role: Annotated[str, typer.Option(help="The role acted in.")],
    payload: Annotated[str | None, typer.Option(help="Event payload as a JSON object.")] = None,
    expected_version: Annotated[int | None, typer.Option(help="Refuse if the case moved on.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fire an event on a case."""
    case = _engine().fire(case_id, event, actor=actor, role=role, payload=_json_option("--payload", payload),
                          expected_version=expected_version)
    _print(case, as_json, f"{case.id} {case.kind} {case.state} v{case.version}")


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """Show a case and its deadlines."""
    eng = _engine()
    case = eng.get(case_id)
    lines = [f"{case.id} {case.kind} state={case.state} v{case.version} received={case.received_at:%Y-%m-%d}",
             f"allowed: {', '.join(eng.allowed_events(case_id)) or '-'}"]
    for d in case.deadlines.values():
        due = f"{d.due_date:%d/%m/%Y}" if d.due_date else "paused"
        lines.append(f"  {d.name}: {d.status}, due {due} ({d.amount} {d.unit}; {d.legal_basis})")
    _print(case, as_json, "\n".join(lines))


@case_app.command("history")
def case_history(case_id: str, as_json: JsonOpt = False) -> None:
    """Show a case's history."""
    for h in _engine().history(case_id):
        _print(h, as_json, f"{h.seq:>3} {h.at:%Y-%m-%d %H:%M} {h.event}: {h.source or '(new)'} -> {h.target} "
                           f"by {h.actor} ({h.role})")


@app.command()
def events(after: Annotated[int, typer.Option(help="Print events after this seq.")] = 0,
           limit: Annotated[int, typer.Option(help="At most this many.")] = 100, as_json: JsonOpt = False) -> None:
    """Print the event feed."""
    for e in _engine().events(after=after, limit=limit):
        _print(e, as_json, f"{e.seq:>6} {e.at:%Y-%m-%d %H:%M} {e.type} {e.case_id or '-'} "
                           f"{json.dumps(e.data, ensure_ascii=False)}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain of every case's history."""
    report = _engine().verify_audit()
    for problem in report.problems:
        typer.echo(problem, err=True)
    if not report.ok:
        _fail(f"audit found {len(report.problems)} problem(s) in {report.cases} cases")
    typer.echo(f"audit ok: {report.cases} cases, {report.rows} history rows, chains intact")


# -- daemon -----------------------------------------------------------------------------------
@app.command()
def daemon(once: Annotated[bool, typer.Option("--once", help="Run one tick and exit (cron).")] = False,
           now: Annotated[str | None, typer.Option(help="Simulated ISO date-time.")] = None,
           as_json: JsonOpt = False) -> None:
    """Run the escalation daemon: tick due timers, dispatch the outbox."""
    from adapters.clock import OffsetClock, SystemClock
    from adapters.daemon import Daemon
    from adapters.notify.log import log_channel
    settings = _settings()
    moment = parse_now(now, settings.timezone)
    clock = OffsetClock(SystemClock(), moment) if moment and not once else None
    eng = _engine(clock)
    runner = Daemon(eng, tick_seconds=settings.escalation.tick_seconds, channels={"log": log_channel})
    if once:
        report = runner.run_once(moment)
        _print(report, as_json, f"tick at {report.now.isoformat()}: claimed {report.claimed}, fired "
                                f"{report.fired}, events {report.events}, lag {report.max_lag_seconds:.0f}s")
        return
    runner.run_forever()


@app.command()
def demo(cases: Annotated[int, typer.Option(help="Letters to simulate.")] = 40,
         database: Annotated[Path, typer.Option(help="SQLite file for the demo.")] = Path("kntc-demo.db")) -> None:
    """Run a small simulated season on SQLite: letters arrive, officers act, the daemon escalates."""
    from adapters.demo import run_demo
    run_demo(_settings(), database=database, cases=cases)


def main() -> None:
    """Entry point of the ``kntc`` console script."""
    try:
        code = app(standalone_mode=False)
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


if __name__ == "__main__":
    main()
