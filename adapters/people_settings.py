"""``config.yaml`` ``people:`` and ``roster:``: the officers (``kntc people import`` adds more), the roster check."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DefinitionError
from engine.loader import locate
from engine.people import Person

__all__ = ["EMAIL", "PERSON_ID", "PersonSettings", "ReceptionSettings", "RosterSettings", "people_problems"]

#: An officer's id: letters, digits, ``_ . -`` (what rules' ``notify.people`` name).
PERSON_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A plausible e-mail address (the mail server is the judge of the rest).
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class PersonSettings(BaseModel):
    """One officer: id, name, unit (an ``organisation.units`` id), roles, and how to reach them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=PERSON_ID, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    email: str | None = Field(default=None, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=40)
    channels: list[str] = Field(default_factory=list)

    def person(self) -> Person:
        """The engine's value of this entry."""
        return Person(id=self.id, name=self.name, unit=self.unit, roles=tuple(self.roles), email=self.email,
                      phone=self.phone, channels=tuple(self.channels))


class RosterSettings(BaseModel):
    """The daily check of the duty roster (engine/roster.py): on or off, whom it tells, how far ahead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: bool = False
    #: the unit whose head of unit is told of a day without cover (the inspectorate); None: the body's
    inspectorate_unit: str | None = None
    look_ahead_days: int = Field(default=7, ge=0, le=366)


class ReceptionSettings(BaseModel):
    """The head's reception days (engine/reception_days.py): whether the daemon warns of a month without one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: on the first working day of each month, warn (``reception.month_without_day``) when the month has
    #: no periodic reception day of the head scheduled (LTCD Điều 18: at least one a month)
    month_check: bool = False


def people_problems(people: list[PersonSettings], roster: RosterSettings, units: Collection[str],
                    roles: Collection[str], channels: Collection[str], document: Any,
                    source: str) -> list[DefinitionError]:
    """Each officer naming an unknown unit, role or channel, or an id given twice; the roster's unit; at file:line."""
    problems: list[DefinitionError] = []
    if roster.inspectorate_unit is not None and roster.inspectorate_unit not in units:
        listed = ", ".join(sorted(units)) or "none"
        problems.append(locate(document, ("roster", "inspectorate_unit"), f"roster.inspectorate_unit: unknown unit "
                               f"{roster.inspectorate_unit!r} (organisation.units: {listed})", source))
    seen: set[str] = set()
    for i, entry in enumerate(people):
        if entry.id in seen:
            problems.append(locate(document, ("people", i, "id"), f"people.{i}.id: {entry.id!r} is given twice",
                                   source))
        seen.add(entry.id)
        if entry.unit not in units:
            problems.append(locate(document, ("people", i, "unit"), f"people.{i}.unit: unknown unit {entry.unit!r} "
                                   f"(organisation.units: {', '.join(sorted(units)) or 'none'})", source))
        problems += [locate(document, ("people", i, "roles", j), f"people.{i}.roles.{j}: unknown role {role!r} "
                            f"(organisation.roles: {', '.join(sorted(roles))})", source)
                     for j, role in enumerate(entry.roles) if role not in roles]
        problems += [locate(document, ("people", i, "channels", j), f"people.{i}.channels.{j}: unknown channel "
                            f"{channel!r} (channels: {', '.join(sorted(channels)) or 'none'})", source)
                     for j, channel in enumerate(entry.channels) if channel not in channels]
    return problems
