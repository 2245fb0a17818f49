"""One ``transitions`` Machine per definition version, built once and cached by content hash.

A case is data: the machine's transition table is read once, at compile time, into
``CompiledWorkflow.routes`` ((event, state) -> candidate transitions); to fire an event the engine
looks the case's state up there, checks role, payload and the compiled CEL guard, and takes the
target. No model is attached per case and no Machine is built per case
(DESIGN.md §11: a Machine per case costs ~75 KiB and 1/58 of the throughput).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, create_model
from pydantic import ValidationError as PydanticValidationError
from transitions import Machine

from engine.definitions import PREVIOUS, FieldSpec, TransitionSpec, WorkflowDefinition, previous_top
from engine.errors import ValidationError
from engine.expressions import Expression, ExpressionError, compile_expression
from engine.pydantic_errors import first_problem

__all__ = ["CompiledTransition", "CompiledWorkflow", "ExpressionProblem", "compile_expressions", "compile_workflow"]

Loc = tuple[str | int, ...]

_PY_TYPES: dict[str, Any] = {
    "bool": StrictBool, "int": StrictInt, "str": StrictStr, "date": date, "list": list[StrictStr],
}


#: A sample value of each field type, as a case's fields reach CEL (``model_dump(mode="json")``).
_SAMPLES: dict[str, Any] = {"bool": False, "int": 0, "str": "", "date": "2026-01-01", "list": []}


class ExpressionProblem(ValueError):
    """An expression of the definition is wrong; ``loc`` points into the YAML.

    :func:`compile_workflow` raises the first one found, with every one found in ``problems``.
    """

    def __init__(self, loc: Loc, message: str) -> None:
        self.loc = loc
        self.problems: tuple[ExpressionProblem, ...] = (self,)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class CompiledTransition:
    """A transition with its guard compiled; its payload validator is built on first use.

    Built lazily because a CLI command compiles every workflow and fires at most one event:
    building ~70 pydantic models up front cost more than the rest of compiling.
    """

    spec: TransitionSpec
    index: int
    guard: Expression | None
    model_name: str
    _payload_model: list[type[BaseModel]] = field(default_factory=list, repr=False, compare=False)

    @property
    def payload_model(self) -> type[BaseModel]:
        """The pydantic model of the payload (built once)."""
        if not self._payload_model:
            self._payload_model.append(_model(self.model_name, self.spec.payload))
        return self._payload_model[0]

    def validate_payload(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Return the payload with declared fields typed; raise ValidationError naming the field."""
        if not payload and not self.spec.payload:
            return {}
        return _validate(self.payload_model, payload, prefix="payload")


