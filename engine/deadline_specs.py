"""The deadline part of a workflow definition: budgets, variants, effective-dated rules, extensions.

Split from :mod:`engine.definitions`, which re-exports every name; the shapes are DESIGN.md §3's
(``budget``, ``variants``, ``rules``, ``extensions``, ``outlives_final``, ``before``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Budget", "CountBack", "DeadlineRule", "DeadlineSpec", "DeadlineVariant", "Extension", "Ident", "Owner",
           "SpecModel", "StartFrom", "Unit"]

Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Unit = Literal["calendar", "working", "month", "year"]
#: Whose time a deadline is: ``office`` (a duty of the unit; running out is an overrun) or ``citizen``
#: (a window the citizen or a third party uses, or a period that runs by itself: not an overrun).
Owner = Literal["office", "citizen"]


class SpecModel(BaseModel):
    """Base of the definition's models: unknown keys are typos, parsed definitions are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(SpecModel):
    """An amount of calendar days, working days, months or years."""

    amount: int = Field(gt=0, le=3660)
    unit: Unit


class DeadlineVariant(SpecModel):
    """A budget chosen when a CEL condition over the case holds (first match wins)."""

    when: str
    budget: Budget
    legal_basis: str | None = None


class DeadlineRule(SpecModel):
    """An effective-dated version of a deadline: applies to clocks starting on or after ``from``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    effective_from: date = Field(alias="from")
    budget: Budget | None = None
    variants: list[DeadlineVariant] | None = None
    legal_basis: str = Field(min_length=1)


class Extension(SpecModel):
    """How far a deadline may be extended: ``max_times`` firings of ``event``, ``amount`` each."""

    event: Ident
    max_times: int = Field(gt=0, le=10)
    amount: int = Field(gt=0, le=3660)
    unit: Unit | None = None
    legal_basis: str | None = None


class CountBack(SpecModel):
    """``before``: the duty is due ``amount`` units before the date in the case field ``field``.

    The due moment is the end of that day (:meth:`engine.calendar.BusinessCalendar.count_back`:
    the date itself is not counted; a day off moves the due day back to the working day before).
    """

    field: Ident
    amount: int = Field(gt=0, le=3660)
    unit: Unit


class StartFrom(SpecModel):
    """``start_from: {field: NAME}``: a clock started by a later event counts from the date in a field."""

    field: Ident


def _budget_optional(schema: dict[str, Any]) -> None:
    """In the JSON Schema a deadline needs ``budget`` or ``before`` (the model fills one from the other)."""
    schema["required"] = [name for name in schema.get("required", []) if name != "budget"]
    schema["anyOf"] = [{"required": ["budget"]}, {"required": ["before"]}]


class DeadlineSpec(SpecModel):
    """A legal deadline: a budget on a pausable clock (DESIGN.md §3–§4).

    ``outlives_final``: the clock keeps running when the case reaches a final state, until one
    of its ``stops_on`` events (fired on the final case by a ``@same`` transition from it), so a
    duty such as sending the termination decision within 3 WD is kept after ``terminate``.
    ``before``: the deadline is counted back from a date field instead of forward from its start
    (:class:`CountBack`); its ``budget`` is then the lead (filled from ``before``).
    ``start_from``: the day a clock started by a ``starts_on`` event counts from: ``received``
    (the case's local date of receipt: B6's transfer clock when the lack of jurisdiction is
    found after opening) or ``{field: NAME}`` (a date field, e.g. K1's ``known_on``; empty: the
    event's own day). Default: the event's day (the receipt for ``opened``).
    ``plus_field``: an int field whose value, in the budget's unit, is added to the budget (K1:
    ``obstacle_days``, time lost to an objective obstacle, LKN Điều 9, is not counted); empty: 0.
    ``on_missed``: an event the tick fires (as system, a self-loop) when this duty's overdue
    rung fires, dated the last day of the time limit, so a clock it starts counts from the day
    the limit expired (LKN Điều 33 k1–k2 "kể từ ngày hết thời hạn giải quyết").
    ``owner``: ``office`` (default: the unit's duty, its overdue is an officer's overrun) or
    ``citizen`` (time to appeal, to sue, to file at all; legal effect, retention): its
    ``deadline.overdue`` says ``"owner": "citizen"`` and no overrun count (hot spots, reports,
    the demo's lateness) takes it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_budget_optional)

    label: str | None = None
    when: str | None = None
    starts_on: list[str] = Field(min_length=1)
    stops_on: list[Ident] = Field(default_factory=list)
    pauses_in: list[Ident] = Field(default_factory=list)
    pause_policy: Literal["exclude", "restart"] = "exclude"
    budget: Budget
    variants: list[DeadlineVariant] = Field(default_factory=list)
    extensions: Extension | None = None
    warn_at: list[float] = Field(default_factory=lambda: [0.5, 0.8])
    legal_basis: str = Field(min_length=1)
    rules: list[DeadlineRule] = Field(default_factory=list)
    on_due: Ident | None = None
    outlives_final: bool = False
    before: CountBack | None = None
    start_from: Literal["received"] | StartFrom | None = None
    on_missed: Ident | None = None
    plus_field: Ident | None = None
    owner: Owner = "office"

    @model_validator(mode="before")
    @classmethod
    def _lead_is_the_budget(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("before"), dict):
            lead = {"amount": value["before"].get("amount"), "unit": value["before"].get("unit")}
            if value.get("budget", lead) != lead:  # a stored definition dumped with both reloads
                raise ValueError("a deadline counted back from a date (`before`) takes its lead from `before`: "
                                 "leave `budget` out")
            value = {**value, "budget": lead}
        return value

    @field_validator("warn_at")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        for fraction in value:
            if not 0 < fraction < 1:
                raise ValueError(f"warning fractions lie strictly between 0 and 1, got {fraction}")
        return sorted(set(value))
