"""Reactors and the effects they decide (DESIGN.md §5b, step 3).

A reactor is a function registered for an event type. It sees one recorded event (with the case
it concerns and the open transaction, to read) and returns effects, decision values that the
pipeline applies in the same transaction: :class:`Emit` another feed event, :class:`Enqueue` an
outbox message, :class:`SetPriority` of a case, :class:`FireEvent` on a case. Hot-spot detection,
escalation rules and period policies are reactors. Reactors are passed to the engine explicitly
(never a global registry: two engines in one portal do not share reactions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.model import DAEMON, SYSTEM, CaseRecord, NewEvent, Priority
from engine.ports import Transaction

__all__ = ["ANY", "Effect", "Emit", "Enqueue", "FireEvent", "Reaction", "Reactor", "Reactors", "SetPriority"]

#: Register a reactor under this type to see every event.
ANY = "*"


@dataclass(frozen=True, slots=True)
class Emit:
    """Append one more feed event (reactors see it in turn)."""

    event: NewEvent


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Queue a message for an outbox channel (delivered by the daemon, once per channel)."""

    channel: str
    kind: str
    case_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SetPriority:
    """Raise (or set) a case's priority: ``normal``, ``high`` or ``urgent``."""

    case_id: str
    priority: Priority


@dataclass(frozen=True, slots=True)
class FireEvent:
    """Fire a workflow event on a case, as the system, through the same decide -> record -> react."""

    case_id: str
    event: str
    payload: dict[str, Any] = field(default_factory=dict)
    actor: str = DAEMON
    role: str = SYSTEM


Effect = Emit | Enqueue | SetPriority | FireEvent


@dataclass(frozen=True, slots=True)
class Reaction:
    """What a reactor is given: the recorded event, its case (None for events of no case), the
    transaction (to read related data), the moment of the command, and how deep the chain is."""

    event: NewEvent
    case: CaseRecord | None
    tx: Transaction
    now: datetime
    depth: int


Reactor = Callable[[Reaction], Iterable[Effect]]


class Reactors:
    """Reactors by event type, each with a name (for errors); :data:`ANY` reactors see every event."""

    def __init__(self, by_type: Mapping[str, Sequence[Reactor]]) -> None:
        self._by_type = {t: tuple((getattr(r, "__name__", repr(r)), r) for r in rs) for t, rs in by_type.items() if rs}
        self._any = self._by_type.pop(ANY, ())

    def __bool__(self) -> bool:
        return bool(self._by_type or self._any)

    def for_type(self, event_type: str) -> tuple[tuple[str, Reactor], ...]:
        """The named reactors of ``event_type``, the catch-all ones last."""
        found = self._by_type.get(event_type, ())
        return (*found, *self._any) if self._any else found
