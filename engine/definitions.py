"""Pydantic models of a workflow definition (the YAML shape of DESIGN.md §3).

The models check the shape of each part (``extra="forbid"`` catches typos); the cross checks
that need the whole definition (a transition naming an unknown state, a deadline naming an unknown
event, an unreachable state) are in :func:`engine.definition_checks.check_definition`, which
returns problems with a location path so that the loader can name ``file:line:column``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from engine.deadline_specs import (
    Budget,
    CountBack,
    DeadlineRule,
    DeadlineSpec,
    DeadlineVariant,
    Extension,
    Ident,
    Owner,
    SpecModel,
)

__all__ = [
    "OPENED",
    "PAYLOAD_REF",
    "PREVIOUS",
    "SAME",
    "STACK_LIMIT",
    "Budget",
    "CountBack",
    "DeadlineRule",
    "DeadlineSpec",
    "DeadlineVariant",
    "Extension",
    "FieldSpec",
    "Owner",
    "StateSpec",
    "TransitionSpec",
    "WorkflowDefinition",
    "final_duties",
    "json_schema",
    "previous_top",
    "stack_after",
]

FieldType = Literal["bool", "int", "str", "date", "list"]

#: Target of a transition that returns to the state the case was in before the current one
#: (``resume`` after ``suspend``).
PREVIOUS = "@previous"
#: Target of a transition that stays in the state it leaves (a self-loop declared once, even with
#: several sources); also what a transition without ``to`` means.
SAME = "@same"
#: The previous states are kept as a stack in the one ``previous_state`` column, bottom first,
#: joined by :data:`STACK_SEPARATOR`; at most :data:`STACK_LIMIT` characters (the column's width),
#: the oldest entries dropped first. State names are ``[a-z0-9_]``, so the separator is unambiguous.
STACK_SEPARATOR = ">"
STACK_LIMIT = 64
#: The pseudo-event that starts a clock when the case is opened (from the date of receipt).
OPENED = "opened"
#: In a transition's ``set``, a value ``"$payload.x"`` takes the payload field ``x``.
PAYLOAD_REF = "$payload."


#: ``from:`` is one state name or a list of them (``"*"``: every non-final state).
_ONE_OR_MANY_STATES: dict[str, Any] = {"anyOf": [
    {"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}




class FieldSpec(SpecModel):
    """A typed data field of a case, or a payload field of a transition."""

    type: FieldType
    label: str | None = None
    required: bool = False
    default: Any = None
    choices: list[Any] | None = None


class StateSpec(SpecModel):
    """A state with its Vietnamese label; ``final`` states accept no event."""

    label: str = Field(min_length=1)
    final: bool = False
    description: str | None = None


class TransitionSpec(SpecModel):
    """One edge: ``event`` moves a case from one of ``from`` to ``to``, for ``roles``, if ``guard``.

    ``to`` is a state, ``"@previous"`` (back where the case came from) or ``"@same"`` (stay: a
    self-loop; also what a missing ``to`` means). ``set`` assigns case fields: a literal, or
    ``"$payload.x"`` for the payload field ``x``. ``guard_message`` is what a refusal by the
    guard tells the user (the rule in words, with its article), given only with a ``guard``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event: Ident
    source: Annotated[list[str], WithJsonSchema(_ONE_OR_MANY_STATES)] = Field(alias="from", min_length=1)
    to: str = SAME
    roles: list[Ident] = Field(min_length=1)
    guard: str | None = None
    guard_message: str | None = Field(default=None, min_length=1)
    payload: dict[Ident, FieldSpec] = Field(default_factory=dict)
    set: dict[Ident, Any] = Field(default_factory=dict)
    label: str | None = None
    legal_basis: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to", mode="before")
    @classmethod
    def _stay_when_missing(cls, value: Any) -> Any:
        return SAME if value is None else value

    @model_validator(mode="after")
    def _message_needs_guard(self) -> TransitionSpec:
        if self.guard_message is not None and self.guard is None:
            raise ValueError("guard_message is given without a guard: it would never be shown")
        return self

    def target(self, source: str) -> str | None:
        """Where the transition takes a case in ``source``: a state, or None for ``@previous``."""
        if self.to == PREVIOUS:
            return None
        return source if self.to == SAME else self.to


