"""Composition root: ``build(config, database_url=None, clock=None) -> Engine``.

Nothing happens at import. ``build`` reads the configuration, loads the compiled workflows
(from the definition cache when their files are unchanged), checks that every role they name is
declared, builds the business calendar, connects the store (creating or migrating the schema when
``auto_migrate`` is on; a current schema costs one cheap revision read, Alembic is imported only
to migrate), stores the definitions, and re-projects open deadlines when the calendar changed since
the timers were last projected. The configured sensitive periods add their job (``period.phase``,
:class:`~engine.periods.PhaseChanges`) to the caller's ``jobs`` and their phases' warning rungs
to the deadline keepers; open deadlines are re-projected when those rungs changed. A phase's
``notify_at_once`` and the recognition of election letters are reactors
(:mod:`adapters.escalation_wiring`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.clock import SystemClock
from adapters.config import Settings, load_settings, role_problems
from adapters.definition_cache import load_located, workflow_paths
from adapters.people_source import load_directory
from engine.calendar import BusinessCalendar
from engine.errors import ConfigError, StorageError
from engine.groups import grouping_reactors
from engine.hot_spot_reactors import open_too_long_job
from engine.jobs import ScheduledJob
from engine.machines import CompiledWorkflow
from engine.maintenance import reproject, sync_calendar
from engine.periods import PhaseChanges, phases
from engine.ports import Clock
from engine.reactors import Reactor
from engine.reception_days import month_check_job
from engine.report_job import daily_report_job
from engine.roster import roster_check_job
from engine.runtime import Runtime
from engine.service import Engine

if TYPE_CHECKING:
    from adapters.sql.store import SqlStore

__all__ = ["build", "build_store", "configured_reactors", "load_workflows", "sync_periods"]


def build(config: str | Path | Settings | None = "config.yaml", database_url: str | None = None,
          clock: Clock | None = None, *, auto_migrate: bool | None = None,
          reactors: Mapping[str, Sequence[Reactor]] | None = None, jobs: Iterable[ScheduledJob] = ()) -> Engine:
    """Build an Engine from ``config``: a path, a Settings, or None / ``"default"`` for the shipped one.

    ``reactors`` (event type -> functions) run in the transaction of each event they react to;
    ``jobs`` are scheduled jobs the daemon runs once per slot (see :mod:`engine.reactors`,
    :mod:`engine.jobs`).

    The shipped configuration works from an installed wheel: its workflows are package data and
    its SQLite file ``kntc.db`` lies in the current folder (``database_url`` or
    ``KNTC_DATABASE_URL`` override it).
    """
    settings = config if isinstance(config, Settings) else load_settings(config)
    workflows = load_workflows(settings)
    calendar = settings.build_calendar()
    store = build_store(settings, database_url,
                        auto_migrate=settings.auto_migrate if auto_migrate is None else auto_migrate)
    periods = tuple(settings.periods)
    own: list[ScheduledJob] = [PhaseChanges(periods)] if periods else []
    if settings.grouping.enabled:
        own.append(open_too_long_job(settings.grouping.policy(settings.organisation.level, workflows)))
    if settings.roster.check:
        own.append(roster_check_job(periods, unit=settings.roster.inspectorate_unit,
                                    look_ahead_days=settings.roster.look_ahead_days))
    if any(p.policy_of(name).daily_report for p in periods for name in p.phases):
        own.append(daily_report_job(periods))
    if settings.reception.month_check:
        own.append(month_check_job(unit=settings.roster.inspectorate_unit))
    engine = Engine(store=store, workflows=workflows, calendar=calendar, clock=clock or SystemClock(),
                    tick_batch=settings.escalation.batch_size, jobs=[*own, *jobs], limits=settings.limits.limits(),
                    reactors=configured_reactors(settings, calendar, reactors, workflows=workflows))
    engine.runtime.use_periods(periods)  # before anything projects a deadline: the phases' rungs
    engine.runtime.directory_of = lambda tx: load_directory(settings, tx)
    sync_calendar(engine.runtime)
    sync_periods(engine.runtime)
    return engine


def configured_reactors(settings: Settings, calendar: BusinessCalendar,
                        extra: Mapping[str, Sequence[Reactor]] | None = None, *,
                        workflows: Mapping[str, CompiledWorkflow] | None = None) -> dict[str, list[Reactor]]:
    """What config.yaml switches on, in order: content groups and their hot spots (``grouping``), the
    phases' ``notify_at_once`` and the escalation rules (both see the hot spots in the same
    transaction), election letters at intake (``workflows``: their letter workflow), the caller's own."""
    from adapters.escalation_wiring import election_reactors, escalation_reactors, merge_reactors, policy_reactors
    periods = tuple(settings.periods)

    def phases_at(moment: datetime) -> list[str]:
        return [active.phase for active in phases(periods, moment, calendar)]

    grouping = (grouping_reactors(settings.grouping.policy(settings.organisation.level, workflows or {}))
                if settings.grouping.enabled else {})
    return merge_reactors(grouping, policy_reactors(settings, calendar),
                          escalation_reactors(settings, phases_at=phases_at, calendar=calendar),
                          election_reactors(settings, calendar, workflows or {}), extra)


