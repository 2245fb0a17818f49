"""Validation of API input: each mistake becomes a ValidationError naming the field.

Sizes are bounded by :class:`Limits` (``config.yaml`` ``limits:``, carried by the runtime): the
content's characters, the petitioners' count, the bytes of an event's payload and of a case's
fields. Text may not hold control characters other than tab, line feed and carriage return (a
NUL is refused by PostgreSQL and by every report format).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from engine.errors import ValidationError
from engine.pydantic_errors import first_problem

__all__ = ["DEFAULT_LIMITS", "LEVELS", "CaseInput", "ForwardedFrom", "Limits", "Party", "check_control",
           "require_aware", "require_int", "require_text"]

Channel = Literal["post", "reception", "portal", "forwarded"]
#: the levels of the bodies a letter may be forwarded from, lowest first (no district level
#: since 01/07/2025); ``department``: a provincial department (Sở) or a body of the same rank
LEVELS = ("commune", "department", "province", "central")
Level = Literal["commune", "department", "province", "central"]  # LEVELS (tests/unit/test_validation.py)
#: Tolerance for a ``received_at`` slightly ahead of the engine's clock (clock skew of a portal).
FUTURE_TOLERANCE = timedelta(minutes=5)
#: C0 control characters and DEL, but tab, line feed and carriage return
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: mappings and lists nested deeper than this in a payload or fields are refused
MAX_NESTING = 32


@dataclass(frozen=True, slots=True)
class Limits:
    """How big one API input may be; each bound is refused with a ValidationError naming the field.

    ``max_payload_bytes`` and ``max_fields_bytes`` count the UTF-8 bytes of the values' text (keys
    included, numbers as written), about their size as JSON.
    """

    max_content_chars: int = 100_000
    max_petitioners: int = 1_000
    max_payload_bytes: int = 256 * 1024
    max_fields_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        for name in ("max_content_chars", "max_petitioners", "max_payload_bytes", "max_fields_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"limits.{name}", "must be an integer of at least 1")

    def check_content(self, content: object) -> None:
        """Refuse a content longer than :attr:`max_content_chars` (field ``content``)."""
        if isinstance(content, str) and len(content) > self.max_content_chars:
            raise ValidationError("content", f"has {len(content)} characters, more than the "
                                             f"{self.max_content_chars} allowed")

    def check_petitioners(self, petitioners: object) -> None:
        """Refuse more than :attr:`max_petitioners` petitioners (field ``petitioners``)."""
        if isinstance(petitioners, Sequence) and not isinstance(petitioners, str | bytes) \
                and len(petitioners) > self.max_petitioners:
            raise ValidationError("petitioners", f"has {len(petitioners)} entries, more than the "
                                                 f"{self.max_petitioners} allowed")

    def check_payload(self, payload: object) -> None:
        """Refuse a payload over :attr:`max_payload_bytes`, nested too deep or holding control characters."""
        _check_values("payload", payload, self.max_payload_bytes)

    def check_fields(self, fields: object) -> None:
        """Refuse case fields over :attr:`max_fields_bytes`, nested too deep or holding control characters."""
        _check_values("fields", fields, self.max_fields_bytes)


DEFAULT_LIMITS = Limits()


def _check_values(name: str, value: object, budget: int) -> None:
    """Walk a payload or fields mapping: its size against ``budget``, its depth, its text (stops early)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValidationError(name, f"must be a mapping of names to values, got {type(value).__name__}")
    used = 0

    def walk(node: object, where: tuple[str | int, ...]) -> None:
        nonlocal used
        if len(where) > MAX_NESTING:
            raise ValidationError(_field(name, where), f"is nested more than {MAX_NESTING} levels deep")
        if isinstance(node, str):
            if len(node) > budget - used:  # at least a byte a character: too big, whatever its text
                raise ValidationError(name, f"is larger than the {budget} bytes allowed")
            used += len(node.encode("utf-8", "surrogatepass"))
            if _CONTROL.search(node):
                check_control(_field(name, where), node)
        elif isinstance(node, Mapping):
            for key, item in node.items():
                used += len(key.encode("utf-8", "surrogatepass")) + 2 if isinstance(key, str) else 8
                walk(item, (*where, key if isinstance(key, str) else "?"))
        elif isinstance(node, list | tuple):
            for index, item in enumerate(node):
                used += 1
                walk(item, (*where, index))
        elif isinstance(node, int) and node.bit_length() >= 64:
            used += node.bit_length() // 3
        else:  # other numbers, booleans, dates; the field's own validation judges any other value
            used += 8
        if used > budget:
            raise ValidationError(name, f"is larger than the {budget} bytes allowed")

    walk(value, ())


