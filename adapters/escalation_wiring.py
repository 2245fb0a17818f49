"""The escalation rules of a configuration as reactors for ``build(settings, reactors=...)``.

``config.yaml``'s ``escalation.rules`` were checked at file:line when the text was read
(:func:`adapters.config.escalation_problems`); here they are compiled (each CEL condition once)
into reactors by event type. ``phases_at`` gives the names of the sensitive-period phases in
force at a moment (the periods' own function); without it no phase is ever in force, so a rule
that needs ``'before' in phase`` never fires. :func:`merge_reactors` joins these with other
reactors (hot-spot detection, period policy) into the one mapping ``build`` takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.config import Settings
from engine.escalation import PhasesAt, compile_rules
from engine.reactors import Reactor

__all__ = ["escalation_reactors", "merge_reactors"]


def escalation_reactors(settings: Settings, phases_at: PhasesAt | None = None) -> dict[str, list[Reactor]]:
    """Reactors of ``settings.escalation.rules`` (empty when there are none)."""
    return compile_rules(settings.escalation.rules, settings.organisation.roles, phases_at=phases_at)


def merge_reactors(*maps: Mapping[str, Sequence[Reactor]] | None) -> dict[str, list[Reactor]]:
    """One mapping of event type -> reactors, each map's reactors after the previous map's."""
    merged: dict[str, list[Reactor]] = {}
    for reactors in maps:
        for event_type, functions in (reactors or {}).items():
            merged.setdefault(event_type, []).extend(functions)
    return merged
