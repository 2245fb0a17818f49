"""Values the engine hands out (public) and the records it keeps (for stores).

Public values are frozen: a portal reads them, it never edits them. Records are what a
:class:`~engine.ports.Store` persists: one row per case, one per running deadline (the ledger
that also serves as the case's durable timer), one per history entry, one per feed event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

__all__ = [
    "Case",
    "CaseRecord",
    "Deadline",
    "DeadlineLedger",
    "Event",
    "HistoryEntry",
    "NewEvent",
    "TickReport",
    "chain_hash",
]

DeadlineStatus = Literal["running", "paused", "met", "missed"]
GENESIS = "0" * 64
# built once: json.dumps with arguments builds a new encoder on every call
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode


@dataclass(frozen=True, slots=True)
class Deadline:
    """A legal deadline of a case as the portal sees it.

    ``due_at`` is the end (24:00 local) of ``due_date``, the last day of the period; both are
    ``None`` while the clock is paused. ``warn_at`` lists the warning moments still ahead or
    passed, in order. ``amount`` includes granted extensions.
    """

    name: str
    label: str | None
    status: DeadlineStatus
    due_at: datetime | None
    due_date: date | None
    warn_at: tuple[datetime, ...]
    amount: int
    unit: Literal["calendar", "working"]
    legal_basis: str
    started_at: datetime
    extensions: int


@dataclass(frozen=True, slots=True)
class Case:
    """A case (one letter, complaint, denunciation, petition or reception visit)."""

    id: str
    kind: str
    state: str
    version: int
    received_at: datetime
    opened_at: datetime
    updated_at: datetime
    channel: str
    subject: str
    respondent: str
    petitioner_count: int
    fields: dict[str, Any]
    deadlines: Mapping[str, Deadline]  # read-only; each computed on first access
    definition_hash: str
    previous_state: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition in a case's append-only, hash-chained history."""

    seq: int
    event: str
    source: str | None
    target: str
    actor: str
    role: str
    at: datetime
    payload: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the ordered event feed (never carries personal data)."""

    seq: int
    type: str
    case_id: str | None
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one :meth:`Engine.tick` did.

    ``claimed``: timer rows claimed (one per deadline); ``fired``: rungs fired (a row claimed
    after downtime may fire several, in due order); ``skipped``: rows with nothing due after all;
    ``events``: feed events written; ``max_lag_seconds``: how late the latest rung fired.
    """

    now: datetime
    claimed: int
    fired: int
    skipped: int
    events: int
    max_lag_seconds: float


@dataclass(slots=True)
class CaseRecord:
    """The stored row of a case."""

    id: str
    kind: str
    definition_hash: str
    state: str
    previous_state: str | None
    version: int
    received_at: datetime
    opened_at: datetime
    updated_at: datetime
    channel: str
    subject: str
    respondent: str
    content: str
    petitioner_count: int
    fields: dict[str, Any]
    history_head: str = GENESIS

    def context(self, payload: dict[str, Any] | None = None, role: str = "system") -> dict[str, Any]:
        """The names a CEL guard or condition sees for this case."""
        return {"fields": self.fields, "payload": payload or {}, "role": role,
                "case": {"state": self.state, "channel": self.channel,
                         "petitioner_count": self.petitioner_count, "kind": self.kind}}


@dataclass(slots=True)
class DeadlineLedger:
    """The ledger of one deadline of one case, and its timer (``next_fire_at``)."""

    case_id: str
    name: str
    status: DeadlineStatus
    started_at: datetime
    start_date: date
    pauses: list[tuple[date, date | None]] = field(default_factory=list)
    extensions: int = 0
    extra: int = 0
    cycle: int = 0
    next_rung: int = 0
    next_fire_at: datetime | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Not yet met (or closed with its case)."""
        return self.closed_at is None

    @property
    def paused(self) -> bool:
        """The clock is stopped by an open pause in the ledger."""
        return bool(self.pauses) and self.pauses[-1][1] is None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A feed event before the store gives it its ``seq``."""

    type: str
    case_id: str | None
    at: datetime
    data: dict[str, Any]


def chain_hash(previous: str, case_id: str, seq: int, event: str, source: str | None, target: str,
               actor: str, role: str, at: datetime, payload: dict[str, Any]) -> str:
    """The hash of a history row: sha256 over the previous row's hash and this row's content."""
    row = [previous, case_id, seq, event, source, target, actor, role, at.astimezone(UTC).isoformat(), payload]
    body = _CANONICAL(row)
    return hashlib.sha256(body.encode()).hexdigest()
