"""``config.yaml``: pydantic models, read with line numbers; relative paths resolve beside the file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.calendar import BusinessCalendar, CalendarError, DayOverride
from engine.errors import ConfigError, DefinitionError
from engine.loader import read_yaml, validate_located

__all__ = ["Settings", "load_settings"]

DEFAULT_URL = "sqlite:///kntc.db"


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
    """The daemon's cadence; escalation rules arrive with the hot-spot issue."""

    tick_seconds: float = Field(default=60, gt=0, le=86_400)
    batch_size: int = Field(default=500, gt=0, le=100_000)
    rules: list[dict[str, object]] = Field(default_factory=list)


class LoggingSettings(_Model):
    """How the CLI and daemon log (the library itself never configures logging)."""

    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(_Model):
    """The whole configuration."""

    database_url: str = DEFAULT_URL
    timezone: str = "Asia/Ho_Chi_Minh"
    workflows_dir: str = "workflows"
    auto_migrate: bool = True
    organisation: Organisation = Field(default_factory=Organisation)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    periods: list[dict[str, object]] = Field(default_factory=list)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    channels: list[dict[str, object]] = Field(default_factory=list)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    base_dir: str = Field(default=".", exclude=True)

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
        """The workflow directory, resolved beside the config file."""
        return (Path(self.base_dir) / self.workflows_dir).resolve()

    def build_calendar(self) -> BusinessCalendar:
        """The business calendar of this configuration."""
        cal = self.calendar
        try:
            return BusinessCalendar(
                timezone=self.timezone, first_year=cal.first_year, last_year=cal.last_year,
                days_off=[DayOverride(d.date, d.reason) for d in cal.days_off],
                working_days=[DayOverride(d.date, d.reason) for d in cal.working_days])
        except CalendarError as exc:
            raise ConfigError(f"{self.base_dir}/config.yaml: calendar: {exc}") from None


def load_settings(path: str | Path | None) -> Settings:
    """Read ``path`` (default settings when None); errors name file:line and the field."""
    if path is None:
        return Settings()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    try:
        document = read_yaml(text, source=str(path), what="config.yaml")
        document["base_dir"] = str(path.resolve().parent)
        return validate_located(Settings, document, source=str(path))
    except DefinitionError as exc:
        raise ConfigError(str(exc)) from None
