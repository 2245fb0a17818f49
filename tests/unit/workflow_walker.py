"""A walker over the shipped workflows: fires events the way the engine does, without a store.

It checks candidates, role, payload, CEL guard, ``@previous`` and ``set`` exactly as
``Engine.fire`` does, so that the definitions can be tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import PREVIOUS
from engine.loader import load_directory
from engine.machines import CompiledWorkflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ROLES = {"clerk", "inspector", "head_of_unit", "director", "system"}
CASE_EVENTS = {"accept", "reject", "transfer", "suspend", "resume", "withdraw"}


@cache
def workflows() -> dict[str, CompiledWorkflow]:
    """Every shipped workflow, loaded once."""
    return load_directory(WORKFLOWS)


def wf(name: str) -> CompiledWorkflow:
    """One shipped workflow by name."""
    return workflows()[name]


# --------------------------------------------------------------------------- the walker


class Refused(Exception):
    """The walker refused an event: ``why`` is ``state``, ``role`` or ``guard``."""

    def __init__(self, why: str, event: str, state: str) -> None:
        self.why = why
        super().__init__(f"{event!r} refused in {state!r}: {why}")


class Walk:
    """A case reduced to what a transition reads and writes: state, previous state, fields."""

    def __init__(self, name: str, *, channel: str = "post", petitioner_count: int = 1,
                 **fields: Any) -> None:
        self.w = wf(name)
        self.state: str = self.w.definition.initial
        self.previous: str | None = None
        self.channel, self.petitioner_count = channel, petitioner_count
        self.fields = self.w.validate_fields(fields)
        self.trail = [self.state]

    def context(self, role: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The names a guard or condition may read."""
        return {"fields": self.fields, "payload": dict(payload), "role": role,
                "case": {"state": self.state, "channel": self.channel,
                         "petitioner_count": self.petitioner_count, "kind": self.w.name}}

    def fire(self, event: str, role: str, **payload: Any) -> Walk:
        """Take the first candidate whose role, payload and guard pass, or raise."""
        candidates = self.w.candidates(event, self.state, self.previous)
        if not candidates:
            raise Refused("state", event, self.state)
        candidates = [c for c in candidates if role in c.spec.roles]
        if not candidates:
            raise Refused("role", event, self.state)
        for c in candidates:
            data = c.validate_payload(payload)
            if c.guard is not None and not c.guard.evaluate(self.context(role, data)):
                continue
            target = self.previous if c.spec.to == PREVIOUS else c.spec.to
            assert target is not None
            updates = {
                key: data[value.removeprefix("$payload.")]
                if isinstance(value, str) and value.startswith("$payload.") else value
                for key, value in c.spec.set.items()
            }
            self.fields = self.w.validate_fields({**self.fields, **updates})
            self.previous, self.state = self.state, target
            self.trail.append(target)
            return self
        raise Refused("guard", event, self.state)

    def run(self, *steps: tuple[Any, ...]) -> Walk:
        """Fire ``(event, role[, payload])`` steps in order."""
        for event, role, *rest in steps:
            self.fire(event, role, **(rest[0] if rest else {}))
        return self

    def refused(self, event: str, role: str, **payload: Any) -> str:
        """Assert that ``event`` is refused and changes nothing; return why."""
        before = (self.state, self.previous, dict(self.fields))
        with pytest.raises(Refused) as info:
            self.fire(event, role, **payload)
        assert before == (self.state, self.previous, self.fields)
        return info.value.why

    @property
    def final(self) -> bool:
        """Whether the case is in a final state."""
        return self.w.definition.states[self.state].final


def condition(w: CompiledWorkflow, source: str, walk: Walk) -> bool:
    """Evaluate a deadline condition compiled by the loader against a walk's case."""
    return w.conditions[source].evaluate(walk.context("system", {}))


def budget_for(name: str, deadline: str, **fields: Any) -> tuple[int, str]:
    """The budget a deadline's variants choose for ``fields`` (first match wins)."""
    w = wf(name)
    spec = w.definition.deadlines[deadline]
    walk = Walk(name, **fields)
    for variant in spec.variants:
        if condition(w, variant.when, walk):
            return variant.budget.amount, variant.budget.unit
    return spec.budget.amount, spec.budget.unit


REASON = {"reason": "Quyết định số 12/QĐ"}


#: Final states a clock could reach unstopped if guards were ignored; the guard named here
#: requires the stopping event first (tested in test_workflow_walks.py).
GUARDED = {
    ("denunciation", "notify_acceptance"): {"closed", "referred_criminal"},  # conclude: parties_notified
    ("denunciation", "send_conclusion"): {"closed"},  # close: conclusion_sent
}


def final_states_reached(w: CompiledWorkflow, starts_on: list[str], stops_on: list[str]) -> set[str]:
    """Final states reachable from where a clock starts without any of its stopping events."""
    initial = (w.definition.initial, None)

    def steps(pair: tuple[str, str | None], skip: list[str]) -> list[tuple[str, tuple[str, str | None]]]:
        state, previous = pair
        return [(event, (previous if c.spec.to == PREVIOUS else c.spec.to, state))
                for event in w.events_from(state) if event not in skip
                for c in w.candidates(event, state, previous)]

    reachable, frontier = {initial}, [initial]
    starts = {initial} if "opened" in starts_on else set()
    while frontier:
        for event, pair in steps(frontier.pop(), []):
            if event in starts_on:
                starts.add(pair)
            if pair not in reachable:
                reachable.add(pair)
                frontier.append(pair)
    seen, frontier, ends = set(starts), list(starts), set()
    while frontier:
        pair = frontier.pop()
        if w.definition.states[pair[0]].final:
            ends.add(pair[0])
            continue
        for _, nxt in steps(pair, stops_on):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return ends

