"""Rows <-> engine records, and Python values <-> driver values.

The store runs its statements on the raw DBAPI cursor (see ``store.py``), so nothing of
SQLAlchemy's type system converts values on the way in or out: this module does it, once per
value, with the cheapest conversion each driver accepts. SQLite keeps moments as naive UTC text
(``2026-03-02 02:00:00.000000``, which sorts in time order) and JSON as text; PostgreSQL takes
aware datetimes (``timestamptz``) and ``Jsonb`` as they are.

Rows are tuples in the tables' column order (every ``select`` in ``statements.py`` selects whole
tables; the orders are spelt out in ``columns.py``, so no SQLAlchemy is imported to read a row),
and parameter dicts are keyed by column name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from adapters.sql.columns import (
    CASE_COLUMNS,
    CASE_GROUP_COLUMNS,
    CASE_STATE_COLUMNS,
    DEADLINE_COLUMNS,
    DUTY_COLUMNS,
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    HOT_SPOT_COLUMNS,
    OUTBOX_COLUMNS,
    PEOPLE_COLUMNS,
)
from engine.grouping import GroupMember, HotSpotRecord
from engine.model import CaseRecord, DeadlineLedger, Event, HistoryEntry, JobState, NewEvent, OutboxMessage
from engine.people import Person
from engine.roster import Duty

__all__ = [
    "CASE_COLUMNS",
    "CASE_GROUP_COLUMNS",
    "CASE_STATE_COLUMNS",
    "CASE_VERSION",
    "DEADLINE_COLUMNS",
    "EVENT_COLUMNS",
    "HISTORY_COLUMNS",
    "HOT_SPOT_COLUMNS",
    "OUTBOX_COLUMNS",
    "Codec",
    "case_record",
    "case_row",
    "case_state_row",
    "deadline_ledger",
    "deadline_row",
    "due_pair",
    "duty",
    "duty_row",
    "event",
    "event_row",
    "group_member",
    "history_entry",
    "history_row",
    "hot_spot",
    "hot_spot_row",
    "job_state",
    "outbox_message",
    "outbox_row",
    "person",
    "person_row",
]

CASE_VERSION = CASE_COLUMNS.index("version")

_CASE_MOMENTS = ("received_at", "opened_at", "updated_at")
_DEADLINE_MOMENTS = ("started_at", "next_fire_at", "due_at", "closed_at")
# one encoder for all: json.dumps with arguments builds a new encoder on every call
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Codec:
    """Python values <-> driver values, per column kind (datetime, date, JSON)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        if postgres:
            from psycopg.types.json import Jsonb
            self._jsonb = Jsonb

    def dt_in(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value if self.postgres else value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def dt_out(self, value: Any) -> datetime | None:
        return None if value is None else self.dt_required(value)

    def dt_required(self, value: Any) -> datetime:
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def json_in(self, value: Any) -> Any:
        return self._jsonb(value) if self.postgres else _ENCODE(value)

    def json_out(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value

    def date_in(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def date_out(self, value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value


# cases ----------------------------------------------------------------------------------------
def case_row(c: Codec, case: CaseRecord, *, flags: bool = True) -> dict[str, Any]:
    """Every column of the case, for ``insert_case``; without ``flags``, for ``update_case``."""
    row = {name: getattr(case, name) for name in CASE_COLUMNS}
    row["received_at"], row["opened_at"] = c.dt_in(case.received_at), c.dt_in(case.opened_at)
    row["updated_at"], row["fields"] = c.dt_in(case.updated_at), c.json_in(case.fields)
    # SQL NULL, not JSON null, for a letter that names no forwarding body
    row["forwarded_from"] = None if case.forwarded_from is None else c.json_in(case.forwarded_from)
    if flags:
        row["flags"] = c.json_in(case.flags)
    else:
        del row["flags"]
    return row


def case_state_row(c: Codec, case: CaseRecord) -> dict[str, Any]:
    """The columns a transition moves (``CASE_STATE_COLUMNS``): less to encode and to write."""
    return {"state": case.state, "previous_state": case.previous_state, "version": case.version,
            "updated_at": c.dt_in(case.updated_at), "history_head": case.history_head}


def case_record(c: Codec, row: Sequence[Any]) -> CaseRecord:
    """A fresh record from a ``kntc_cases`` row (the caller may mutate it)."""
    m = dict(zip(CASE_COLUMNS, row, strict=True))
    for name in _CASE_MOMENTS:
        m[name] = c.dt_out(m[name])
    m["fields"], m["flags"] = c.json_out(m["fields"]), c.json_out(m["flags"])
    m["forwarded_from"] = c.json_out(m["forwarded_from"])
    return CaseRecord(**m)


# deadlines ------------------------------------------------------------------------------------
def deadline_row(c: Codec, d: DeadlineLedger) -> dict[str, Any]:
    """Every column of the ledger; ``pauses`` as JSON ``[[paused, resumed or null], ...]``."""
    row = {name: getattr(d, name) for name in DEADLINE_COLUMNS}
    for name in _DEADLINE_MOMENTS:
        row[name] = c.dt_in(row[name])
    row["start_date"] = c.date_in(d.start_date)
    row["pauses"] = c.json_in([[p.isoformat(), r.isoformat() if r else None] for p, r in d.pauses])
    return row


def deadline_ledger(c: Codec, row: Sequence[Any]) -> DeadlineLedger:
    """A fresh ledger from a ``kntc_deadlines`` row (the caller may mutate it)."""
    m = dict(zip(DEADLINE_COLUMNS, row, strict=True))
    for name in _DEADLINE_MOMENTS:
        m[name] = c.dt_out(m[name])
    m["start_date"] = c.date_out(m["start_date"])
    m["pauses"] = [(date.fromisoformat(p), date.fromisoformat(r) if r else None) for p, r in c.json_out(m["pauses"])]
    return DeadlineLedger(**m)


def due_pair(c: Codec, row: Sequence[Any]) -> tuple[CaseRecord, DeadlineLedger]:
    """A ``claim_due_*`` row: the deadline's columns, then its case's (``select(deadlines, cases)``)."""
    split = len(DEADLINE_COLUMNS)
    return case_record(c, row[split:]), deadline_ledger(c, row[:split])


# history and feed -----------------------------------------------------------------------------
def history_row(c: Codec, case_id: str, entry: HistoryEntry) -> dict[str, Any]:
    return {"case_id": case_id, "seq": entry.seq, "event": entry.event, "source": entry.source,
            "target": entry.target, "actor": entry.actor, "role": entry.role, "at": c.dt_in(entry.at),
            "payload": c.json_in(entry.payload), "hash": entry.hash, "occurred_at": c.dt_in(entry.occurred_at)}


def history_entry(c: Codec, row: Sequence[Any]) -> HistoryEntry:
    m = dict(zip(HISTORY_COLUMNS, row, strict=True))
    return HistoryEntry(seq=m["seq"], event=m["event"], source=m["source"], target=m["target"], actor=m["actor"],
                        role=m["role"], at=c.dt_required(m["at"]), payload=c.json_out(m["payload"]), hash=m["hash"],
                        occurred_at=c.dt_out(m["occurred_at"]))


def event_row(c: Codec, e: NewEvent) -> dict[str, Any]:
    """A feed event without its ``seq`` (the dialect's transaction assigns it)."""
    return {"type": e.type, "case_id": e.case_id, "at": c.dt_in(e.at), "data": c.json_in(e.data)}


def event(c: Codec, row: Sequence[Any]) -> Event:
    return Event(seq=row[0], type=row[1], case_id=row[2], at=c.dt_required(row[3]), data=c.json_out(row[4]))


# outbox and jobs ------------------------------------------------------------------------------
def outbox_row(c: Codec, channel: str, kind: str, case_id: str | None, data: dict[str, Any], at: datetime,
               attempts: int, last_error: str | None, next_attempt_at: datetime | None,
               key: str | None) -> dict[str, Any]:
    """A new pending message (its id is the database's)."""
    return {"channel": channel, "kind": kind, "case_id": case_id, "data": c.json_in(data), "status": "pending",
            "attempts": attempts, "last_error": last_error, "next_attempt_at": c.dt_in(next_attempt_at or at),
            "created_at": c.dt_in(at), "sent_at": None, "idempotency_key": key}


def outbox_message(c: Codec, row: Sequence[Any]) -> OutboxMessage:
    m = dict(zip(OUTBOX_COLUMNS, row, strict=True))
    for name in ("next_attempt_at", "created_at", "sent_at"):
        m[name] = c.dt_out(m[name])
    m["data"] = c.json_out(m["data"])
    return OutboxMessage(**m)


def job_state(c: Codec, row: Sequence[Any]) -> JobState:
    """``(done_at, attempts, last_error, next_try_at)`` as a JobState."""
    return JobState(done_at=c.dt_out(row[0]), attempts=row[1], last_error=row[2], next_try_at=c.dt_out(row[3]))


# content groups and hot spots ------------------------------------------------------------------
def group_member(c: Codec, row: Sequence[Any]) -> GroupMember:
    """A ``group_members_all`` row: (id, received_at, petitioner_count, state, kind, channel, resolved_at,
    overdues, forwarded_from, transferred_to, flags, fields)."""
    return GroupMember(case_id=row[0], received_at=c.dt_required(row[1]), petitioner_count=row[2], state=row[3],
                       kind=row[4], channel=row[5], resolved_at=c.dt_out(row[6]), overdues=int(row[7] or 0),
                       forwarded_from=c.json_out(row[8]), transferred_to=tuple(c.json_out(row[9]) or ()),
                       flags=tuple(c.json_out(row[10]) or ()), fields=c.json_out(row[11]))


def hot_spot_row(c: Codec, spot: HotSpotRecord) -> dict[str, Any]:
    """Every column of a hot spot."""
    return {"id": spot.id, "type": spot.type, "group_id": spot.group_id, "case_ids": c.json_in(spot.case_ids),
            "reasons": c.json_in(spot.reasons), "detected_at": c.dt_in(spot.detected_at),
            "updated_at": c.dt_in(spot.updated_at), "is_open": spot.is_open}


def hot_spot(c: Codec, row: Sequence[Any]) -> HotSpotRecord:
    """A fresh record from a ``kntc_hot_spots`` row."""
    m = dict(zip(HOT_SPOT_COLUMNS, row, strict=True))
    return HotSpotRecord(id=m["id"], type=m["type"], group_id=m["group_id"], case_ids=list(c.json_out(m["case_ids"])),
                         reasons=list(c.json_out(m["reasons"])), detected_at=c.dt_required(m["detected_at"]),
                         updated_at=c.dt_required(m["updated_at"]), is_open=bool(m["is_open"]))


# officers and the duty roster ----------------------------------------------------------------
def person_row(c: Codec, p: Person, at: datetime) -> dict[str, Any]:
    """Every column of an officer (``roles`` and ``channels`` as JSON lists), updated at ``at``."""
    return {"id": p.id, "name": p.name, "unit": p.unit, "roles": c.json_in(list(p.roles)), "email": p.email,
            "phone": p.phone, "channels": c.json_in(list(p.channels)), "updated_at": c.dt_in(at)}


def person(c: Codec, row: Sequence[Any]) -> Person:
    """An officer from a ``kntc_people`` row."""
    m = dict(zip(PEOPLE_COLUMNS, row, strict=True))
    return Person(id=m["id"], name=m["name"], unit=m["unit"], roles=tuple(c.json_out(m["roles"]) or ()),
                  email=m["email"], phone=m["phone"], channels=tuple(c.json_out(m["channels"]) or ()))


def duty_row(c: Codec, d: Duty) -> dict[str, Any]:
    """Every column of a duty."""
    return {"day": c.date_in(d.day), "person_id": d.person_id, "place": d.place, "note": d.note}


def duty(c: Codec, row: Sequence[Any]) -> Duty:
    """A duty from a ``kntc_duty_roster`` row."""
    m = dict(zip(DUTY_COLUMNS, row, strict=True))
    return Duty(day=c.date_out(m["day"]), person_id=m["person_id"], place=m["place"], note=m["note"])


# reports --------------------------------------------------------------------------------------
def zone_param(c: Codec, zone: tzinfo, at: datetime) -> str:
    """The ``:zone`` of the report statements: PostgreSQL the zone's name; SQLite its offset at ``at``.

    (SQLite counts every moment at that one offset: exact for a zone without daylight saving,
    such as Asia/Ho_Chi_Minh.)
    """
    if c.postgres:
        return str(getattr(zone, "key", None) or zone.tzname(at) or "UTC")
    offset = at.astimezone(zone).utcoffset()
    return f"{int(offset.total_seconds() // 60) if offset is not None else 0:+d} minutes"


def reason(payload: Any) -> str:
    """An extension's reason from its history payload ("" when none was given)."""
    value = payload.get("reason") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else ""
