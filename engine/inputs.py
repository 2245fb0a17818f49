"""Validation of API input: each mistake becomes a ValidationError naming the field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator
from pydantic import ValidationError as PydanticValidationError

from engine.errors import ValidationError
from engine.pydantic_errors import first_problem

__all__ = ["LEVELS", "CaseInput", "ForwardedFrom", "Party", "require_aware", "require_int", "require_text"]

Channel = Literal["post", "reception", "portal", "forwarded"]
#: the levels of the bodies a letter may be forwarded from, lowest first (no district level
#: since 01/07/2025); ``department``: a provincial department (Sở) or a body of the same rank
LEVELS = ("commune", "department", "province", "central")
Level = Literal["commune", "department", "province", "central"]  # LEVELS (tests/unit/test_validation.py)
#: Tolerance for a ``received_at`` slightly ahead of the engine's clock (clock skew of a portal).
FUTURE_TOLERANCE = timedelta(minutes=5)


class Party(BaseModel):
    """A petitioner (complainant, denouncer, visitor): personal data, kept apart from the case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = Field(min_length=1, max_length=200)
    id_number: StrictStr | None = Field(default=None, max_length=32)
    address: StrictStr | None = Field(default=None, max_length=500)
    phone: StrictStr | None = Field(default=None, max_length=32)
    email: StrictStr | None = Field(default=None, max_length=200)


class ForwardedFrom(BaseModel):
    """Who forwarded a letter (``channel="forwarded"``): the body and its level (:data:`LEVELS`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    body: StrictStr = Field(min_length=1, max_length=300)
    level: Level

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
    content: StrictStr = Field(default="", max_length=100_000)
    channel: Channel
    forwarded_from: ForwardedFrom | None = None

    @classmethod
    def parse(cls, *, received_at: datetime, petitioners: Sequence[Mapping[str, Any]], respondent: str,
              subject: str, content: str, channel: str, now: datetime,
              forwarded_from: Mapping[str, Any] | None = None) -> CaseInput:
        """Validate; naive or future ``received_at`` and every other mistake name their field.

        ``forwarded_from`` (``{"body", "level"}``) is taken only with ``channel="forwarded"``; a
        forwarded letter without it is still accepted (callers from before it existed).
        """
        received = require_aware("received_at", received_at)
        if received > now + FUTURE_TOLERANCE:
            raise ValidationError("received_at", f"{received.isoformat()} is in the future")
        if isinstance(petitioners, str | bytes) or not isinstance(petitioners, Sequence):
            raise ValidationError("petitioners", "must be a list of {name, id_number, address}")
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
    """Return ``value`` if it is a timezone-aware datetime, else raise ValidationError naming ``name``."""
    if not isinstance(value, datetime):
        raise ValidationError(name, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(name, "is a naive datetime; give a timezone (e.g. +07:00)")
    return value


def require_text(name: str, value: object) -> str:
    """A required text argument (actor, role, case id) must be a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(name, "must be a non-empty string")
    return value


def require_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """An integer argument within ``low..high`` (bools refused), else ValidationError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValidationError(name, f"must be an integer {bound}")
    return value
