"""What every ``kntc`` command shares: the typer apps, the configuration, the engine, output and logging.

Heavy modules (the engine's store, Alembic, the daemon) are imported inside the commands that need
them, so a command pays only for what it uses.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from engine.errors import ValidationError

if TYPE_CHECKING:
    from adapters.config import Settings
    from engine.ports import Clock
    from engine.service import Engine

__all__ = ["JsonOpt", "app", "audit_app", "case_app", "db_app", "engine", "fail", "json_option", "local",
           "parse_now", "print_value", "settings", "zone"]

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="kntc: workflows and legal deadlines for complaints, denunciations, petitions.")
case_app = typer.Typer(no_args_is_help=True, help="Open, fire, show cases.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
audit_app = typer.Typer(no_args_is_help=True, help="Audit trail checks.")
app.add_typer(case_app, name="case")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

_state: dict[str, Any] = {"config": None, "settings": None}
ConfigOpt = Annotated[str | None, typer.Option(
    "--config", "-c", help="config.yaml to use (before or after the command; 'default': the shipped one). "
                           "Default: $KNTC_CONFIG, else ./config.yaml.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON (lists: one object per line).")]


@app.callback()
def _root(config: ConfigOpt = None) -> None:
    _state["config"] = config


def settings() -> Settings:
    """The configuration of this run (read once): ``--config``, ``$KNTC_CONFIG`` or ``./config.yaml``."""
    if _state["settings"] is None:
        from adapters.config import find_config, load_settings
        _state["settings"] = load_settings(find_config(_state["config"]))
    loaded: Settings = _state["settings"]
    return loaded


def zone() -> tzinfo:
    """The configured time zone: every time the CLI prints is local, with its offset."""
    return ZoneInfo(settings().timezone)


def engine(clock: Clock | None = None) -> Engine:
    """The Engine of this run's configuration, with logging set up for a terminal or a log collector."""
    from adapters.bootstrap import build
    configured = settings()
    configure_logging(configured)
    return build(configured, clock=clock)


# -- output -----------------------------------------------------------------------------------
def local(moment: datetime) -> str:
    """``moment`` in the configured zone, ISO 8601 with its offset, to the second."""
    return moment.astimezone(zone()).isoformat(timespec="seconds")


def local_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Feed event data with its ``*_at`` times (UTC ISO strings in storage) shown in local time."""
    out = dict(data)
    for key, value in data.items():
        if key.endswith("_at") and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                out[key] = local(moment)
    return out


def jsonable(value: Any) -> Any:
    """Dataclasses, mappings and sequences as JSON data; datetimes local with their offset."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return local(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def print_value(value: Any, as_json: bool, text: str) -> None:
    """Print ``value`` as one JSON line, or ``text``."""
    typer.echo(json.dumps(jsonable(value), ensure_ascii=False) if as_json else text)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``kntc: error: message`` on stderr and exit non-zero."""
    typer.echo(f"kntc: error: {message}", err=True)
    raise typer.Exit(code)


# -- input ------------------------------------------------------------------------------------
def parse_now(value: str | None, tz: str = "Asia/Ho_Chi_Minh", *, option: str = "--now") -> datetime | None:
    """ISO 8601 with or without offset (without: local time of the configured zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(option, f"{value!r} is not an ISO 8601 date-time (e.g. 2026-03-15T08:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(tz))


def json_option(name: str, value: str | None) -> dict[str, Any]:
    """A JSON-object option, or ValidationError naming the option."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValidationError(name, f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(parsed, dict):
        raise ValidationError(name, "must be a JSON object")
    return parsed


# -- logging ----------------------------------------------------------------------------------
class LogFormatter(logging.Formatter):
    """kntc's log lines for stderr: console text or JSON, stamped in local time with the offset."""

    def __init__(self, fmt: str, tz: tzinfo) -> None:
        super().__init__()
        self.json, self.tz = fmt == "json", tz

    def format(self, record: logging.LogRecord) -> str:
        """One line: ``<time> [level] event key=value ...`` or a JSON object."""
        moment = datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="seconds")
        event = getattr(record, "kntc_event", None) or record.getMessage()
        values: dict[str, Any] = getattr(record, "kntc_fields", {})
        level = record.levelname.lower()
        if self.json:
            line = json.dumps({"timestamp": moment, "level": level, "logger": record.name, "event": event,
                               **values}, ensure_ascii=False, default=str)
        else:
            line = " ".join([f"{moment} [{level:<7}] {event}", *(f"{k}={v}" for k, v in values.items())])
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def configure_logging(configured: Settings) -> None:
    """Send kntc's log lines (logger ``kntc``) to stderr, as config ``logging:`` says; never stdout.

    The one place the CLI and the daemon set up logging (the library itself configures nothing):
    ``console`` is one readable line per record, ``json`` one JSON object per line; in both, the
    handler's :class:`~engine.logs.RedactingFilter` takes personal data out of every record and
    adds the values bound to the command (``case_id``). Calling it again replaces its handler.
    """
    from engine.logs import ROOT_LOGGER, RedactingFilter, merge_bound, redact, to_stdlib
    root = logging.getLogger(ROOT_LOGGER)
    for handler in list(root.handlers):
        if getattr(handler, "kntc_cli", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.kntc_cli = True  # type: ignore[attr-defined]
    handler.setFormatter(LogFormatter(configured.logging.format, ZoneInfo(configured.timezone)))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(getattr(logging, configured.logging.level.upper()))
    root.propagate = False
    if "structlog" in sys.modules:  # code that still logs with structlog.get_logger() goes the same way
        import structlog
        structlog.configure(processors=[structlog.stdlib.filter_by_level, merge_bound, redact, to_stdlib],
                            logger_factory=structlog.stdlib.LoggerFactory(),
                            wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=False)
