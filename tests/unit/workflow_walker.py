"""A walker over the shipped workflows: fires events the way the engine does, without a store.

It calls the engine's own pure ``decide`` (candidates, role, payload, CEL guard, ``@previous``,
``set``, the deadline ledgers) on a case kept in memory, so that the definitions are tested on
their own, with no store, by the code that runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from engine.commands import decide
from engine.deadlines import DeadlineKeeper
from engine.definitions import PREVIOUS
from engine.errors import NotAllowedError
from engine.loader import load_directory
from engine.machines import CompiledWorkflow
from engine.model import CaseRecord, DeadlineLedger
from engine.testing import default_calendar

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ROLES = {"clerk", "inspector", "head_of_unit", "director", "system"}
CASE_EVENTS = {"accept", "reject", "transfer", "suspend", "resume", "withdraw"}
AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 02/03/2026 09:00 in Hà Nội: a walk happens at one moment
#: Wed 01/07/2026 09:00 in Hà Nội: NĐ 155/2026 in force, complaints may be suspended or terminated
JULY = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


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
    """A case in memory, moved by the engine's own :func:`engine.commands.decide` (no store).

    The case is received, and every event fired, at the one moment ``at`` (guards read it as ``now``).
    """

    def __init__(self, name: str, *, at: datetime = AT, channel: str = "post", petitioner_count: int = 1,
                 **fields: Any) -> None:
        self.w = wf(name)
        self.at = at
        self.keeper = DeadlineKeeper(self.w, default_calendar())
        self.record = CaseRecord(
            id="walk", kind=self.w.name, definition_hash=self.w.content_hash, state=self.w.definition.initial,
            previous_state=None, version=1, received_at=at, opened_at=at, updated_at=at, channel=channel,
            subject="walk", respondent="walk", content="", petitioner_count=petitioner_count,
            fields=self.w.validate_fields(fields))
        self.ledgers: list[DeadlineLedger] = []
        self.trail = [self.record.state]

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def previous(self) -> str | None:
        return self.record.previous_state

    @property
    def fields(self) -> dict[str, Any]:
        return self.record.fields

    def context(self, role: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The names a guard or condition may read."""
        return self.record.context(dict(payload), role)

    def fire(self, event: str, role: str, **payload: Any) -> Walk:
        """Fire ``event`` as ``role`` the way the engine does, or raise :class:`Refused`."""
        try:
            outcome = decide(self.w, self.keeper, self.record, self.ledgers, event, actor="walker", role=role,
                             payload=payload, now=self.at)
        except NotAllowedError as exc:
            raise Refused("state" if exc.why == "event" else exc.why, event, self.record.state) from None
        self.ledgers = outcome.ledgers
        self.trail.append(self.record.state)
        return self

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
        return [(event, (previous if c.spec.to == PREVIOUS else c.spec.target(state) or state, state))
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

