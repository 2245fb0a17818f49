"""The reactors config.yaml asks for beyond content groups: escalation rules, phase policies, election letters.

``config.yaml``'s ``escalation.rules`` were checked at file:line when the text was read
(:func:`adapters.config.escalation_problems`); here they are compiled (each CEL condition once)
into reactors by event type. ``phases_at`` gives the names of the sensitive-period phases in
force at a moment (the periods' own function); without it no phase is ever in force, so a rule
that needs ``'before' in phase`` never fires. :func:`policy_reactors` is the phases'
``notify_at_once`` (:mod:`engine.phase_policy`), :func:`election_reactors` the recognition of
election letters at intake (:mod:`engine.election_letters`). :func:`merge_reactors` joins these
with other reactors (hot-spot detection) into the one mapping ``build`` takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.config import Settings
from engine.calendar import BusinessCalendar
from engine.election_letters import EVENT, election_letter_reactors
from engine.errors import ConfigError
from engine.escalation import Covered, PhasesAt, compile_rules
from engine.machines import CompiledWorkflow
from engine.model import SYSTEM
from engine.phase_policy import covered_roles, phase_policy_reactors
from engine.reactors import Reactor

__all__ = ["election_reactors", "escalation_reactors", "merge_reactors", "policy_reactors"]

#: The workflow whose letters are recognised.
LETTER = "letter"


def escalation_reactors(settings: Settings, phases_at: PhasesAt | None = None,
                        calendar: BusinessCalendar | None = None) -> dict[str, list[Reactor]]:
    """Reactors of ``settings.escalation.rules`` (empty when there are none).

    With ``calendar``, a rule leaves out the roles the phases' ``notify_at_once`` already tells of
    the same hot spot (:func:`engine.phase_policy.covered_roles`): one message per person and cause.
    """
    covered: Covered | None = covered_roles(tuple(settings.periods), calendar) if calendar is not None else None
    return compile_rules(settings.escalation.rules, settings.organisation.roles, phases_at=phases_at, covered=covered)


def policy_reactors(settings: Settings, calendar: BusinessCalendar) -> dict[str, list[Reactor]]:
    """Reactors of the periods' ``notify_at_once`` (empty when no phase lists a hot-spot type)."""
    return phase_policy_reactors(tuple(settings.periods), calendar)


def election_reactors(settings: Settings, calendar: BusinessCalendar,
                      workflows: Mapping[str, CompiledWorkflow]) -> dict[str, list[Reactor]]:
    """The election-letter reactor, or none (off, no topics, no election period).

    :class:`ConfigError` when it is on but the ``letter`` workflow cannot take its event: a
    ``mark_election_matter`` transition from the initial state, for role ``system``, with a
    ``topic`` payload and no guard (a refused event would roll the letter's opening back).
    """
    letters = settings.election_letters
    if not letters.enabled or not letters.topics or not any(p.kind == "election" for p in settings.periods):
        return {}
    compiled = workflows.get(LETTER)
    if compiled is None:
        return {}  # no letters, nothing to recognise
    defn = compiled.definition
    allowed = {state for t in defn.transitions if t.event == EVENT and SYSTEM in t.roles and t.guard is None
               and "topic" in t.payload for state in defn.sources(t)}
    if defn.initial not in allowed:
        raise ConfigError(f"election_letters: the {LETTER!r} workflow has no {EVENT!r} transition from "
                          f"{defn.initial!r} for role {SYSTEM!r} with a 'topic' payload and no guard "
                          f"(see the shipped workflows/letter.yaml), or set election_letters.enabled: false")
    return election_letter_reactors(letters, tuple(settings.periods), calendar, allowed)


def merge_reactors(*maps: Mapping[str, Sequence[Reactor]] | None) -> dict[str, list[Reactor]]:
    """One mapping of event type -> reactors, each map's reactors after the previous map's."""
    merged: dict[str, list[Reactor]] = {}
    for reactors in maps:
        for event_type, functions in (reactors or {}).items():
            merged.setdefault(event_type, []).extend(functions)
    return merged
