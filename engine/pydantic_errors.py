"""Pydantic's error list reduced to what kntc reports: a location and a one-line message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["every_problem", "first_problem"]

Loc = tuple[str | int, ...]


def every_problem(errors: Sequence[Any], unknown: str = "unknown field") -> list[tuple[Loc, str]]:
    """Every pydantic error as (location, message); misspelt keys first, each reported as ``unknown``.

    A misspelt key comes before the "field required" it causes: it names what to fix.
    """
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    rest = [e for e in errors if e["type"] != "extra_forbidden"]
    return [(tuple(e["loc"]), unknown) for e in extra] + [(tuple(e["loc"]), str(e["msg"])) for e in rest]


def first_problem(errors: Sequence[Any], unknown: str = "unknown field") -> tuple[Loc, str]:
    """The pydantic error to report when only one is, as (location, message): see :func:`every_problem`."""
    return every_problem(errors, unknown)[0]
