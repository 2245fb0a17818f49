"""Every SQL statement the store runs, by name, built once with SQLAlchemy Core.

One place to read all of kntc's SQL (procrastinate keeps its ``queries.sql`` for the same
reason). The statements are built at import with ``bindparam`` and compiled once per dialect
(:func:`compile_statements`, into :class:`adapters.sql.compiled.Compiled`); the transactions then
run the compiled text on the raw DBAPI cursor, so a command pays the driver's cost only, not
SQLAlchemy's execution layer (~10x the driver's time per statement here, ``bench/RESULTS.md``).
What SQLite compiled to is also cached on disk (``compiled.py``): a command on a current SQLite
database does not import this module, nor SQLAlchemy.

Names follow procrastinate: a statement whose rows are read ends in ``_one`` (at most one row)
or ``_all``; the others are read for their row count at most.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

import adapters.sql.tables as t
from adapters.sql.columns import (
    CASE_COLUMNS,
    CASE_GROUP_COLUMNS,
    CASE_STATE_COLUMNS,
    CASE_UPDATE_COLUMNS,
    DEADLINE_COLUMNS,
    DUTY_COLUMNS,
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    HOT_SPOT_COLUMNS,
    OUTBOX_COLUMNS,
    PEOPLE_COLUMNS,
)
from adapters.sql.compiled import Compiled, cache_key
from adapters.sql.report_statements import report_statements
from engine.grouping import BANDS

__all__ = ["SOURCE_KEYS", "STATEMENTS", "Compiled", "compile_one", "compile_statements"]

_case_is = t.cases.c.id == bindparam("case_id")
# an UPDATE's WHERE parameters are named b_* so they never clash with the SET columns'
_case_at_version = (t.cases.c.id == bindparam("b_id"), t.cases.c.version == bindparam("b_expected"))
_open = t.deadlines.c.closed_at.is_(None)
_deadline_key = (t.deadlines.c.case_id, t.deadlines.c.name)
_due = (select(t.deadlines, t.cases).join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
        .where(t.deadlines.c.next_fire_at.is_not(None), t.deadlines.c.next_fire_at <= bindparam("now"))
        # a total order: the memory store's, so every backend claims ties alike
        .order_by(t.deadlines.c.next_fire_at, t.deadlines.c.case_id, t.deadlines.c.name)
        .limit(bindparam("limit")))

# content groups: a new letter's candidates are the cases sharing one of its band keys (the
# primary key's index on band), counted per case, most shared first
_shared = func.count().label("shared")
_ranked = (select(t.group_bands.c.case_id, t.case_groups.c.group_id, _shared)
           .select_from(t.group_bands)
           .join(t.case_groups, t.case_groups.c.case_id == t.group_bands.c.case_id)
           .where(t.group_bands.c.band.in_([bindparam(f"band_{i}") for i in range(BANDS)]))
           .group_by(t.group_bands.c.case_id, t.case_groups.c.group_id)
           .order_by(_shared.desc(), t.group_bands.c.case_id).limit(bindparam("limit"))).subquery("ranked")
# ... with what confirming each needs (stored signature, respondent, text): no read per candidate
_candidates = (select(_ranked.c.case_id, _ranked.c.group_id, _ranked.c.shared, t.case_groups.c.signature,
                      t.cases.c.respondent, t.cases.c.subject, t.cases.c.content)
               .select_from(_ranked)
               .join(t.case_groups, t.case_groups.c.case_id == _ranked.c.case_id)
               .join(t.cases, t.cases.c.id == _ranked.c.case_id)
               .order_by(_ranked.c.shared.desc(), _ranked.c.case_id))
_members = (select(t.cases.c.id, t.cases.c.received_at, t.cases.c.petitioner_count, t.cases.c.state, t.cases.c.kind,
                   t.cases.c.channel, t.case_groups.c.resolved_at, t.case_groups.c.overdues,
                   t.cases.c.forwarded_from, t.case_groups.c.transferred_to, t.cases.c.flags, t.cases.c.fields)
            .join(t.case_groups, t.case_groups.c.case_id == t.cases.c.id)
            .where(t.case_groups.c.group_id == bindparam("group_id"))
            .order_by(t.cases.c.received_at, t.cases.c.id))
# the duty roster's days start..end, both included
_roster_days = (t.duty_roster.c.day >= bindparam("start"), t.duty_roster.c.day <= bindparam("end"))

STATEMENTS: dict[str, ClauseElement] = {
    # cases
    "get_case_one": select(t.cases).where(_case_is),
    "get_case_locked_one": select(t.cases).where(_case_is).with_for_update(),
    "insert_case": insert(t.cases).values({c: bindparam(c) for c in CASE_COLUMNS}),
    "update_case": update(t.cases).where(*_case_at_version)
    .values({c: bindparam(c) for c in CASE_UPDATE_COLUMNS}),
    "update_case_state": update(t.cases).where(*_case_at_version)
    .values({c: bindparam(c) for c in CASE_STATE_COLUMNS}),
    "insert_party": insert(t.parties).values(case_id=bindparam("case_id"), idx=bindparam("idx"),
                                             data=bindparam("data")),
    # parties (sealed at rest, adapters/secrets.py): a case's, and every one page by page (rotation, 0010)
    "parties_all": select(t.parties).where(t.parties.c.case_id == bindparam("case_id")).order_by(t.parties.c.idx),
    "parties_page_all": select(t.parties).where(tuple_(t.parties.c.case_id, t.parties.c.idx)
                                                > tuple_(bindparam("case_id"), bindparam("idx")))
    .order_by(t.parties.c.case_id, t.parties.c.idx).limit(bindparam("limit")),
    "update_party": update(t.parties).where(t.parties.c.case_id == bindparam("b_case_id"),
                                            t.parties.c.idx == bindparam("b_idx")).values(data=bindparam("data")),
    "iter_cases_all": select(t.cases).order_by(t.cases.c.id),
    "set_priority": update(t.cases).where(_case_is).values(priority=bindparam("priority")),
    "set_case_flags": update(t.cases).where(_case_is).values(flags=bindparam("flags")),
    # deadlines
    "get_deadlines_all": select(t.deadlines).where(t.deadlines.c.case_id == bindparam("case_id")),
    "insert_deadline": insert(t.deadlines).values({c: bindparam(c) for c in DEADLINE_COLUMNS}),
    "update_deadline": update(t.deadlines)
    .where(t.deadlines.c.case_id == bindparam("b_case_id"), t.deadlines.c.name == bindparam("b_name"))
    .values({c: bindparam(c) for c in DEADLINE_COLUMNS if c not in ("case_id", "name")}),
    "open_deadlines_all": select(t.deadlines).where(_open).order_by(*_deadline_key).limit(bindparam("limit")),
    "open_deadlines_after_all": select(t.deadlines)
    .where(_open, tuple_(*_deadline_key) > tuple_(bindparam("case_id"), bindparam("name")))
    .order_by(*_deadline_key).limit(bindparam("limit")),
    # SQLite: one writer at a time (BEGIN IMMEDIATE) locks all
    "claim_due_all": _due,
    # PostgreSQL: timers another daemon holds are skipped, not waited for
    "claim_due_locked_all": _due.with_for_update(of=[t.deadlines, t.cases], skip_locked=True),
    # history and feed
    "insert_history": insert(t.history).values({c: bindparam(c) for c in HISTORY_COLUMNS}),
    "history_all": select(t.history).where(t.history.c.case_id == bindparam("case_id")).order_by(t.history.c.seq),
    # PostgreSQL: n seqs at once from the counter row (its lock, held to commit, orders the feed)
    "next_seq_one": update(t.feed_counter).where(t.feed_counter.c.id == 1)
    .values(last_seq=t.feed_counter.c.last_seq + bindparam("n")).returning(t.feed_counter.c.last_seq),
    "insert_event": insert(t.events).values({c: bindparam(c) for c in EVENT_COLUMNS}),
    # SQLite has one writer at a time, so its rowid order is commit order: no counter needed
    "insert_event_rowid": insert(t.events).values({c: bindparam(c) for c in EVENT_COLUMNS if c != "seq"}),
    "events_all": select(t.events).where(t.events.c.seq > bindparam("after"))
    .order_by(t.events.c.seq).limit(bindparam("limit")),
    "get_cursor_one": select(t.outbox_cursors.c.last_seq).where(t.outbox_cursors.c.channel == bindparam("channel")),
    # the channel's lease goes back only from the daemon that holds it
    "release_channel": update(t.outbox_cursors)
    .where(t.outbox_cursors.c.channel == bindparam("channel"), t.outbox_cursors.c.held_by == bindparam("holder"))
    .values(held_by=null(), held_until=null()),
    # outbox messages
    "enqueue": insert(t.outbox).values({c: bindparam(c) for c in OUTBOX_COLUMNS if c != "id"}),
    "outbox_due_all": select(t.outbox).where(t.outbox.c.channel == bindparam("channel"),
                                             t.outbox.c.status == "pending",
                                             t.outbox.c.next_attempt_at <= bindparam("due_at"))
    .order_by(t.outbox.c.id).limit(bindparam("limit")),
    "outbox_status_all": select(t.outbox).where(t.outbox.c.status == bindparam("status"))
    .order_by(t.outbox.c.id).limit(bindparam("limit")),
    "outbox_all": select(t.outbox).order_by(t.outbox.c.id).limit(bindparam("limit")),
    "outbox_one": select(t.outbox).where(t.outbox.c.id == bindparam("id")),
    "update_message": update(t.outbox).where(t.outbox.c.id == bindparam("b_id"))
    .values({c: bindparam(c) for c in ("status", "attempts", "last_error", "next_attempt_at", "sent_at")}),
    # scheduled jobs and what failed
    "job_state_one": select(t.jobs.c.done_at, t.jobs.c.attempts, t.jobs.c.last_error, t.jobs.c.next_try_at)
    .where(t.jobs.c.kind == bindparam("kind"), t.jobs.c.subject == bindparam("subject"),
           t.jobs.c.slot == bindparam("slot")),
    "failed_jobs_all": select(t.jobs.c.kind, t.jobs.c.subject, t.jobs.c.slot, t.jobs.c.done_at, t.jobs.c.attempts,
                              t.jobs.c.last_error, t.jobs.c.next_try_at)
    .where(t.jobs.c.done_at.is_(None), t.jobs.c.attempts > 0)
    .order_by(t.jobs.c.kind, t.jobs.c.subject, t.jobs.c.slot).limit(bindparam("limit")),
    "failing_deadlines_all": select(t.deadlines).where(t.deadlines.c.attempts > 0)
    .order_by(*_deadline_key).limit(bindparam("limit")),
    # content groups and hot spots
    "insert_group": insert(t.groups).values(id=bindparam("id"), created_at=bindparam("created_at")),
    "insert_case_group": insert(t.case_groups).values({c: bindparam(c) for c in (*CASE_GROUP_COLUMNS, "signature")}),
    "save_signature": update(t.case_groups).where(t.case_groups.c.case_id == bindparam("b_case_id"))
    .values(signature=bindparam("signature")),
    "insert_band": insert(t.group_bands).values(band=bindparam("band"), case_id=bindparam("case_id")),
    "group_candidates_all": _candidates,
    "case_group_one": select(t.case_groups.c.group_id).where(t.case_groups.c.case_id == bindparam("case_id")),
    "group_members_all": _members,
    # PostgreSQL: one refresh of a group's hot spots at a time (SQLite renders no FOR UPDATE)
    "lock_group_one": select(t.groups.c.id).where(t.groups.c.id == bindparam("id")).with_for_update(),
    "move_to_group": update(t.case_groups).where(t.case_groups.c.case_id == bindparam("b_case_id"))
    .values(group_id=bindparam("group_id")),
    "mark_resolved": update(t.case_groups)
    .where(t.case_groups.c.case_id == bindparam("b_case_id"), t.case_groups.c.resolved_at.is_(None))
    .values(resolved_at=bindparam("resolved_at")),
    "count_overdue": update(t.case_groups).where(t.case_groups.c.case_id == bindparam("b_case_id"))
    .values(overdues=t.case_groups.c.overdues + 1),
    # the groups with an unresolved letter received in [start, end) (the index on received_at)
    "groups_received_between_all": select(t.case_groups.c.group_id).distinct()
    .where(t.case_groups.c.received_at >= bindparam("start"), t.case_groups.c.received_at < bindparam("end"),
           t.case_groups.c.resolved_at.is_(None))
    .order_by(t.case_groups.c.group_id),
    "insert_hot_spot": insert(t.hot_spots).values({c: bindparam(c) for c in HOT_SPOT_COLUMNS}),
    "update_hot_spot": update(t.hot_spots).where(t.hot_spots.c.id == bindparam("b_id"))
    .values({c: bindparam(c) for c in ("case_ids", "reasons", "updated_at", "is_open")}),
    "group_hot_spots_all": select(t.hot_spots).where(t.hot_spots.c.group_id == bindparam("group_id"))
    .order_by(t.hot_spots.c.type),
    "open_hot_spots_all": select(t.hot_spots).where(t.hot_spots.c.is_open == bindparam("is_open"))
    .order_by(t.hot_spots.c.detected_at, t.hot_spots.c.id),
    "all_hot_spots_all": select(t.hot_spots).order_by(t.hot_spots.c.detected_at, t.hot_spots.c.id),
    # definitions and settings
    "get_definition_one": select(t.definitions.c.body).where(t.definitions.c.hash == bindparam("hash")),
    "get_meta_one": select(t.meta.c.value).where(t.meta.c.key == bindparam("key")),
    # officers and the duty roster
    "people_all": select(t.people).order_by(t.people.c.id),
    "duties_all": select(t.duty_roster).where(*_roster_days).order_by(t.duty_roster.c.day, t.duty_roster.c.person_id),
    "delete_duties": delete(t.duty_roster).where(*_roster_days),
    "insert_duty": insert(t.duty_roster).values({c: bindparam(c) for c in DUTY_COLUMNS}),
}

# PostgreSQL, one event (the usual transition): bump the counter and write the row in one statement,
# whose result is never read (so inside a pipeline it costs no round trip)
_BUMP = (update(t.feed_counter).where(t.feed_counter.c.id == 1)
         .values(last_seq=t.feed_counter.c.last_seq + 1).returning(t.feed_counter.c.last_seq).cte("bump"))
_INSERT_ONE_EVENT = insert(t.events).from_select(
    list(EVENT_COLUMNS),
    select(_BUMP.c.last_seq, bindparam("type", type_=String), bindparam("case_id", type_=String),
           bindparam("at", type_=DateTime(timezone=True)), bindparam("data", type_=JSONB)),
).returning(t.events.c.seq)
def _unnest(table: Table, columns: Sequence[str]) -> Any:
    """``unnest(:a_col1, :a_col2, ...) AS u(col1, col2, ...)``: one array parameter per column, side by side."""
    arrays = [bindparam(f"a_{name}", type_=postgresql.ARRAY(
        postgresql.JSONB() if isinstance(table.c[name].type, JSON) else table.c[name].type)) for name in columns]
    return func.unnest(*arrays).table_valued(*(column(name) for name in columns)).render_derived(name="u")


# PostgreSQL, a tick batch (``postgres_batch.py``): many rows in one statement each, arrays unnested
_FIRED = ("case_id", "deadline", "cycle", "rung", "fired_at")
_fired_u = _unnest(t.fired_rungs, _FIRED)
# every claimed rung at once; the row count says how many keys were free
_MARK_FIRED_MANY = postgresql.insert(t.fired_rungs).from_select(
    list(_FIRED), select(*(_fired_u.c[name] for name in _FIRED))).on_conflict_do_nothing()
_ledgers_u = _unnest(t.deadlines, DEADLINE_COLUMNS)
# every ledger the batch moved, in one statement (found by primary key)
_UPDATE_DEADLINES_MANY = (update(t.deadlines)
                          .where(t.deadlines.c.case_id == _ledgers_u.c.case_id, t.deadlines.c.name == _ledgers_u.c.name)
                          .values({name: _ledgers_u.c[name] for name in DEADLINE_COLUMNS
                                   if name not in ("case_id", "name")}))
_events_u = _unnest(t.events, EVENT_COLUMNS)
_INSERT_EVENTS_MANY = insert(t.events).from_select(list(EVENT_COLUMNS),
                                                   select(*(_events_u.c[name] for name in EVENT_COLUMNS)))
# bench/tick.py EXPLAINs the claim under its former names
_ALIASES = {"due": "claim_due_all", "due_locked": "claim_due_locked_all"}


def _upserts(dialect: str) -> dict[str, ClauseElement]:
    """Statements that must not race: each is one INSERT ... ON CONFLICT (both dialects have it)."""
    ins: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    cursor = ins(t.outbox_cursors).values(channel=bindparam("channel"), last_seq=bindparam("seq"))
    meta = ins(t.meta).values(key=bindparam("key"), value=bindparam("value"))
    lease = ins(t.outbox_cursors).values(channel=bindparam("channel"), last_seq=0, held_by=bindparam("holder"),
                                         held_until=bindparam("until"))
    claim = ins(t.jobs).values(kind=bindparam("kind"), subject=bindparam("subject"), slot=bindparam("slot"),
                               done_at=bindparam("at"), attempts=0)
    fail = ins(t.jobs).values(kind=bindparam("kind"), subject=bindparam("subject"), slot=bindparam("slot"),
                              done_at=null(), attempts=bindparam("attempts"), last_error=bindparam("error"),
                              next_try_at=bindparam("next_try_at"))
    job_key = [t.jobs.c.kind, t.jobs.c.subject, t.jobs.c.slot]
    person = ins(t.people).values({c: bindparam(c) for c in PEOPLE_COLUMNS})
    # one more body at the end of a JSON list, in one statement (each dialect has its own function)
    body = bindparam("body", type_=String)
    transferred = t.case_groups.c.transferred_to
    appended = (transferred.op("||")(func.jsonb_build_array(body)) if dialect == "postgresql"
                else func.json_insert(transferred, "$[#]", body))
    return {
        "mark_transferred": update(t.case_groups).where(t.case_groups.c.case_id == bindparam("b_case_id"))
        .values(transferred_to=appended),
        # a channel is leased when free, expired or already ours: the row count says if it is ours now
        "acquire_channel": lease.on_conflict_do_update(
            index_elements=[t.outbox_cursors.c.channel],
            set_={"held_by": lease.excluded.held_by, "held_until": lease.excluded.held_until},
            where=or_(t.outbox_cursors.c.held_by.is_(None), t.outbox_cursors.c.held_by == lease.excluded.held_by,
                      t.outbox_cursors.c.held_until < bindparam("now"))),
        # a job's slot is claimed by inserting its key, or by taking over a failed try
        "claim_job": claim.on_conflict_do_update(index_elements=job_key, set_={"done_at": claim.excluded.done_at},
                                                 where=t.jobs.c.done_at.is_(None)),
        "fail_job": fail.on_conflict_do_update(index_elements=job_key, set_={
            "done_at": null(), "attempts": fail.excluded.attempts, "last_error": fail.excluded.last_error,
            "next_try_at": fail.excluded.next_try_at}),
        # the claim of a rung *is* this insert: a second firing finds the key taken
        "mark_fired": ins(t.fired_rungs).values(
            case_id=bindparam("case_id"), deadline=bindparam("deadline"), cycle=bindparam("cycle"),
            rung=bindparam("rung"), fired_at=bindparam("fired_at")).on_conflict_do_nothing(),
        "save_definition": ins(t.definitions).values(
            hash=bindparam("hash"), name=bindparam("name"), body=bindparam("body"),
            stored_at=bindparam("stored_at")).on_conflict_do_nothing(),
        # an imported officer replaces the stored one with the same id
        "upsert_person": person.on_conflict_do_update(
            index_elements=[t.people.c.id],
            set_={c: person.excluded[c] for c in PEOPLE_COLUMNS if c != "id"}),
        "set_meta": meta.on_conflict_do_update(index_elements=[t.meta.c.key], set_={"value": meta.excluded.value}),
        # a cursor only moves forward, whichever daemon delivers last
        "set_cursor": cursor.on_conflict_do_update(
            index_elements=[t.outbox_cursors.c.channel], set_={"last_seq": cursor.excluded.last_seq},
            where=t.outbox_cursors.c.last_seq < cursor.excluded.last_seq),
    }


def compile_one(stmt: ClauseElement, dialect: Dialect) -> Compiled:
    """``stmt`` compiled for ``dialect``, with its parameter order and its literals' values."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
    named = dialect.paramstyle in ("named", "pyformat")
    return Compiled(str(compiled), named=named, names=tuple(compiled.positiontup or ()) if not named else (),
                    # literals in the statement (``id == 1``) become parameters with their value as default
                    defaults={k: v for k, v in compiled.params.items() if v is not None})


