"""Composition root: ``build(config, database_url=None, clock=None) -> Engine``.

Nothing happens at import. ``build`` reads the configuration, loads and compiles the workflows,
builds the business calendar, connects the store (creating or migrating the schema when
``auto_migrate`` is on), stores the definitions, and re-projects open deadlines when the calendar
changed since the timers were last projected.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from adapters.clock import SystemClock
from adapters.config import Settings, load_settings
from adapters.sql.migrate import current_revision, head_revision, upgrade
from adapters.sql.store import SqlStore, make_sql_engine
from engine.errors import ConfigError, StorageError
from engine.loader import load_directory
from engine.machines import CompiledWorkflow
from engine.ports import Clock
from engine.service import Engine

__all__ = ["build", "build_store"]


def build(config: str | Path | Settings | None = "config.yaml", database_url: str | None = None,
          clock: Clock | None = None, *, auto_migrate: bool | None = None) -> Engine:
    """Build an Engine from ``config`` (a path, a Settings, or None for the defaults)."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    workflows = load_directory(settings.workflows_path())
    _check_roles(settings, workflows)
    calendar = settings.build_calendar()
    store = build_store(settings, database_url,
                        auto_migrate=settings.auto_migrate if auto_migrate is None else auto_migrate)
    engine = Engine(store=store, workflows=workflows, calendar=calendar, clock=clock or SystemClock(),
                    tick_batch=settings.escalation.batch_size)
    engine.register_definitions()
    engine.sync_calendar()
    return engine


def build_store(settings: Settings, database_url: str | None = None, *, auto_migrate: bool = True) -> SqlStore:
    """Connect to the configured database, migrating it first when ``auto_migrate``."""
    url = settings.resolved_database_url(database_url)
    try:
        sql_engine = make_sql_engine(url)
        if auto_migrate:
            upgrade(sql_engine)
        elif current_revision(sql_engine) != head_revision():
            raise ConfigError(f"database schema is not current (at {current_revision(sql_engine)}, "
                              f"need {head_revision()}): run `kntc db upgrade`")
    except ConfigError:
        raise
    except Exception as exc:
        message = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise StorageError(f"cannot open database {_redact(url)}: {message[0] if message else exc}") from exc
    return SqlStore(sql_engine)


def _check_roles(settings: Settings, workflows: Mapping[str, CompiledWorkflow]) -> None:
    known = set(settings.organisation.roles)
    for name, compiled in workflows.items():
        unknown = compiled.definition.roles() - known
        if unknown:
            raise ConfigError(f"workflow {name!r} names role(s) {', '.join(sorted(unknown))} that "
                              f"config.yaml organisation.roles does not declare")


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
