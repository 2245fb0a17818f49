"""Every table's column names in order, as plain tuples (no SQLAlchemy).

``rows.py`` converts rows by position, so it needs the tables' column order, and a CLI command
on an up-to-date SQLite database must run without importing SQLAlchemy (≈ 0.2 s): these names
are spelt out here instead of read off ``tables.py``. The models stay the schema's source of
truth; ``tests/unit/test_statement_cache.py`` checks every tuple against them.
"""

from __future__ import annotations

__all__ = [
    "CASE_COLUMNS",
    "CASE_GROUP_COLUMNS",
    "CASE_STATE_COLUMNS",
    "CASE_UPDATE_COLUMNS",
    "COLUMNS",
    "DEADLINE_COLUMNS",
    "DUTY_COLUMNS",
    "EVENT_COLUMNS",
    "HISTORY_COLUMNS",
    "HOT_SPOT_COLUMNS",
    "OUTBOX_COLUMNS",
    "PEOPLE_COLUMNS",
]

CASE_COLUMNS = ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at", "opened_at",
                "updated_at", "channel", "subject", "respondent", "content", "petitioner_count", "fields",
                "history_head", "priority", "forwarded_from", "flags")
DEADLINE_COLUMNS = ("case_id", "name", "status", "started_at", "start_date", "pauses", "extensions", "extended_by",
                    "cycle", "fired_through", "next_fire_at", "due_at", "closed_at", "closed_by", "attempts",
                    "last_error")
HISTORY_COLUMNS = ("case_id", "seq", "event", "source", "target", "actor", "role", "at", "payload", "hash",
                   "occurred_at")
EVENT_COLUMNS = ("seq", "type", "case_id", "at", "data")
OUTBOX_COLUMNS = ("id", "channel", "kind", "case_id", "data", "status", "attempts", "last_error", "next_attempt_at",
                  "created_at", "sent_at", "idempotency_key")
CASE_GROUP_COLUMNS = ("case_id", "group_id", "respondent_key", "received_at")
PEOPLE_COLUMNS = ("id", "name", "unit", "roles", "email", "phone", "channels", "updated_at")
DUTY_COLUMNS = ("day", "person_id", "place", "note")
HOT_SPOT_COLUMNS = ("id", "type", "group_id", "case_ids", "reasons", "detected_at", "updated_at", "is_open")
# what a transition that changes no field writes (``update_case(..., fields_changed=False)``)
CASE_STATE_COLUMNS = ("state", "previous_state", "version", "updated_at", "history_head")
# what ``update_case`` writes: every column but the key and the flags (``set_case_flags`` alone writes
# those, so a reactor's flags outlive a later write of the same case)
CASE_UPDATE_COLUMNS = tuple(c for c in CASE_COLUMNS if c not in ("id", "flags"))

#: every table of ``tables.py`` (by its attribute name there) -> its columns, in order
COLUMNS: dict[str, tuple[str, ...]] = {
    "case_groups": (*CASE_GROUP_COLUMNS, "resolved_at", "overdues", "transferred_to", "signature"),
    "cases": CASE_COLUMNS,
    "deadlines": DEADLINE_COLUMNS,
    "definitions": ("hash", "name", "body", "stored_at"),
    "duty_roster": DUTY_COLUMNS,
    "events": EVENT_COLUMNS,
    "feed_counter": ("id", "last_seq"),
    "fired_rungs": ("case_id", "deadline", "cycle", "rung", "fired_at"),
    "group_bands": ("band", "case_id"),
    "groups": ("id", "created_at"),
    "history": HISTORY_COLUMNS,
    "hot_spots": HOT_SPOT_COLUMNS,
    "jobs": ("kind", "subject", "slot", "done_at", "attempts", "last_error", "next_try_at"),
    "meta": ("key", "value"),
    "outbox": OUTBOX_COLUMNS,
    "outbox_cursors": ("channel", "last_seq", "held_by", "held_until"),
    "parties": ("case_id", "idx", "data"),
    "people": PEOPLE_COLUMNS,
}
