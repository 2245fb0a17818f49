"""``config.yaml``: pydantic models, read with line numbers; relative paths resolve beside the file.

A key kntc does not implement is refused with its ``file:line:column``, never silently ignored. ``default`` (see
:data:`DEFAULT_CONFIG`) names the configuration shipped with kntc: its workflows are the shipped
ones and its SQLite file ``kntc.db`` lies in the current folder.

``limits:`` bounds one API input (defaults in :class:`LimitsSettings`): ``max_content_chars``
(100 000), ``max_petitioners`` (1 000), ``max_payload_bytes`` (256 KiB) and ``max_fields_bytes``
(256 KiB); an input over a bound is refused with a ValidationError naming the field.

``sqlite_synchronous`` (beside ``database_url``) is how hard a SQLite file is pushed to disk at
each commit (SQLite's ``PRAGMA synchronous``; PostgreSQL ignores it):

* ``normal`` (the default; the file is in WAL mode): a commit is written to the WAL but not
  flushed to the disk each time. A power failure or an OS crash may lose the last transactions
  committed before it (they roll back, whole); it never corrupts the database. A crash of kntc
  itself loses nothing.
* ``full``: each commit is flushed to the disk before it returns: nothing committed is lost,
  at the cost of one flush (fsync) per commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.cache import read_json, write_json
from adapters.notify.templates import TemplateText
from adapters.notify_config import ChannelEntry, NotificationSettings, channel_ids, notification_problems
from adapters.people_settings import PersonSettings, ReceptionSettings, RosterSettings, people_problems
from engine import election_letters as election_letters_module
from engine import escalation
from engine import periods as periods_module
from engine import phase_policy as phase_policy_module
from engine.calendar import BusinessCalendar, CalendarError, DayOverride
from engine.election_letters import NOTIFIED, ElectionLetters
from engine.errors import ConfigError, DefinitionError
from engine.escalation import Rule, rule_problems
from engine.grouping import GroupingPolicy, workflow_states
from engine.inputs import Limits
from engine.loader import locate, plain, read_yaml, validate_located
from engine.machines import CompiledWorkflow
from engine.periods import Period, check_periods
from engine.phase_policy import HEAD_OF_UNIT
from engine.testing import shipped_path

__all__ = ["DEFAULT_CONFIG", "LimitsSettings", "Settings", "escalation_problems", "find_config", "load_settings",
           "policy_role_problems", "role_problems"]

DEFAULT_URL = "sqlite:///kntc.db"
#: ``--config default`` / ``load_settings("default")``: the configuration shipped with kntc.
DEFAULT_CONFIG = "default"
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Unit(_Model):
    """An organisational unit (phòng, ban) of the body."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)


class Organisation(_Model):
    """Who the body is: its units and the roles its officers act in."""

    name: str = "Sở"
    province: str | None = None
    #: the body's level (engine.inputs.LEVELS): a letter forwarded from a higher one is skip-level
    level: Literal["commune", "department", "province", "central"] = "department"
    units: list[Unit] = Field(default_factory=list)
    roles: dict[str, str] = Field(default_factory=lambda: {
        "clerk": "Cán bộ tiếp nhận, xử lý đơn", "inspector": "Thanh tra viên / chuyên viên giải quyết",
        "head_of_unit": "Trưởng phòng / thủ trưởng đơn vị", "director": "Giám đốc Sở",
        "system": "Hệ thống (daemon)"})


class CalendarDay(_Model):
    """An operator's override of one day, with the reason (the notice that decided it)."""

    date: date
    reason: str = Field(min_length=1)


class CalendarSettings(_Model):
    """Overrides of the Vietnamese public-holiday calendar."""

    days_off: list[CalendarDay] = Field(default_factory=list)
    working_days: list[CalendarDay] = Field(default_factory=list)
    first_year: int = 2015
    last_year: int = 2045


class EscalationSettings(_Model):
    """The daemon's cadence and the escalation rules (engine/escalation.py; checked by escalation_problems)."""

    tick_seconds: float = Field(default=60, gt=0, le=86_400)
    batch_size: int = Field(default=500, gt=0, le=100_000)
    rules: list[Rule] = Field(default_factory=list)


class GroupingSettings(_Model):
    """Content groups and their hot spots (engine/grouping.py ``GroupingPolicy``: the fields' meaning)."""

    enabled: bool = True
    similarity: float = Field(default=0.5, gt=0, le=1)
    confirm_ratio: float = Field(default=80.0, gt=0, le=100)
    respondent_ratio: float = Field(default=85.0, gt=0, le=100)
    length_ratio: float = Field(default=0.5, gt=0, le=1)
    max_candidates: int = Field(default=5, ge=1, le=100)
    window_days: int = Field(default=7, ge=1, le=3660)
    crowded_threshold: int = Field(default=5, ge=2, le=10_000)
    early_threshold: int = Field(default=3, ge=2, le=10_000)
    prolonged_overdues: int = Field(default=2, ge=2, le=1_000)
    prolonged_open_days: int = Field(default=365, ge=1, le=36_600)

    @model_validator(mode="after")
    def _early_before_crowded(self) -> GroupingSettings:
        if self.early_threshold >= self.crowded_threshold:
            raise ValueError(f"early_threshold ({self.early_threshold}) must be below crowded_threshold "
                             f"({self.crowded_threshold})")
        return self

    def policy(self, own_level: str = "department",
               workflows: Mapping[str, CompiledWorkflow] | None = None) -> GroupingPolicy:
        """The engine's policy of these settings, with the workflows' final and ``mark_complex`` states."""
        base = GroupingPolicy(**self.model_dump(exclude={"enabled"}), own_level=own_level)
        if not workflows:
            return base
        states = workflow_states(workflows)
        return dataclasses.replace(base, final_states=states["final_states"], complex_states=states["complex_states"])


