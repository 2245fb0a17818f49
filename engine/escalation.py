"""Escalation rules (DESIGN.md §6): on an event type, when a CEL condition holds, act in the same transaction.

A rule (``config.yaml`` ``escalation.rules``) names the event type it reacts to (``on``), an
optional condition (``when``, CEL over ``event``, ``case`` and ``phase``) and what to do
(``then``): ``notify`` roles or people (one outbox message each), ``set_priority`` of the case,
``fire`` a workflow event on the case. :func:`compile_rules` turns rules into reactors for
``Engine(reactors=...)``; their effects commit with the event that triggered them ("at once").

What a condition sees:

- ``event``: ``{"type": ..., "data": {...}}``, the feed event (``event.data.deadline`` of a
  ``deadline.overdue``, ``event.data.type`` of a ``hotspot.detected``);
- ``case``: ``kind``, ``state``, ``channel``, ``petitioner_count``, ``priority``, ``fields`` of the
  event's case (empty values for an event of no case);
- ``phase``: the names of the sensitive-period phases in force at the event's moment, a list
  (``'before' in phase``), from the ``phases_at`` function given to :func:`compile_rules`.

One message per person and cause: a rule's ``notify`` of a role that a phase's ``notify_at_once``
already tells of the same hot-spot event (``covered``, from :mod:`engine.phase_policy`) is left
out, and ``escalation.raised`` says so (``told_by_phase_policy``); the shipped
``hot_spot_in_election`` names the head of unit and the director, the head of unit's one message
is the policy's.

Decisions: ``escalation.raised`` is never a trigger (every rule that fires raises it, so a rule
on it would feed on itself); a rule never lowers a priority; ``set_priority`` and ``fire`` act on
the event's case and do nothing for an event of no case; a condition that fails at run time (a
key ``event.data`` lacks: guard it with ``has()``) is a ``ReactionError`` and its cause is rolled
back, never a silently skipped escalation. Outbox messages and the feed carry the rule, the
event type, the case id and the role or officer id: never a name or a letter's content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.errors import ConfigError
from engine.expressions import Expression, ExpressionError, compile_rule_condition
from engine.model import PRIORITIES, SYSTEM, CaseRecord, NewEvent, Priority
from engine.reactors import Effect, Emit, Enqueue, FireEvent, Reaction, Reactor, SetPriority

__all__ = ["DEFAULT_CHANNEL", "EVENT_TYPES", "RAISED", "Action", "Covered", "Fire", "Notify", "PhasesAt", "Rule",
           "RuleReactor", "check_rules", "compile_rules", "rule_problems"]

#: The feed's event types a rule may react to.
EVENT_TYPES: tuple[str, ...] = (
    "case.opened", "case.transitioned", "deadline.warning", "deadline.overdue", "deadline.extended",
    "hotspot.detected", "hotspot.updated", "hotspot.closed", "period.phase_changed", "group.changed",
    "roster.gap", "reception.month_without_day", "report.generated", "identity.revealed", "identity.reveal_refused")
#: The event each rule that fires raises (rule, on, actions, case_id); never a trigger.
RAISED = "escalation.raised"
#: The virtual channel every ``notify`` is queued on; engine/routing.py turns it into messages per officer.
DEFAULT_CHANNEL = "notify"
#: Event types a fired workflow event itself produces: a rule on one that fires without a condition loops.
FIRE_PRODUCES = frozenset({"case.transitioned", "deadline.extended"})
#: Event types that concern no case: only ``notify`` applies.
CASELESS = frozenset({"period.phase_changed", "roster.gap", "reception.month_without_day", "report.generated"})

#: What a rule's message keeps of its event (ids and types only) for the templates to name.
EVENT_KEYS = ("type", "hot_spot", "case_ids", "deadline", "phase", "period", "day")
PhasesAt = Callable[[datetime], Sequence[str]]
#: The roles something else already tells of an event (a phase's ``notify_at_once``): a rule leaves them out.
Covered = Callable[[NewEvent], Collection[str]]
_NAME = r"^[a-z][a-z0-9_]*$"
_PHASE_IN = re.compile(r"(?<![.\w'\"])phase\s+in\b")
_EVENT_TYPE_IS = re.compile(r"(?<![.\w])event\s*\.\s*type\s*==\s*['\"]([^'\"]*)['\"]")
_NO_CASE: dict[str, Any] = {"kind": "", "state": "", "channel": "", "petitioner_count": 0, "priority": "normal",
                            "fields": {}}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Notify(_Model):
    """One outbox message per role and per person (an officer's id, never a name)."""

    roles: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    template: str | None = Field(default=None, pattern=_NAME)
    channel: str = Field(default=DEFAULT_CHANNEL, pattern=_NAME)

    @model_validator(mode="after")
    def _someone(self) -> Notify:
        if not self.roles and not self.people:
            raise ValueError("notify needs roles or people")
        for person in self.people:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", person):
                raise ValueError(f"people are officer ids (letters, digits, _ . -), not names: {person!r}")
        return self


class Fire(_Model):
    """A workflow event fired on the event's case by the daemon, in ``role`` (default ``system``)."""

    event: str = Field(pattern=_NAME)
    payload: dict[str, Any] = Field(default_factory=dict)
    role: str = SYSTEM


class Action(_Model):
    """One item of ``then``: exactly one of ``notify``, ``set_priority``, ``fire``."""

    notify: Notify | None = None
    set_priority: Priority | None = None
    fire: Fire | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [k for k in ("notify", "set_priority", "fire") if getattr(self, k) is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise ValueError(f"an action is exactly one of notify, set_priority, fire (got {got})")
        return self

    @property
    def kind(self) -> str:
        """``notify``, ``set_priority`` or ``fire``."""
        return "notify" if self.notify else "set_priority" if self.set_priority else "fire"


class Rule(_Model):
    """An escalation rule: ``on`` an event type, ``when`` a condition holds (absent: always), do ``then``."""

    id: str = Field(pattern=_NAME)
    on: str
    when: str | None = Field(default=None, min_length=1)
    then: list[Action] = Field(min_length=1)


def rule_problems(rules: Sequence[Rule], known_roles: Collection[str],
                  known_events: Collection[str] = EVENT_TYPES) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with ``rules``, each as (path under the rules list, message); empty when nothing."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            problems.append(((i, "id"), f"rule id {rule.id!r} is used twice"))
        seen.add(rule.id)
        if rule.on == RAISED:
            problems.append(((i, "on"), f"{RAISED} cannot trigger a rule (every rule that fires raises it)"))
        elif rule.on not in known_events:
            problems.append(((i, "on"), f"unknown event type {rule.on!r} (known: {', '.join(sorted(known_events))})"))
        if rule.when is not None:
            problem = _condition_problem(rule.when, known_events)
            if problem:
                problems.append(((i, "when"), f"condition {problem}"))
        for j, action in enumerate(rule.then):
            if action.notify:
                problems += [((i, "then", j, "notify", "roles", k), f"unknown role {role!r} (declared in "
                              f"organisation.roles: {', '.join(sorted(known_roles))})")
                             for k, role in enumerate(action.notify.roles) if role not in known_roles]
                continue
            if action.fire and action.fire.role not in known_roles:
                problems.append(((i, "then", j, "fire", "role"), f"unknown role {action.fire.role!r} (declared in "
                                 f"organisation.roles: {', '.join(sorted(known_roles))})"))
            if rule.on in CASELESS:
                problems.append(((i, "then", j, action.kind), f"{rule.on} concerns no case: only notify applies"))
            elif action.fire and rule.when is None and rule.on in FIRE_PRODUCES:
                problems.append(((i, "then", j, "fire"), f"fires {action.fire.event!r} on every {rule.on} with no "
                                 f"'when': the {rule.on} it causes triggers the rule again (a loop)"))
    return problems


def _condition_problem(source: str, known_events: Collection[str]) -> str | None:
    try:
        expression = compile_rule_condition(source)
    except ExpressionError as exc:
        return str(exc)
    if _PHASE_IN.search(source):
        return "reads 'phase in [...]': phase is the list of phases in force, write 'before' in phase"
    for name in _EVENT_TYPE_IS.findall(source):
        if name not in known_events:
            return f"compares event.type with {name!r}, not an event type (a hot spot's type is event.data.type)"
    sample = {"event": {"type": "", "data": {}}, "case": {**_NO_CASE, "kind": "x", "petitioner_count": 1},
              "phase": ["before"]}
    problem = expression.type_error(sample)
    return problem


def check_rules(rules: Sequence[Rule], known_roles: Collection[str], known_events: Collection[str] = EVENT_TYPES,
                *, where: str = "escalation.rules") -> None:
    """Raise :class:`ConfigError` naming the first problem's field (``escalation.rules.0.on: ...``)."""
    problems = rule_problems(rules, known_roles, known_events)
    if problems:
        loc, message = problems[0]
        raise ConfigError(f"{where}.{'.'.join(map(str, loc))}: {message}")


class RuleReactor:
    """The reactor of one rule; its ``__name__`` names the rule in a ``ReactionError``."""

    def __init__(self, rule: Rule, condition: Expression | None, phases_at: PhasesAt,
                 covered: Covered | None = None) -> None:
        self.rule, self.condition, self.phases_at, self.covered = rule, condition, phases_at, covered
        self.__name__ = f"escalation rule {rule.id}"

    def __call__(self, reaction: Reaction) -> list[Effect]:
        """The rule's effects on ``reaction``, or none when its condition does not hold."""
        event, case = reaction.event, reaction.case
        if self.condition is not None and not self.condition.evaluate(_context(event, case, self.phases_at)):
            return []
        rule, case_id = self.rule, event.case_id
        actions = [f"{a.kind}:{a.set_priority}" if a.set_priority else a.kind for a in rule.then]
        skip = frozenset(self.covered(event)) if self.covered is not None else frozenset()
        raised: dict[str, Any] = {"rule": rule.id, "on": event.type, "actions": actions, "case_id": case_id}
        if skip & {r for a in rule.then if a.notify for r in a.notify.roles}:
            raised["told_by_phase_policy"] = sorted(skip)
        effects: list[Effect] = [Emit(NewEvent(RAISED, case_id, reaction.now, raised))]
        for action in rule.then:
            if action.notify:
                effects += _notices(rule, action.notify, event, case_id, skip)
            elif case_id is None:
                continue
            elif action.set_priority:
                current = case.priority if case is not None else "normal"
                if PRIORITIES.index(action.set_priority) > PRIORITIES.index(current):
                    effects.append(SetPriority(case_id, action.set_priority))
            elif action.fire:
                effects.append(FireEvent(case_id, action.fire.event, dict(action.fire.payload), role=action.fire.role))
        return effects


def _notices(rule: Rule, notify: Notify, event: NewEvent, case_id: str | None,
             skip: Collection[str] = ()) -> Iterable[Effect]:
    kind = notify.template or rule.id
    base: dict[str, Any] = {**{k: event.data[k] for k in EVENT_KEYS if k in event.data},
                            "rule": rule.id, "event": event.type, "case_id": case_id}
    if notify.channel != DEFAULT_CHANNEL:  # the rule's own channel: the router sends only on it
        base["via"] = notify.channel
    for role in notify.roles:
        if role in skip:
            continue
        yield Enqueue(DEFAULT_CHANNEL, kind, case_id, {**base, "role": role})
    for person in notify.people:
        yield Enqueue(DEFAULT_CHANNEL, kind, case_id, {**base, "person": person})


def _context(event: NewEvent, case: CaseRecord | None, phases_at: PhasesAt) -> dict[str, Any]:
    facts = _NO_CASE if case is None else {
        "kind": case.kind, "state": case.state, "channel": case.channel, "petitioner_count": case.petitioner_count,
        "priority": case.priority, "fields": case.fields}
    return {"event": {"type": event.type, "data": event.data}, "case": facts, "phase": list(phases_at(event.at))}


def _no_phase(_: datetime) -> Sequence[str]:
    return ()


def compile_rules(rules: Sequence[Rule], known_roles: Collection[str], known_events: Collection[str] = EVENT_TYPES,
                  *, phases_at: PhasesAt | None = None, covered: Covered | None = None) -> dict[str, list[Reactor]]:
    """Reactors for ``Engine(reactors=...)``, by event type; :class:`ConfigError` for a bad rule.

    ``phases_at(moment)`` gives the names of the phases in force (default: none is ever in force).
    ``covered(event)``: roles another reactor already tells of the event (the phases'
    ``notify_at_once``, :func:`engine.phase_policy.covered_roles`); a rule's ``notify`` leaves them
    out, so one person gets one message per cause. Conditions are compiled once, here.
    """
    check_rules(rules, known_roles, known_events)
    reactors: dict[str, list[Reactor]] = {}
    for rule in rules:
        condition = compile_rule_condition(rule.when) if rule.when is not None else None
        reactors.setdefault(rule.on, []).append(RuleReactor(rule, condition, phases_at or _no_phase, covered))
    return reactors
