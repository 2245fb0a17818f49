"""The schema: SQLAlchemy Core tables (no ORM mapping; the engine's records stay plain).

These models and the Alembic migrations must describe the same schema:
``tests/integration/test_schema_migrations.py`` compares them on both dialects.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "case_groups",
    "cases",
    "deadlines",
    "definitions",
    "duty_roster",
    "events",
    "feed_counter",
    "fired_rungs",
    "group_bands",
    "groups",
    "history",
    "hot_spots",
    "jobs",
    "meta",
    "metadata",
    "outbox",
    "outbox_cursors",
    "parties",
    "people",
]


# Moments are aware datetimes in UTC. The store converts them itself (``rows.Codec``: SQLite keeps
# naive UTC text, PostgreSQL ``timestamptz``) because it runs its statements on the DBAPI cursor,
# past SQLAlchemy's type processing; the plain type keeps these models equal to the migrations'.
Moment = DateTime(timezone=True)
Json: Any = JSON().with_variant(JSONB(), "postgresql")
Id = String(64)

metadata = MetaData()

definitions = Table(
    "kntc_definitions", metadata,
    Column("hash", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("stored_at", Moment, nullable=True),
)

cases = Table(
    "kntc_cases", metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("definition_hash", String(64), nullable=False),
    Column("state", String(64), nullable=False),
    Column("previous_state", String(64)),
    Column("version", Integer, nullable=False),
    Column("received_at", Moment, nullable=False),
    Column("opened_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("subject", Text, nullable=False),
    Column("respondent", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("petitioner_count", Integer, nullable=False),
    Column("fields", Json, nullable=False),
    Column("history_head", String(64), nullable=False),
    Column("priority", String(8), nullable=False, server_default="normal"),
    # who forwarded the letter ({"body", "level"}; NULL: not forwarded, or not said), and the case's
    # flags (engine.model.Flag, ``since`` as ISO text), written only by set_case_flags
    Column("forwarded_from", Json, nullable=True),
    Column("flags", Json, nullable=False, server_default="[]"),
    Index("ix_kntc_cases_kind_state", "kind", "state"),
    # reports (migration 0009): the cases received in a window, and those received before it
    Index("ix_kntc_cases_received_at", "received_at"),
)

parties = Table(
    "kntc_parties", metadata,
    Column("case_id", Id, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("data", Json, nullable=False),
)

history = Table(
    "kntc_history", metadata,
    Column("case_id", Id, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event", String(64), nullable=False),
    Column("source", String(64)),
    Column("target", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(64), nullable=False),
    Column("at", Moment, nullable=False),
    Column("payload", Json, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("occurred_at", Moment),  # a back-dated act's moment (NULL: when it was recorded), migration 0006
    # reports (migration 0009): the acts of some events, in a window or first per case
    Index("ix_kntc_history_event_at", "event", "at"),
)

events = Table(
    "kntc_events", metadata,
    # PostgreSQL: seq comes from kntc_feed_counter; SQLite: the rowid (one writer, commit order)
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("case_id", Id),
    Column("at", Moment, nullable=False),
    Column("data", Json, nullable=False),
)

feed_counter = Table(
    "kntc_feed_counter", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
)

deadlines = Table(
    "kntc_deadlines", metadata,
    Column("case_id", Id, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("started_at", Moment, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("pauses", Json, nullable=False),
    Column("extensions", Integer, nullable=False),
    Column("extended_by", Integer, nullable=False),
    Column("cycle", Integer, nullable=False),
    # the key of the last rung fired in this cycle (per-mille of the budget; due = 1000)
    Column("fired_through", Integer, nullable=False),
    Column("next_fire_at", Moment),
    Column("due_at", Moment),
    Column("closed_at", Moment),
    Column("closed_by", String(64)),
    # failed tries of the next rung (reset when it fires), and the last error
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
)
# The daemon's sweep reads only pending timers: a partial index keeps it independent of the
# number of cases (DESIGN.md §9).
Index("ix_kntc_deadlines_next_fire_at", deadlines.c.next_fire_at,
      postgresql_where=deadlines.c.next_fire_at.is_not(None),
      sqlite_where=deadlines.c.next_fire_at.is_not(None))

fired_rungs = Table(
    "kntc_fired_rungs", metadata,
    Column("case_id", Id, primary_key=True),
    Column("deadline", String(64), primary_key=True),
    Column("cycle", Integer, primary_key=True),
    Column("rung", Integer, primary_key=True),  # the rung's key: per-mille of the budget, due = 1000
    Column("fired_at", Moment, nullable=False),
)

# Scheduled jobs of no case: a slot is claimed by inserting (or taking over) its key.
jobs = Table(
    "kntc_jobs", metadata,
    Column("kind", String(64), primary_key=True),
    Column("subject", String(128), primary_key=True),
    Column("slot", String(64), primary_key=True),
    Column("done_at", Moment),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("next_try_at", Moment),
)

# Messages for outbox channels, each delivered once per channel (the channel's lease) and retried.
outbox = Table(
    "kntc_outbox", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("case_id", Id),
    Column("data", Json, nullable=False),
    Column("status", String(8), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("next_attempt_at", Moment),
    Column("created_at", Moment, nullable=False),
    Column("sent_at", Moment),
    Column("idempotency_key", String(160)),
    Index("ix_kntc_outbox_channel_status_next", "channel", "status", "next_attempt_at"),
)

meta = Table(
    "kntc_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

outbox_cursors = Table(
    "kntc_outbox_cursors", metadata,
    Column("channel", String(64), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    # the channel's lease: the daemon delivering it, and until when (renewed as it delivers)
    Column("held_by", String(128)),
    Column("held_until", Moment),
)

# Content groups (DESIGN.md §6): a case's group, its LSH band keys (looked up by key, never scanned)
# and the hot spots found in groups. No names: petitioners stay in kntc_parties.
groups = Table(
    "kntc_groups", metadata,
    Column("id", Id, primary_key=True),
    Column("created_at", Moment, nullable=False),
)

case_groups = Table(
    "kntc_case_groups", metadata,
    Column("case_id", Id, primary_key=True),
    Column("group_id", Id, nullable=False),
    Column("respondent_key", String(200), nullable=False),
    Column("received_at", Moment, nullable=False),
    # the prolonged hot spot's markers: when the case was resolved, how many deadlines it overran
    Column("resolved_at", Moment),
    Column("overdues", Integer, nullable=False, server_default="0"),
    # the bodies the case was transferred to, in order (a JSON list of names of bodies)
    Column("transferred_to", Json, nullable=False, server_default="[]"),
    # engine.grouping.encode_signature of the case's text (NULL: grouped before 0007; signed when next a
    # candidate), so a candidate is confirmed without being signed again
    Column("signature", LargeBinary),
    Index("ix_kntc_case_groups_group_id", "group_id"),
    Index("ix_kntc_case_groups_respondent_key", "respondent_key"),
    # groups_received_between: the groups with a letter received in a window
    Index("ix_kntc_case_groups_received_at", "received_at"),
)

# the primary key (band, case_id) is the index candidates are found by
group_bands = Table(
    "kntc_group_bands", metadata,
    Column("band", String(40), primary_key=True),
    Column("case_id", Id, primary_key=True),
)

hot_spots = Table(
    "kntc_hot_spots", metadata,
    Column("id", String(160), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("group_id", Id, nullable=False),
    Column("case_ids", Json, nullable=False),
    Column("reasons", Json, nullable=False),
    Column("detected_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Column("is_open", Boolean, nullable=False),
    Index("ix_kntc_hot_spots_group_id", "group_id"),
)

# Officers imported from CSV (``kntc people import``; config.yaml ``people:`` stays in the file): a
# row replaces a configured officer of the same id. Officers only, never citizens.
people = Table(
    "kntc_people", metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("roles", Json, nullable=False),  # a JSON list of role names
    Column("email", String(254)),
    Column("phone", String(40)),
    Column("channels", Json, nullable=False, server_default="[]"),  # outbox channel ids
    Column("updated_at", Moment, nullable=False),
)

# Who receives citizens on which local day (``kntc roster import`` replaces the days it covers).
duty_roster = Table(
    "kntc_duty_roster", metadata,
    Column("day", Date, primary_key=True),
    Column("person_id", Id, primary_key=True),
    Column("place", Text),
    Column("note", Text),
)
