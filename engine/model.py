"""Values the engine hands out (public) and the records it keeps (for stores).

Public values are frozen: a portal reads them, it never edits them. Records are what a
:class:`~engine.ports.Store` persists: one row per case, one per running deadline (the ledger
that also serves as the case's durable timer), one per history entry, one per feed event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DAEMON",
    "PRIORITIES",
    "RUNG_DUE",
    "SYSTEM",
    "UNGROUPED",
    "Case",
    "CaseRecord",
    "Deadline",
    "DeadlineLedger",
    "Event",
    "Flag",
    "HistoryEntry",
    "JobState",
    "NewEvent",
    "OutboxMessage",
    "TickReport",
    "chain_hash",
    "flags_of",
]

DeadlineStatus = Literal["running", "paused", "met", "missed"]
Priority = Literal["normal", "high", "urgent"]
OutboxStatus = Literal["pending", "sent", "dead"]
GENESIS = "0" * 64
#: The role (and actor) of what the engine does by itself; the daemon acts as :data:`DAEMON`.
SYSTEM = "system"
#: what ``group.*`` reads for a case in no content group (engine.group_facts): nothing
#: transferred, guided or terminated, the case alone
UNGROUPED: Mapping[str, Any] = MappingProxyType({"transferred": False, "guided": False, "terminated_on": None,
                                                 "refile_by": None, "size": 1})
DAEMON = "kntc-daemon"
PRIORITIES: tuple[Priority, ...] = ("normal", "high", "urgent")
#: Rungs are keyed by what they are: a warning by its fraction of the budget in per-mille
#: (0.5 -> 500), the due moment by 1000. A rung added later (a period's extra warning) never
#: shifts the key of another one.
RUNG_DUE = 1000
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
    unit: Literal["calendar", "working", "month", "year"]
    legal_basis: str
    started_at: datetime
    extensions: int


@dataclass(frozen=True, slots=True)
class Flag:
    """A hot-spot flag on a case (DESIGN.md §2): what it is, and who or which rule set it.

    ``type``: crowded, early_crowded, complex, prolonged, skip_level, circular_forwarding;
    ``source``: ``rule`` (a detection rule, or a configured rule) or ``officer`` (a named
    officer's act, e.g. ``mark_complex``); ``by``: the rule's name or the officer's id;
    ``since``: when it was set; ``hot_spot``: the id of the hot spot it belongs to (None for a
    mark not grouped); ``detail``: e.g. the complexity criterion. Never personal data.
    """

    type: str
    source: Literal["rule", "officer"]
    by: str
    since: datetime
    hot_spot: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def flags_of(records: Iterable[Mapping[str, Any]], tz: tzinfo) -> tuple[Flag, ...]:
    """Stored flags (:attr:`CaseRecord.flags`: ``since`` as ISO text) as :class:`Flag` values, times in ``tz``.

    A ``since`` stored without an offset is read as UTC (the stores keep UTC).
    """
    found = []
    for r in records:
        since = datetime.fromisoformat(r["since"]) if isinstance(r["since"], str) else r["since"]
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        found.append(Flag(type=r["type"], source=r["source"], by=r["by"], since=since.astimezone(tz),
                          hot_spot=r.get("hot_spot"), detail=dict(r.get("detail") or {})))
    return tuple(found)


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
    priority: Priority = "normal"
    #: who sent the letter when ``channel`` is ``forwarded``: {"body": ..., "level": ...}
    forwarded_from: Mapping[str, str] | None = None
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition in a case's append-only, hash-chained history.

    ``at`` is when the act was recorded; ``occurred_at`` when it happened, for an act entered
    late (``fire(..., occurred_at=...)``, DESIGN.md §4 "Back-entry"), else None: it happened
    when it was recorded.
    """

    seq: int
    event: str
    source: str | None
    target: str
    actor: str
    role: str
    at: datetime
    payload: dict[str, Any]
    hash: str
    occurred_at: datetime | None = None


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
    ``events``: feed events written (reactions included); ``max_lag_seconds``: how late the
    latest rung fired; ``failed``: rungs or jobs that raised and were put off for a retry;
    ``dead``: those that raised their last allowed time; ``jobs``: scheduled jobs run.
    """

    now: datetime
    claimed: int
    fired: int
    skipped: int
    events: int
    max_lag_seconds: float
    failed: int = 0
    dead: int = 0
    jobs: int = 0


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
    priority: Priority = "normal"
    #: {"body": ..., "level": ...} of a forwarded letter (see engine.inputs.LEVELS), else None
    forwarded_from: dict[str, str] | None = None
    #: the case's flags as stored (Flag fields, ``since`` as ISO text); written only by
    #: Transaction.set_case_flags, never by update_case
    flags: list[dict[str, Any]] = field(default_factory=list)

    def context(self, payload: dict[str, Any] | None = None, role: str = SYSTEM, *, now: datetime | None = None,
                tz: tzinfo | None = None, deadlines: Mapping[str, Mapping[str, Any]] | None = None,
                group: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The names a CEL guard or condition sees for this case (see :mod:`engine.expressions`).

        ``now`` (default: the case's last change) and ``received_at`` are ISO local dates in ``tz``
        (default: the timezone the datetimes carry); ``deadlines`` maps each declared deadline to
        its ``status`` and ``due_date`` (the caller builds it from the ledgers; default: none).
        ``group``: the facts of :mod:`engine.group_facts` (default: :data:`UNGROUPED`, those of a
        case in no group: the caller did not read the group).
        """
        moment = now or self.updated_at
        return {"fields": self.fields, "payload": payload or {}, "role": role,
                "case": {"state": self.state, "channel": self.channel,
                         "petitioner_count": self.petitioner_count, "kind": self.kind},
                "now": (moment.astimezone(tz) if tz else moment).date().isoformat(),
                "received_at": (self.received_at.astimezone(tz) if tz else self.received_at).date().isoformat(),
                "deadlines": deadlines or {}, "group": UNGROUPED if group is None else group}


@dataclass(slots=True)
class DeadlineLedger:
    """The ledger of one deadline of one case, and its timer (``next_fire_at``).

    ``extended_by``: units added by extensions; ``fired_through``: the key of the last rung fired
    in this ``cycle`` (see :data:`RUNG_DUE`; 0 before the first); ``attempts`` and ``last_error``:
    how often firing the next rung raised (reset when it fires); ``closed_by``: the event that
    closed the clock (a stopping event, or the one that moved the case to a final state).
    """

    case_id: str
    name: str
    status: DeadlineStatus
    started_at: datetime
    start_date: date
    pauses: list[tuple[date, date | None]] = field(default_factory=list)
    extensions: int = 0
    extended_by: int = 0
    cycle: int = 0
    fired_through: int = 0
    next_fire_at: datetime | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    attempts: int = 0
    last_error: str | None = None

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


@dataclass(slots=True)
class JobState:
    """The stored state of one slot of a scheduled job (see :mod:`engine.jobs`).

    ``done_at`` set: the slot ran; else it raised ``attempts`` times and is tried again at
    ``next_try_at`` (None: dead).
    """

    done_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    next_try_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message for one channel: a reaction's notification, or a feed event whose delivery failed.

    ``key`` is the idempotency key, stable across retries (a receiver drops a repeat by it).
    """

    id: int
    channel: str
    kind: str
    case_id: str | None
    data: dict[str, Any]
    status: OutboxStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None = None
    idempotency_key: str | None = None

    @property
    def key(self) -> str:
        """The idempotency key: the one it was queued with (a feed event's), else from its id."""
        return self.idempotency_key or f"kntc-{self.channel}-{self.id}"


def chain_hash(previous: str, case_id: str, entry: HistoryEntry) -> str:
    """The hash of a history row: sha256 over the previous row's hash and this row's content.

    ``occurred_at`` joins the hashed content only when it is set (a back-dated act), so rows
    written before it existed (and every row not back-dated) hash as they always did.
    """
    row = [previous, case_id, entry.seq, entry.event, entry.source, entry.target, entry.actor, entry.role,
           entry.at.astimezone(UTC).isoformat(), entry.payload]
    if entry.occurred_at is not None:
        row.append({"occurred_at": entry.occurred_at.astimezone(UTC).isoformat()})
    body = _CANONICAL(row)
    return hashlib.sha256(body.encode()).hexdigest()
