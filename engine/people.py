"""The body's officers and who holds a role where: the people a notification reaches.

A :class:`Person` is an officer (never a citizen): id, name, unit, roles, e-mail, phone, and the
outbox channels that reach them when a notification names none. A :class:`Directory` answers
"who holds role R for unit U": the people with R in U; for a *body role* (the director, by
default) everyone who holds it, whatever their unit. Pure data: the adapters load it from
``config.yaml`` ``people:`` and the ``people`` table (``kntc people import``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["BODY_ROLES", "Directory", "Person"]

#: Roles held for the whole body: a notification to one reaches its holders in any unit.
BODY_ROLES: frozenset[str] = frozenset({"director"})


@dataclass(frozen=True, slots=True)
class Person:
    """An officer of the body: who a notification is addressed to."""

    id: str
    name: str
    unit: str
    roles: tuple[str, ...]
    email: str | None = None
    phone: str | None = None
    #: outbox channels (ids in ``channels:``) that reach this officer; empty: the default routing
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Directory:
    """The officers by id, and who holds which role in which unit."""

    people: Mapping[str, Person] = field(default_factory=dict)
    body_roles: frozenset[str] = BODY_ROLES

    @classmethod
    def of(cls, people: Iterable[Person], body_roles: Collection[str] = BODY_ROLES) -> Directory:
        """A directory of ``people`` (a later person with an id already seen replaces the earlier)."""
        return cls({p.id: p for p in people}, frozenset(body_roles))

    def get(self, person_id: str) -> Person | None:
        """The officer with this id, or None."""
        return self.people.get(person_id)

    def holders(self, role: str, unit: str | None) -> tuple[Person, ...]:
        """Who holds ``role`` for ``unit``: in that unit, or anywhere for a body role or no unit; by id."""
        anywhere = unit is None or role in self.body_roles
        return tuple(sorted((p for p in self.people.values()
                             if role in p.roles and (anywhere or p.unit == unit)), key=lambda p: p.id))