_ARRAY_PARAM = re.compile(r"%\((a_\w+)\)s")


def compile_statements(target: Engine | Dialect) -> dict[str, Compiled]:
    """Every statement compiled for the dialect (of ``target``, an engine or a dialect), by name."""
    dialect = target.dialect if isinstance(target, Engine) else target
    statements = {**STATEMENTS, **_upserts(dialect.name), **report_statements(dialect.name)}
    if dialect.name == "postgresql":
        statements["insert_one_event"] = _INSERT_ONE_EVENT
        statements["mark_fired_many"] = _MARK_FIRED_MANY
        statements["insert_events_many"] = _INSERT_EVENTS_MANY
        statements["update_deadlines_many"] = _UPDATE_DEADLINES_MANY
    compiled = {name: compile_one(stmt, dialect) for name, stmt in statements.items()}
    compiled.update({alias: compiled[name] for alias, name in _ALIASES.items()})
    for name in ("mark_fired_many", "insert_events_many", "update_deadlines_many"):
        if name in compiled:  # arrays go in binary (psycopg's %(x)b): a text array escapes every element
            compiled[name].sql = _ARRAY_PARAM.sub(r"%(\1)b", compiled[name].sql)
    return compiled


#: the cache key of the sources this module was imported from (``compiled.py`` writes only under it)
SOURCE_KEYS: dict[str, str | None] = {"sqlite": cache_key("sqlite")}