class LoggingSettings(_Model):
    """How the CLI and daemon log (the library itself never configures logging)."""

    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class LimitsSettings(_Model):
    """How big one API input may be (:class:`engine.inputs.Limits`); bigger is refused naming the field."""

    max_content_chars: int = Field(default=100_000, ge=1, le=10_000_000)
    max_petitioners: int = Field(default=1_000, ge=1, le=1_000_000)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1, le=64 * 1024 * 1024)
    max_fields_bytes: int = Field(default=256 * 1024, ge=1, le=64 * 1024 * 1024)

    def limits(self) -> Limits:
        """The engine's limits of these settings."""
        return Limits(**self.model_dump())


class Settings(_Model):
    """The whole configuration."""

    database_url: str = DEFAULT_URL
    #: SQLite's ``PRAGMA synchronous`` (see the module's doc: what each can lose on power failure)
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    timezone: str = "Asia/Ho_Chi_Minh"
    workflows_dir: str | None = None  # None: the workflows shipped with kntc
    auto_migrate: bool = True
    organisation: Organisation = Field(default_factory=Organisation)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    periods: list[Period] = Field(default_factory=list)  # sensitive periods (engine/periods.py)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    grouping: GroupingSettings = Field(default_factory=GroupingSettings)
    # letters about the election itself (engine/election_letters.py); no topics: none recognised
    election_letters: ElectionLetters = Field(default_factory=ElectionLetters)
    # outbox channels, the routing of notifications, template overrides (adapters/notify_config.py)
    channels: list[ChannelEntry] = Field(default_factory=list)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    templates: dict[str, TemplateText] = Field(default_factory=dict)
    people: list[PersonSettings] = Field(default_factory=list)  # officers (adapters/people_settings.py)
    roster: RosterSettings = Field(default_factory=RosterSettings)
    reception: ReceptionSettings = Field(default_factory=ReceptionSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    base_dir: str = Field(default=".", exclude=True)
    #: the file this configuration was read from ("" when built in code): errors found later name its lines
    source: str = Field(default="", exclude=True)

    _periods_unique = field_validator("periods")(check_periods)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    def resolved_database_url(self, override: str | None = None) -> str:
        """Argument > ``KNTC_DATABASE_URL`` > config; a relative SQLite path resolves beside the config."""
        url = override or os.environ.get("KNTC_DATABASE_URL") or self.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
            url = prefix + str((Path(self.base_dir) / url[len(prefix):]).resolve())
        return url

    def workflows_path(self) -> Path:
        """The workflow directory, resolved beside the config file (default: the shipped workflows)."""
        if self.workflows_dir is None:
            return shipped_path("workflows")
        return (Path(self.base_dir) / self.workflows_dir).resolve()

    def build_calendar(self) -> BusinessCalendar:
        """The business calendar of this configuration, its holiday table from the cache when there."""
        from adapters.cache import holiday_table  # the holidays package only when the cache misses
        cal = self.calendar
        # a bad year range gets no table: the calendar itself then says what is wrong
        valid = 1 <= cal.first_year <= cal.last_year <= 9998
        try:
            return BusinessCalendar(
                timezone=self.timezone, first_year=cal.first_year, last_year=cal.last_year,
                days_off=[DayOverride(d.date, d.reason) for d in cal.days_off],
                working_days=[DayOverride(d.date, d.reason) for d in cal.working_days],
                holidays=holiday_table(cal.first_year, cal.last_year) if valid else None)
        except CalendarError as exc:
            raise ConfigError(f"{self.base_dir}/config.yaml: calendar: {exc}") from None


def find_config(path: str | Path | None) -> str | Path:
    """The configuration to use: ``path``, else ``$KNTC_CONFIG``, else ``./config.yaml`` if it exists.

    Raise :class:`ConfigError` when there is none, rather than fall back silently.
    """
    chosen = path or os.environ.get("KNTC_CONFIG")
    if chosen:
        return chosen
    if Path("config.yaml").is_file():
        return Path("config.yaml")
    raise ConfigError("no ./config.yaml here; pass --config PATH (or --config default for the shipped one), "
                      "or run from the project folder")


@cache
def _cache_salt() -> bytes:
    """Part of a cached config's key: the models that validated it (a new kntc validates it afresh)."""
    return b"kntc-config-cache-1" + b"".join(Path(m.__file__).read_bytes() for m in (  # type: ignore[arg-type]
        escalation, periods_module, election_letters_module, phase_policy_module)) + Path(__file__).read_bytes()



def load_settings(path: str | Path | None) -> Settings:
    """Read ``path`` (``None`` or ``"default"``: the shipped config); errors name file:line and the key."""
    if path is None or str(path) == DEFAULT_CONFIG:
        shipped = load_settings(shipped_path("config.yaml"))
        return shipped.model_copy(update={"workflows_dir": str(shipped.workflows_path()),
                                          "base_dir": str(Path.cwd())})
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    base_dir = str(path.resolve().parent)
    key = f"config-{hashlib.sha256(_cache_salt() + text.encode('utf-8')).hexdigest()}.json"
    cached = read_json(key)
    if isinstance(cached, dict):  # this very text validated before: skip the line-aware YAML parse
        try:
            return Settings.model_validate({**cached, "base_dir": base_dir, "source": str(path)})
        except ValueError:
            pass  # a stale or tampered entry: read the file as if there were none
    try:
        document = read_yaml(text, source=str(path), what="config.yaml")
        document["base_dir"], document["source"] = base_dir, str(path)
        settings = validate_located(Settings, document, source=str(path))
        problems = escalation_problems(settings, document, str(path)) + policy_role_problems(
            settings, document, str(path)) + people_problems(
            settings.people, settings.roster, [u.id for u in settings.organisation.units], settings.organisation.roles,
            channel_ids(settings.channels), document, str(path)) + notification_problems(
            settings.channels, settings.notifications, settings.templates, settings.escalation.rules,
            [u.id for u in settings.organisation.units], settings.organisation.roles, document, str(path))
        if problems:
            raise problems[0]
    except DefinitionError as exc:
        raise ConfigError(str(exc)) from None
    write_json(key, plain({k: v for k, v in document.items() if k not in ("base_dir", "source")}))
    return settings


def role_problems(settings: Settings, workflows: Mapping[str, CompiledWorkflow],
                  origins: Mapping[str, str | Path]) -> list[DefinitionError]:
    """Each role a workflow names that ``organisation.roles`` does not declare, at the workflow's file:line.

    (Workflows name no organisational unit in this version, so only roles are checked.)
    """
    known = set(settings.organisation.roles)
    declared = ", ".join(sorted(known))
    problems: list[DefinitionError] = []
    for name, compiled in workflows.items():
        defn = compiled.definition
        wrong: list[tuple[tuple[str | int, ...], str]] = [
            (("transitions", i, "roles", j), role) for i, t in enumerate(defn.transitions)
            for j, role in enumerate(t.roles) if role not in known]
        wrong += [(("reveal_roles", j), role) for j, role in enumerate(defn.reveal_roles) if role not in known]
        if not wrong:
            continue
        source = str(origins.get(name, name))
        try:
            document = read_yaml(Path(source).read_text(encoding="utf-8"), source=source, what="a workflow file")
        except (OSError, UnicodeDecodeError, DefinitionError):
            document = None
        for loc, role in wrong:
            message = (f"role {role!r} is not declared in config.yaml organisation.roles "
                       f"(declared: {declared})")
            problems.append(locate(document, loc, message, source) if document is not None
                            else DefinitionError(message, source=source))
    return problems


def escalation_problems(settings: Settings, document: Any, source: str) -> list[DefinitionError]:
    """What is wrong with ``escalation.rules`` beyond its shape, each at its file:line.

    Unknown event types and roles (vs ``organisation.roles``), conditions that do not compile or
    read unknown names, a rule that statically loops (see :func:`engine.escalation.rule_problems`).
    Run when the text is read, not on a cached load (a cached text passed these checks).
    """
    rules = settings.escalation.rules
    if not rules:
        return []
    return [locate(document, ("escalation", "rules", *loc), f"escalation.rules.{'.'.join(map(str, loc))}: {message}",
                   source) for loc, message in rule_problems(rules, settings.organisation.roles)]


def policy_role_problems(settings: Settings, document: Any, source: str) -> list[DefinitionError]:
    """Roles the periods' ``notify_at_once`` and ``election_letters`` notify that ``organisation.roles`` lacks.

    A phase that lists hot-spot types notifies ``head_of_unit``; recognised election letters notify
    ``clerk`` and ``head_of_unit`` (each at its file:line).
    """
    known = settings.organisation.roles
    declared = ", ".join(sorted(known))
    problems: list[DefinitionError] = []
    if HEAD_OF_UNIT not in known:
        problems += [locate(document, ("periods", i, "policy", name, "notify_at_once"),
                            f"periods.{i}.policy.{name}.notify_at_once: notifies role {HEAD_OF_UNIT!r}, which is "
                            f"not declared in organisation.roles (declared: {declared})", source)
                     for i, period in enumerate(settings.periods) for name, policy in period.policy.items()
                     if policy.notify_at_once]
    letters = settings.election_letters
    missing = [role for role in NOTIFIED if role not in known]
    if letters.enabled and letters.topics and missing:
        problems.append(locate(document, ("election_letters", "topics"),
                               f"election_letters.topics: notifies role {missing[0]!r}, which is not declared in "
                               f"organisation.roles (declared: {declared})", source))
    return problems