class WorkflowDefinition(SpecModel):
    """A whole workflow: states, fields, transitions and deadlines."""

    name: Ident
    label: str = Field(min_length=1)
    version: int = 1
    description: str | None = None
    initial: Ident
    states: dict[Ident, StateSpec] = Field(min_length=1)
    fields: dict[Ident, FieldSpec] = Field(default_factory=dict)
    transitions: list[TransitionSpec] = Field(min_length=1)
    deadlines: dict[Ident, DeadlineSpec] = Field(default_factory=dict)
    confidential_parties: bool = False
    reveal_roles: list[Ident] = Field(default_factory=list)
    #: the fewest petitioners a case may be opened with (a complaint needs its complainant)
    min_petitioners: int = Field(default=0, ge=0, le=100)

    def content_hash(self) -> str:
        """The definition's identity: sha256 of its canonical JSON (comments and layout ignored)."""
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True,
                               ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def events(self) -> list[str]:
        """Event names in declaration order, without repeats."""
        return list(dict.fromkeys(t.event for t in self.transitions))

    def roles(self) -> set[str]:
        """Every role named by a transition or allowed to reveal identities."""
        return {r for t in self.transitions for r in t.roles} | set(self.reveal_roles)

    def sources(self, transition: TransitionSpec) -> list[str]:
        """The states ``transition`` leaves from: its ``from`` list, ``"*"`` meaning every non-final state."""
        if transition.source == ["*"]:
            return [s for s, spec in self.states.items() if not spec.final]
        return transition.source

    def came_from(self) -> dict[str, set[str]]:
        """For each state, the states a case in it may have come from: where ``@previous`` can take it.

        The previous states are a stack (:func:`stack_after`): a move into ``S`` from ``P != S``
        puts ``P`` on top, a ``@previous`` return pops it, so the state a return reveals is again
        one that led into it. Hence each set is the sources of the edges into the state. Guards are
        ignored, so a set may be larger than what a case can really do, never smaller.
        """
        back: dict[str, set[str]] = {name: set() for name in self.states}
        for t in self.transitions:
            for source in self.sources(t):
                dest = t.target(source)
                if dest is not None and dest != source and dest in back:
                    back[dest].add(source)
        return back

    def detours(self) -> frozenset[str]:
        """The states a ``@previous`` transition leaves: entering one pushes onto the stack."""
        return frozenset(s for t in self.transitions if t.to == PREVIOUS for s in self.sources(t))


def previous_top(stored: str | None) -> str | None:
    """The state ``@previous`` returns to, from the stored stack (or a plain state name)."""
    if not stored:
        return None
    return stored.rsplit(STACK_SEPARATOR, 1)[-1]


def stack_after(stored: str | None, source: str, target: str, *, returned: bool,
                detours: frozenset[str]) -> str | None:
    """The stored previous-state stack after a move from ``source`` to ``target``.

    A self-loop keeps it; a ``@previous`` return pops its top (the state returned to); a move into
    a detour state (one with a ``@previous`` exit) pushes ``source``; a move into any other state
    starts again from ``[source]``, so the stack is only as deep as detours are nested
    (suspended inside a clarification inside verification).
    """
    if target == source and not returned:
        return stored
    stack = stored.split(STACK_SEPARATOR) if stored else []
    if returned:
        rest = stack[:-1]
        return STACK_SEPARATOR.join(rest) or None
    stack = [*stack, source] if target in detours else [source]
    while len(STACK_SEPARATOR.join(stack)) > STACK_LIMIT and len(stack) > 1:
        stack = stack[1:]
    return STACK_SEPARATOR.join(stack)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a workflow file (for editors: ``# yaml-language-server: $schema=...``)."""
    schema = WorkflowDefinition.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
            "title": "kntc workflow definition"}


def final_duties(defn: WorkflowDefinition) -> dict[str, list[str]]:
    """For each event, the deadlines that outlive a final state and that it stops (it may fire on a final case)."""
    found: dict[str, list[str]] = {}
    for name, dl in defn.deadlines.items():
        for event in dl.stops_on if dl.outlives_final else ():
            found.setdefault(event, []).append(name)
    return found
