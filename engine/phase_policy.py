"""A phase's ``notify_at_once`` (DESIGN.md §6): the head of unit hears of a hot spot in the transaction that finds it.

:func:`phase_policy_reactors` gives reactors for ``Engine(reactors=...)`` on ``hotspot.detected``
and ``hotspot.updated``. When the hot spot's type is in the ``notify_at_once`` of a phase in
force at the event's moment (its local day), one outbox message (channel ``notify``, kind
:data:`KIND`) goes to the role :data:`HEAD_OF_UNIT`, committed with the detection ("at once").

Decisions:

- **Once per hot spot and phase.** ``hotspot.updated`` notifies too, but only for a phase that has
  not notified of that hot spot yet: a hot spot found in January when its type was not in the
  policy, or in ``before`` when ``prolonged`` is not in before's list, is told of the first time it
  grows in a phase that lists it. The "once" is the store's unique claim (the one that makes a
  phase change once: ``Transaction.claim_job``, kind :data:`CLAIM_KIND`, subject the hot spot id,
  slot ``<period>:<phase>``), so it holds across daemons and after a hot spot closes and reopens.
  Overlapping periods whose phases both list the type give one message, naming every phase.
- **One message per person and cause.** The shipped rule ``hot_spot_in_election`` (config.yaml)
  names the head of unit and the director and raises the priority. :func:`covered_roles` tells
  the escalation rules which roles the policy already tells of an event (the head of unit, when a
  phase in force lists the hot spot's type, whether or not its once-per-phase claim lets a new
  message out): a rule leaves them out, so the head of unit gets the policy's message only.
- A message carries the hot spot's id, type and case ids and the period and phase: never a
  petitioner's name or a letter's content. ``early_crowded`` and the other types are notified only
  when a policy names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.calendar import BusinessCalendar
from engine.model import NewEvent
from engine.periods import ActivePhase, Period, phases
from engine.reactors import Effect, Enqueue, Reaction, Reactor

__all__ = ["CLAIM_KIND", "HEAD_OF_UNIT", "KIND", "TRIGGERS", "at_once_phases", "covered_roles", "phase_policy_reactors"]

#: The role told at once.
HEAD_OF_UNIT = "head_of_unit"
#: The outbox message's kind (channel ``notify``, like a rule's).
KIND = "hot_spot_at_once_policy"
#: The kind of the once-per-(hot spot, phase) claim in the store's job table.
CLAIM_KIND = "period.notify_at_once"
#: The events the policy reacts to.
TRIGGERS = ("hotspot.detected", "hotspot.updated")
CHANNEL = "notify"

PhasesOf = Callable[[datetime], Sequence[ActivePhase]]


def at_once_phases(active: Iterable[ActivePhase], hot_spot_type: str) -> list[ActivePhase]:
    """The phases of ``active`` whose ``notify_at_once`` names ``hot_spot_type``."""
    return [a for a in active if hot_spot_type in a.policy.notify_at_once]


def phase_policy_reactors(periods: Sequence[Period], calendar: BusinessCalendar) -> dict[str, list[Reactor]]:
    """Reactors of the periods' ``notify_at_once`` (empty when no phase lists a hot-spot type)."""
    if not any(p.policy_of(name).notify_at_once for p in periods for name in p.phases):
        return {}
    chosen = tuple(periods)

    def phases_of(moment: datetime) -> Sequence[ActivePhase]:
        return phases(chosen, moment, calendar)

    reactor = _NotifyAtOnce(phases_of)
    return {trigger: [reactor] for trigger in TRIGGERS}


def covered_roles(periods: Sequence[Period], calendar: BusinessCalendar) -> Callable[[NewEvent], frozenset[str]]:
    """For the escalation rules: the roles the policy tells of ``event`` (none, or the head of unit)."""
    chosen = tuple(periods)
    nobody: frozenset[str] = frozenset()
    head = frozenset({HEAD_OF_UNIT})

    def covered(event: NewEvent) -> frozenset[str]:
        kind = event.data.get("type")
        if event.type not in TRIGGERS or not isinstance(kind, str):
            return nobody
        return head if at_once_phases(phases(chosen, event.at, calendar), kind) else nobody

    return covered


class _NotifyAtOnce:
    """The reactor; its ``__name__`` names it in a ``ReactionError``."""

    __name__ = "period policy notify_at_once"

    def __init__(self, phases_of: PhasesOf) -> None:
        self.phases_of = phases_of

    def __call__(self, reaction: Reaction) -> list[Effect]:
        """One message to the head of unit for the phases that list the hot spot's type and have not told of it."""
        event = reaction.event
        kind, spot = event.data.get("type"), event.data.get("hot_spot")
        if not isinstance(kind, str):
            return []
        listed = at_once_phases(self.phases_of(event.at), kind)
        subject = spot if isinstance(spot, str) and spot else f"{event.case_id or '-'}:{kind}"
        fresh = [a for a in listed if reaction.tx.claim_job(CLAIM_KIND, subject, f"{a.period}:{a.phase}", event.at)]
        if not fresh:
            return []
        data: dict[str, Any] = {
            "policy": "notify_at_once", "event": event.type, "role": HEAD_OF_UNIT, "hot_spot": spot, "type": kind,
            "case_ids": list(event.data.get("case_ids") or []), "case_id": event.case_id,
            "period": fresh[0].period, "phase": fresh[0].phase,
            "phases": [{"period": a.period, "phase": a.phase} for a in fresh]}
        return [Enqueue(CHANNEL, KIND, event.case_id, data)]