@dataclass(slots=True)
class CompiledWorkflow:
    """A definition ready to run: its machine, validators and compiled expressions."""

    definition: WorkflowDefinition
    content_hash: str
    machine: Machine
    fields_model: type[BaseModel]
    transitions: dict[tuple[str, str, str], list[CompiledTransition]]
    conditions: dict[str, Expression] = field(default_factory=dict)
    event_names: frozenset[str] = frozenset()
    #: the machine's table read once: (event, state) -> ((dest, transition), ...) in declaration order
    routes: dict[tuple[str, str], tuple[tuple[str, CompiledTransition], ...]] = field(default_factory=dict)
    exits: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        events = self.definition.events()
        for state in self.definition.states:
            for event in events:
                found = [(str(t.dest), compiled) for t in self.machine.get_transitions(trigger=event, source=state)
                         for compiled in self.transitions.get((event, state, str(t.dest)), [])]
                if found:
                    self.routes[(event, state)] = tuple(sorted(found, key=lambda pair: pair[1].index))
            self.exits[state] = tuple(e for e in events if (e, state) in self.routes)

    @property
    def name(self) -> str:
        return self.definition.name

    def candidates(self, event: str, state: str, previous_state: str | None) -> list[CompiledTransition]:
        """Transitions of ``event`` out of ``state`` in declaration order (guards not yet checked).

        ``previous_state`` is the stored stack of previous states (or just its top).
        """
        top = previous_top(previous_state)
        return [compiled for dest, compiled in self.routes.get((event, state), ())
                if compiled.spec.to != PREVIOUS or dest == top]

    def events_from(self, state: str) -> list[str]:
        """Every event with a transition out of ``state``, ignoring roles and guards."""
        return list(self.exits.get(state, ()))

    def validate_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the case fields with defaults filled; raise ValidationError naming the field."""
        return _validate(self.fields_model, values, prefix="fields")


def compile_workflow(defn: WorkflowDefinition, *, check_types: bool = False) -> CompiledWorkflow:
    """Build the machine, validators and expressions of ``defn`` (once per definition version).

    Raises the first :class:`ExpressionProblem` (every one found is in its ``problems``). The
    loader passes ``check_types`` (see :func:`compile_expressions`); a version already stored for
    its cases is compiled without it, so that it keeps loading.
    """
    expressions = compile_expressions(defn, check_types=check_types)
    machine = Machine(model=None, states=list(defn.states), initial=defn.initial,
                      auto_transitions=False, send_event=False, ignore_invalid_triggers=False)
    table: dict[tuple[str, str, str], list[CompiledTransition]] = {}
    for index, spec in enumerate(defn.transitions):
        compiled = CompiledTransition(spec=spec, index=index, guard=expressions.get(("transitions", index, "guard")),
                                      model_name=f"{defn.name}_{spec.event}_payload")
        for source, dest in _edges(defn, spec):
            if not table.get((spec.event, source, dest)):
                machine.add_transition(spec.event, source, dest)
            table.setdefault((spec.event, source, dest), []).append(compiled)
    conditions = {expression.source: expression for loc, expression in expressions.items()
                  if loc[0] == "deadlines"}
    return CompiledWorkflow(definition=defn, content_hash=defn.content_hash(), machine=machine,
                            fields_model=_model(f"{defn.name}_fields", defn.fields),
                            transitions=table, conditions=conditions, event_names=frozenset(defn.events()))


def compile_expressions(defn: WorkflowDefinition, *, check_types: bool = False) -> dict[Loc, Expression]:
    """Every guard and deadline condition of ``defn`` compiled, keyed by its place in the YAML.

    With ``check_types``, each is also evaluated once on sample data of the declared types
    (``False``, ``0``, ``""``, an ISO date, ``[]``; ``now``, ``received_at`` and each deadline's
    ``due_date`` an ISO date, its ``status`` ``running``), so that a type error such as
    ``fields.flag + 1`` fails at load, not at fire time; errors that depend on the values
    (division by zero, a missing key) are not reported.
    Raises the first :class:`ExpressionProblem`, with every one found in its ``problems``.
    """
    fields = _sample(defn.fields)
    case = {"state": defn.initial, "channel": "post", "petitioner_count": 0, "kind": defn.name}
    day = _SAMPLES["date"]
    clocks = {name: {"status": "running", "due_date": day} for name in defn.deadlines}
    compiled: dict[Loc, Expression] = {}
    problems: list[ExpressionProblem] = []
    for loc, source, payload, role in _expressions(defn):
        try:
            expression = compile_expression(source, fields=fields, payload=payload, deadlines=defn.deadlines)
        except ExpressionError as exc:
            problems.append(ExpressionProblem(loc, f"expression {source!r}: {exc}"))
            continue
        if loc[0] == "deadlines" and "group" in expression.roots:
            problems.append(ExpressionProblem(loc, f"expression {source!r}: group.* is read only by transition "
                                                   "guards (a deadline's condition is evaluated without the group)"))
            continue
        sample = {"fields": fields, "payload": _sample(payload), "case": case, "role": role, "now": day,
                  "received_at": day, "deadlines": clocks}
        reason = expression.type_error(sample) if check_types else None
        if reason is not None:
            problems.append(ExpressionProblem(loc, f"expression {source!r}: {reason}"))
            continue
        compiled[loc] = expression
    if problems:
        problems[0].problems = tuple(problems)
        raise problems[0]
    return compiled


def _expressions(defn: WorkflowDefinition) -> Iterator[tuple[Loc, str, Mapping[str, FieldSpec], str]]:
    """(place, source, payload fields it may read, a role that evaluates it) of every expression."""
    for index, spec in enumerate(defn.transitions):
        if spec.guard is not None:
            yield ("transitions", index, "guard"), spec.guard, spec.payload, spec.roles[0]
    for name, dl in defn.deadlines.items():
        if dl.when is not None:
            yield ("deadlines", name, "when"), dl.when, {}, "system"
        for i, variant in enumerate(dl.variants):
            yield ("deadlines", name, "variants", i, "when"), variant.when, {}, "system"
        for r, rule in enumerate(dl.rules):
            for i, variant in enumerate(rule.variants or []):
                yield ("deadlines", name, "rules", r, "variants", i, "when"), variant.when, {}, "system"


def _sample(specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """A value of each field's declared type (its first choice, if it has choices of that type)."""
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        value = _SAMPLES[spec.type]
        if spec.choices and type(spec.choices[0]) is type(value):
            value = spec.choices[0]
        values[name] = value
    return values


def _edges(defn: WorkflowDefinition, spec: TransitionSpec) -> Iterator[tuple[str, str]]:
    for source in defn.sources(spec):
        dest = spec.target(source)
        if dest is not None:
            yield source, dest
            continue
        for dest, state in defn.states.items():  # back to whichever state the case came from
            if dest != source and not state.final:
                yield source, dest


def _choices(allowed: list[Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and value not in allowed:
            raise ValueError(f"must be one of {allowed}")
        return value
    return check


def _model(name: str, specs: Mapping[str, FieldSpec]) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for key, spec in specs.items():
        annotation: Any = _PY_TYPES[spec.type]
        if spec.choices is not None:
            annotation = Annotated[annotation, AfterValidator(_choices(spec.choices))]
        if spec.required:
            definitions[key] = (annotation, ...)
        else:
            definitions[key] = (annotation | None, spec.default)
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **definitions)
    return model


def _validate(model: type[BaseModel], values: Mapping[str, Any], *, prefix: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValidationError(prefix, f"must be a mapping, got {type(values).__name__}")
    try:
        return model.model_validate(dict(values)).model_dump(mode="json")
    except PydanticValidationError as exc:
        loc, message = first_problem(exc.errors())
        raise ValidationError(".".join(str(part) for part in (prefix, *loc)), message) from None
