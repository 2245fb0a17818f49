"""Cross checks of a parsed workflow definition (what the pydantic models alone cannot see).

A transition naming an unknown state, a deadline naming an unknown event, an unreachable state, a
trap state, a clock that outlives a final state without a way to stop it there, a counted-back or
``start_from`` deadline naming a field of the wrong type, a kind's reported time limit said to be
the citizen's (``owner: citizen``)...: each is a :class:`Problem` with the
path into the YAML document, so that the loader names ``file:line:column``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pydantic import BaseModel

from engine.deadline_specs import DeadlineSpec
from engine.definitions import (
    OPENED,
    PREVIOUS,
    SAME,
    StateSpec,
    TransitionSpec,
    WorkflowDefinition,
    final_duties,
)
from engine.reports import COUNTING

__all__ = ["Problem", "check_definition", "clock_states"]


class Problem(BaseModel):
    """A cross-check failure: ``loc`` is the path into the YAML document."""

    loc: tuple[str | int, ...]
    message: str


def check_definition(defn: WorkflowDefinition) -> list[Problem]:
    """Cross checks of a parsed definition; an empty list means it is sound."""
    return list(_problems(defn))


def _problems(defn: WorkflowDefinition) -> Iterator[Problem]:
    states, events = defn.states, set(defn.events())
    if defn.initial not in states:
        yield Problem(loc=("initial",), message=f"initial state {defn.initial!r} is not declared")
    for i, t in enumerate(defn.transitions):
        for source in t.source:
            if source != "*" and source not in states:
                yield Problem(loc=("transitions", i, "from"), message=f"unknown state {source!r}")
            elif source != "*" and states[source].final:
                yield from _from_final(defn, i, t, source)
        if t.to not in (PREVIOUS, SAME) and t.to not in states:
            yield Problem(loc=("transitions", i, "to"), message=f"unknown state {t.to!r}")
        for name in t.set:
            if name not in defn.fields:
                yield Problem(loc=("transitions", i, "set", name), message=f"unknown field {name!r}")
    for name, dl in defn.deadlines.items():
        yield from _deadline_problems(defn, name, dl, states, events)
    yield from _reachability(defn)
    yield from _endings(defn)


def _deadline_problems(defn: WorkflowDefinition, name: str, dl: DeadlineSpec,
                       states: dict[str, StateSpec], events: set[str]) -> Iterator[Problem]:
    loc = ("deadlines", name)
    for i, event in enumerate(dl.starts_on):
        if event != OPENED and event not in events:
            yield Problem(loc=(*loc, "starts_on", i), message=f"unknown event {event!r}")
    for i, event in enumerate(dl.stops_on):
        if event not in events:
            yield Problem(loc=(*loc, "stops_on", i), message=f"unknown event {event!r}")
    for i, state in enumerate(dl.pauses_in):
        if state not in states:
            yield Problem(loc=(*loc, "pauses_in", i), message=f"unknown state {state!r}")
    if dl.on_due is not None and dl.on_due not in events:
        yield Problem(loc=(*loc, "on_due"), message=f"unknown event {dl.on_due!r}")
    counting = COUNTING.get(defn.name)
    if dl.owner == "citizen" and counting is not None and counting.time_limit == name:
        yield Problem(loc=(*loc, "owner"), message=f"the reports judge a {defn.name} on time or late by "
                      f"{name!r} (engine.reports.COUNTING): it is the office's duty, not the citizen's")
    ext = dl.extensions
    if ext is not None:
        if ext.event not in events:
            yield Problem(loc=(*loc, "extensions", "event"), message=f"unknown event {ext.event!r}")
        if ext.unit is not None and ext.unit != dl.budget.unit:
            yield Problem(loc=(*loc, "extensions", "unit"),
                          message=f"extension unit {ext.unit!r} differs from the budget's {dl.budget.unit!r}")
    if dl.outlives_final:
        yield from _outliving_problems(defn, name, dl)
    if dl.before is not None:
        yield from _counted_back_problems(defn, name, dl)
    yield from _start_and_miss_problems(defn, name, dl, events)
    previous: date | None = None
    for i, rule in enumerate(dl.rules):
        if previous is not None and rule.effective_from <= previous:
            yield Problem(loc=(*loc, "rules", i, "from"), message="rules must be in increasing `from` order")
        previous = rule.effective_from
        if rule.budget is None and rule.variants is None:
            yield Problem(loc=(*loc, "rules", i), message="a rule needs a budget or variants")


def _from_final(defn: WorkflowDefinition, i: int, t: TransitionSpec, source: str) -> Iterator[Problem]:
    """A transition from a final state: only a self-loop by the stop event of a clock that outlives it."""
    if t.event not in final_duties(defn):
        stay = " (a `@same` transition would keep the case in it)" if t.to == SAME else ""
        yield Problem(loc=("transitions", i, "from"), message=f"state {source!r} is final{stay}")
    elif t.target(source) != source:
        yield Problem(loc=("transitions", i, "to"),
                      message=f"state {source!r} is final: {t.event!r} may fire there only to stay in it (`@same`)")


def clock_states(defn: WorkflowDefinition, dl: DeadlineSpec) -> set[str]:
    """The states a case may be in while the clock ``dl`` runs (guards ignored: never fewer than it can)."""
    back = defn.came_from()
    frontier = [defn.initial] if OPENED in dl.starts_on else []
    for t in defn.transitions:
        if t.event in dl.starts_on:
            frontier += [d for s in defn.sources(t) for d in ([t.target(s)] if t.to != PREVIOUS else back[s])
                         if d is not None]
    running: set[str] = set()
    while frontier:
        state = frontier.pop()
        if state in running or state not in defn.states:
            continue
        running.add(state)
        if defn.states[state].final and not dl.outlives_final:
            continue
        for t in defn.transitions:
            if state in defn.sources(t) and t.event not in dl.stops_on:
                frontier += [t.target(state)] if t.to != PREVIOUS else list(back[state])  # type: ignore[list-item]
    return running


def _outliving_problems(defn: WorkflowDefinition, name: str, dl: DeadlineSpec) -> Iterator[Problem]:
    """Each final state the clock may run in lets one of its stop events fire there (a self-loop)."""
    loc = ("deadlines", name)
    if not dl.stops_on:
        yield Problem(loc=(*loc, "outlives_final"),
                      message="a clock that outlives the final state needs `stops_on`: nothing would ever stop it")
        return
    for state in sorted(s for s in clock_states(defn, dl) if defn.states[s].final):
        for i, event in enumerate(dl.stops_on):
            if not any(state in t.source and t.event == event and t.target(state) == state
                       for t in defn.transitions):
                yield Problem(loc=(*loc, "stops_on", i),
                              message=f"event {event!r} cannot fire from final state {state!r}, where the clock "
                                      f"keeps running: add `{{event: {event}, from: {state}, to: \"@same\"}}`")


def _counted_back_problems(defn: WorkflowDefinition, name: str, dl: DeadlineSpec) -> Iterator[Problem]:
    """``before`` names a date field; such a clock is not paused, extended or varied."""
    assert dl.before is not None
    loc = ("deadlines", name)
    spec = defn.fields.get(dl.before.field)
    if spec is None or spec.type != "date":
        what = "is not declared" if spec is None else f"is a {spec.type}, not a date"
        yield Problem(loc=(*loc, "before", "field"), message=f"field {dl.before.field!r} {what}")
    for key in ("pauses_in", "extensions", "variants", "rules"):
        if getattr(dl, key):
            yield Problem(loc=(*loc, key), message=f"a deadline counted back from a date (`before`) has no `{key}`: "
                                                   "its due day moves only with the date")


def _start_and_miss_problems(defn: WorkflowDefinition, name: str, dl: DeadlineSpec,
                             events: set[str]) -> Iterator[Problem]:
    """``start_from`` names a date field; ``on_missed`` is a system self-loop from every state the duty runs in."""
    loc = ("deadlines", name)
    source = dl.start_from
    if source is not None and source != "received":
        spec = defn.fields.get(source.field)
        if spec is None or spec.type != "date":
            what = "is not declared" if spec is None else f"is a {spec.type}, not a date"
            yield Problem(loc=(*loc, "start_from", "field"), message=f"field {source.field!r} {what}")
    if source is not None and dl.before is not None:
        yield Problem(loc=(*loc, "start_from"), message="a deadline counted back from a date (`before`) "
                                                        "has no `start_from`")
    if dl.plus_field is not None:
        spec = defn.fields.get(dl.plus_field)
        if spec is None or spec.type != "int":
            what = "is not declared" if spec is None else f"is a {spec.type}, not an int"
            yield Problem(loc=(*loc, "plus_field"), message=f"field {dl.plus_field!r} {what}")
    event = dl.on_missed
    if event is None:
        return
    if dl.on_due is not None:
        yield Problem(loc=(*loc, "on_missed"), message="a timer (`on_due`) is never missed: it has no `on_missed`")
        return
    if event not in events:
        yield Problem(loc=(*loc, "on_missed"), message=f"unknown event {event!r}")
        return
    # where its overdue rung can fire: running (not paused), not stopped by a final state
    running = {s for s in clock_states(defn, dl) if s not in dl.pauses_in
               and (dl.outlives_final or not defn.states[s].final)}
    for state in sorted(running):
        if not any(t.event == event and state in defn.sources(t) and t.target(state) == state
                   and "system" in t.roles for t in defn.transitions):
            yield Problem(loc=(*loc, "on_missed"),
                          message=f"event {event!r} cannot fire from state {state!r}, where the clock may run: "
                                  f"add `{{event: {event}, from: {state}, to: \"@same\", roles: [system]}}`")


def _reachability(defn: WorkflowDefinition) -> Iterator[Problem]:
    reached, frontier = {defn.initial}, [defn.initial]
    while frontier:  # `@previous` returns only to states already reached, so it adds none
        state = frontier.pop()
        for t in defn.transitions:
            dest = t.target(state)
            if state in defn.sources(t) and dest is not None and dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    for name in defn.states:
        if name not in reached:
            yield Problem(loc=("states", name), message=f"state {name!r} is unreachable from {defn.initial!r}")
    for i, t in enumerate(defn.transitions):
        if not any(s in reached for s in defn.sources(t)):
            yield Problem(loc=("transitions", i),
                          message=f"event {t.event!r} can never fire: no source state is reachable")


def _endings(defn: WorkflowDefinition) -> Iterator[Problem]:
    """Every non-final state has a way out, and some path from it reaches a final state."""
    if not any(spec.final for spec in defn.states.values()):
        yield Problem(loc=("states",), message="no state is final: a case could never be closed")
        return
    back = defn.came_from()
    out: dict[str, set[str]] = {}
    for t in defn.transitions:
        for source in defn.sources(t):
            dest = t.target(source)
            out.setdefault(source, set()).update(back.get(source, set()) if dest is None else {dest})
    ending = {name for name, spec in defn.states.items() if spec.final}
    changed = True
    while changed:
        changed = False
        for state, targets in out.items():
            if state not in ending and targets & ending:
                ending.add(state)
                changed = True
    for name in defn.states:
        if name in ending:
            continue
        if name not in out:
            yield Problem(loc=("states", name),
                          message=f"state {name!r} is a dead end: it is not final and no transition leaves it")
        else:
            yield Problem(loc=("states", name), message=f"no final state can be reached from state {name!r}")