def sync_periods(rt: Runtime) -> int:
    """Re-project open deadlines when the periods' warning rungs changed since they were projected.

    Like the calendar's fingerprint: a period added, moved or given other ``extra_warn_at`` in
    config.yaml re-times the running deadlines once, at the next ``build()``.
    """
    fingerprint = hashlib.sha256(repr(rt.warn_windows).encode("utf-8")).hexdigest()
    with rt.store.reader() as tx:
        stored = tx.get_meta("periods_fingerprint")
    if stored == fingerprint:
        return 0
    changed = reproject(rt) if stored is not None or rt.warn_windows else 0
    with rt.store.transaction() as tx:
        tx.set_meta("periods_fingerprint", fingerprint)
    return changed


def load_workflows(settings: Settings) -> dict[str, CompiledWorkflow]:
    """The configured workflows, compiled (cached by content hash); every role they name must be declared."""
    located = load_located(workflow_paths(settings.workflows_path()))
    workflows = {name: compiled for name, (compiled, _) in located.items()}
    problems = role_problems(settings, workflows, {name: path for name, (_, path) in located.items()})
    if problems:
        raise ConfigError(str(problems[0]))
    return workflows


def build_store(settings: Settings, database_url: str | None = None, *, auto_migrate: bool = True) -> SqlStore:
    """Connect to the configured database, migrating it first when ``auto_migrate`` and not current.

    A SQLite file's revision is read with the stdlib ``sqlite3``: SQLAlchemy and Alembic are
    imported only when there is a schema to create or migrate (or for PostgreSQL).
    """
    from adapters.sql.store import SqlStore
    url = settings.resolved_database_url(database_url)
    store: SqlStore | None = None
    try:
        store = SqlStore(url, sqlite_synchronous=settings.sqlite_synchronous)
        at = store.schema_revision()
        if at != shipped_head():
            if auto_migrate:
                from adapters.sql.migrate import upgrade  # Alembic only when there is something to do
                upgrade(store.engine)
            else:
                raise ConfigError(f"database schema is not current (at {at}, need {shipped_head()}): "
                                  "run `kntc db upgrade`")
    except ConfigError:
        _close_quietly(store)
        raise
    except Exception as exc:
        _close_quietly(store)
        message = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise StorageError(f"cannot open database {_redact(url)}: {message[0] if message else exc}") from exc
    return store


def _close_quietly(store: SqlStore | None) -> None:
    """Release what a store that failed to open holds (its own failure is the one reported)."""
    if store is not None:
        with suppress(Exception):
            store.close()


@cache
def shipped_head() -> str:
    """The newest migration shipped with this kntc, read from the scripts' text (no Alembic import)."""
    folder = Path(__file__).parent / "sql" / "migrations" / "versions"
    revisions: dict[str, str | None] = {}
    for script in folder.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", text, re.M)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down else None
    heads = sorted(set(revisions) - {d for d in revisions.values() if d})
    if len(heads) != 1:  # not a straight line of scripts: let Alembic say what the head is
        from adapters.sql.migrate import head_revision
        return head_revision()
    return heads[0]


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