def _field(name: str, where: tuple[str | int, ...]) -> str:
    """``payload.reason[2]``: the place of a value, a key that is not a plain name quoted."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" if p.isidentifier() else f"[{p!r}]" for p in where]
    return name + "".join(parts)


def check_control(name: str, value: str) -> str:
    """Refuse text with a control character other than tab, line feed or carriage return (naming ``name``)."""
    found = _CONTROL.search(value)
    if found is not None:
        raise ValidationError(name, f"holds the control character {ord(found.group()):#04x} at position "
                                    f"{found.start()}")
    return value


def _no_control(value: str | None) -> str | None:
    """A pydantic validator: text without control characters (tab, line feed, carriage return allowed)."""
    found = _CONTROL.search(value) if value is not None else None
    if found is not None:
        raise ValueError(f"holds the control character {ord(found.group()):#04x} at position {found.start()}")
    return value


class Party(BaseModel):
    """A petitioner (complainant, denouncer, visitor): personal data, kept apart from the case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(min_length=1, max_length=200)
    id_number: StrictStr | None = Field(default=None, max_length=32)
    address: StrictStr | None = Field(default=None, max_length=500)
    phone: StrictStr | None = Field(default=None, max_length=32)
    email: StrictStr | None = Field(default=None, max_length=200)

    _text = field_validator("name", "id_number", "address", "phone", "email")(_no_control)


class ForwardedFrom(BaseModel):
    """Who forwarded a letter (``channel="forwarded"``): the body and its level (:data:`LEVELS`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    body: StrictStr = Field(min_length=1, max_length=300)
    level: Level

    _text = field_validator("body")(_no_control)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class CaseInput(BaseModel):
    """The common data of a new case, whatever its workflow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    received_at: datetime
    petitioners: list[Party]
    respondent: StrictStr = Field(max_length=500)
    subject: StrictStr = Field(min_length=1, max_length=500)
    content: StrictStr = ""  # bounded by Limits.max_content_chars (parse)
    channel: Channel
    forwarded_from: ForwardedFrom | None = None

    _text = field_validator("respondent", "subject", "content")(_no_control)

    @classmethod
    def parse(cls, *, received_at: datetime, petitioners: Sequence[Mapping[str, Any]], respondent: str,
              subject: str, content: str, channel: str, now: datetime,
              forwarded_from: Mapping[str, Any] | None = None, limits: Limits = DEFAULT_LIMITS) -> CaseInput:
        """Validate; naive or future ``received_at`` and every other mistake name their field.

        ``limits`` bounds the content's length and the petitioners' count. ``forwarded_from``
        (``{"body", "level"}``) is taken only with ``channel="forwarded"``; a forwarded letter
        without it is still accepted (callers from before it existed).
        """
        received = require_aware("received_at", received_at)
        if received > now + FUTURE_TOLERANCE:
            raise ValidationError("received_at", f"{received.isoformat()} is in the future")
        if isinstance(petitioners, str | bytes) or not isinstance(petitioners, Sequence):
            raise ValidationError("petitioners", "must be a list of {name, id_number, address}")
        limits.check_petitioners(petitioners)
        limits.check_content(content)
        forwarded = dict(forwarded_from) if isinstance(forwarded_from, Mapping) else forwarded_from
        try:
            data = cls.model_validate({"received_at": received.astimezone(UTC), "petitioners": list(petitioners),
                                       "respondent": respondent, "subject": subject, "content": content,
                                       "channel": channel, "forwarded_from": forwarded})
        except PydanticValidationError as exc:
            loc, message = first_problem(exc.errors())
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            raise ValidationError(where or "case", message) from None
        if data.forwarded_from is not None and data.channel != "forwarded":
            raise ValidationError("forwarded_from", f'is given only with channel="forwarded", not "{data.channel}"')
        return data


def require_aware(name: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime of years 2..9998, else raise ValidationError naming it."""
    if not isinstance(value, datetime):
        raise ValidationError(name, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(name, "is a naive datetime; give a timezone (e.g. +07:00)")
    try:  # a moment any time zone can show: years 2 to 9998
        in_range = 1 < value.astimezone(UTC).year < 9999
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValidationError(name, f"{value.isoformat()} is out of range (years 2 to 9998)")
    return value


def require_text(name: str, value: object) -> str:
    """A required text argument (actor, role, case id) must be a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(name, "must be a non-empty string")
    return check_control(name, value)


def require_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """An integer argument within ``low..high`` (bools refused), else ValidationError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValidationError(name, f"must be an integer {bound}")
    return value
