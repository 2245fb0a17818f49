"""One ``transitions`` Machine per definition version, built once and cached by content hash.

A case is data: to fire an event the engine looks the case's state up in the machine's
transition table (``Machine.get_transitions``), checks role, payload and the compiled CEL guard,
and takes the target. No model is attached per case and no Machine is built per case
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

from engine.definitions import PREVIOUS, FieldSpec, TransitionSpec, WorkflowDefinition
from engine.errors import ValidationError, first_problem
from engine.expressions import Expression, ExpressionError, compile_expression

__all__ = ["CompiledTransition", "CompiledWorkflow", "ExpressionProblem", "compile_workflow"]

_PY_TYPES: dict[str, Any] = {
    "bool": StrictBool, "int": StrictInt, "str": StrictStr, "date": date, "list": list[StrictStr],
}


class ExpressionProblem(ValueError):
    """An expression of the definition failed to compile; ``loc`` points into the YAML."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class CompiledTransition:
    """A transition with its guard compiled and its payload validator built."""

    spec: TransitionSpec
    index: int
    guard: Expression | None
    payload_model: type[BaseModel]

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
        """Transitions of ``event`` out of ``state`` in declaration order (guards not yet checked)."""
        return [compiled for dest, compiled in self.routes.get((event, state), ())
                if compiled.spec.to != PREVIOUS or dest == previous_state]

    def events_from(self, state: str) -> list[str]:
        """Every event with a transition out of ``state``, ignoring roles and guards."""
        return list(self.exits.get(state, ()))

    def validate_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the case fields with defaults filled; raise ValidationError naming the field."""
        return _validate(self.fields_model, values, prefix="fields")


def compile_workflow(defn: WorkflowDefinition) -> CompiledWorkflow:
    """Build the machine, validators and expressions of ``defn`` (once per definition version)."""
    field_names = set(defn.fields)
    machine = Machine(model=None, states=list(defn.states), initial=defn.initial,
                      auto_transitions=False, send_event=False, ignore_invalid_triggers=False)
    table: dict[tuple[str, str, str], list[CompiledTransition]] = {}
    for index, spec in enumerate(defn.transitions):
        guard = None
        if spec.guard is not None:
            guard = _compile(("transitions", index, "guard"), spec.guard, field_names, spec.payload)
        compiled = CompiledTransition(spec=spec, index=index, guard=guard,
                                      payload_model=_model(f"{defn.name}_{spec.event}_payload", spec.payload))
        for source, dest in _edges(defn, spec):
            if not table.get((spec.event, source, dest)):
                machine.add_transition(spec.event, source, dest)
            table.setdefault((spec.event, source, dest), []).append(compiled)
    conditions: dict[str, Expression] = {}
    for name, dl in defn.deadlines.items():
        if dl.when is not None:
            conditions[dl.when] = _compile(("deadlines", name, "when"), dl.when, field_names, {})
        for i, variant in enumerate(dl.variants):
            conditions[variant.when] = _compile(("deadlines", name, "variants", i, "when"),
                                                variant.when, field_names, {})
        for r, rule in enumerate(dl.rules):
            for i, variant in enumerate(rule.variants or []):
                conditions[variant.when] = _compile(("deadlines", name, "rules", r, "variants", i, "when"),
                                                    variant.when, field_names, {})
    return CompiledWorkflow(definition=defn, content_hash=defn.content_hash(), machine=machine,
                            fields_model=_model(f"{defn.name}_fields", defn.fields),
                            transitions=table, conditions=conditions, event_names=frozenset(defn.events()))


def _edges(defn: WorkflowDefinition, spec: TransitionSpec) -> Iterator[tuple[str, str]]:
    sources = [s for s, st in defn.states.items() if not st.final] if spec.source == ["*"] else spec.source
    for source in sources:
        if spec.to != PREVIOUS:
            yield source, spec.to
            continue
        for dest, state in defn.states.items():  # back to whichever state the case came from
            if dest != source and not state.final:
                yield source, dest


def _compile(loc: tuple[str | int, ...], source: str, fields: set[str],
             payload: Mapping[str, FieldSpec]) -> Expression:
    try:
        return compile_expression(source, fields=fields, payload=payload)
    except ExpressionError as exc:
        raise ExpressionProblem(loc, f"expression {source!r}: {exc}") from exc


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
