"""The store contract: one suite run over the memory, SQLite and PostgreSQL stores.

Every test goes through the ``engine`` fixture (memory / sqlite / postgres); store-level checks
use ``engine.runtime.store`` and the :class:`engine.ports.Transaction` protocol only, so the suite states
what any store must do, not how one is built.

SQLite vs PostgreSQL (and memory), where they differ on purpose:

- datetimes come back from the SQL stores in UTC (SQLite keeps naive UTC text, PostgreSQL
  ``timestamptz``); the memory store hands back the object it was given. The contract is the
  instant (and awareness), so history and feed times are compared as instants; ``Case`` values
  are always converted to Asia/Ho_Chi_Minh by the engine.
- ``claim_due`` locks: PostgreSQL skips rows another transaction holds (``FOR UPDATE SKIP
  LOCKED``, checked by the PostgreSQL-only test at the end); SQLite serialises writers with
  ``BEGIN IMMEDIATE`` instead, so a second claimer waits rather than skips, and the memory store
  has one writer lock. Both are out of reach of a single-threaded test and are not checked here.
- concurrent writers of the same new key (definitions, outbox cursors, meta) only meet on
  PostgreSQL (SQLite and memory serialise whole write transactions): PostgreSQL-only test; the
  store writes them with INSERT ... ON CONFLICT.
- tampering for the audit tests: SQL through ``engine.runtime.store.engine``; memory by replacing the
  stored entry.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from engine import ConflictError, NotAllowedError, NotFound, ValidationError
from engine.model import GENESIS, Case, Event, chain_hash
from engine.service import Engine
from engine.testing import ManualClock, MemoryStore

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SUBJECT = "Thu hồi đất không đúng quy định"


# ----------------------------------------------------------------------------- helpers



def open_complaint(engine: Engine, clock: ManualClock, **kwargs: Any) -> Case:
    """Open a first-instance complaint received now."""
    return engine.open_case(
        "complaint", received_at=kwargs.pop("received_at", clock.now()),
        petitioners=[{"name": "Nguyễn Văn A", "id_number": "079000000001", "address": "Đà Lạt"}],
        respondent="Phòng Quản lý đất đai", subject=SUBJECT, content="Nội dung đơn", channel="post",
        **kwargs)


def all_events(engine: Engine) -> list[Event]:
    """The whole feed (the tests write far fewer than 10,000 events)."""
    return engine.events(after=0, limit=10_000)


def case_count(engine: Engine) -> int:
    """How many cases the store holds."""
    with engine.runtime.store.reader() as tx:
        return len(list(tx.iter_cases()))


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    """Everything a command could have written for one case, plus the feed and the case count."""
    with engine.runtime.store.reader() as tx:
        record = tx.get_case(case_id)
        ledgers = sorted(tx.get_deadlines(case_id), key=lambda d: d.name)
    return record, ledgers, engine.get(case_id), engine.history(case_id), all_events(engine), case_count(engine)


def claim(engine: Engine, now: datetime, limit: int = 100) -> list[tuple[str, str, datetime]]:
    """``claim_due`` in a transaction of its own, as (case id, deadline, next_fire_at)."""
    with engine.runtime.store.transaction() as tx:
        rows = tx.claim_due(now, limit)
    for record, state in rows:
        assert record.id == state.case_id
    return [(state.case_id, state.name, state.next_fire_at) for _, state in rows]


def alter_history(engine: Engine, case_id: str, seq: int, *, delete: bool) -> None:
    """Tamper with one stored history row behind the engine's back (edit its actor, or delete it)."""
    store = engine.runtime.store
    if isinstance(store, MemoryStore):
        rows = store._data.history[case_id]
        index = next(i for i, h in enumerate(rows) if h.seq == seq)
        if delete:
            del rows[index]
        else:
            rows[index] = replace(rows[index], actor="x")
        return
    sql = ("DELETE FROM kntc_history WHERE case_id = :c AND seq = :s" if delete
           else "UPDATE kntc_history SET actor = 'x' WHERE case_id = :c AND seq = :s")
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text(sql), {"c": case_id, "s": seq}).rowcount == 1


# ----------------------------------------------------------------------------- cases


def test_open_then_get_roundtrips_the_case(engine: Engine, clock: ManualClock) -> None:
    """get() returns the very case open_case() returned: local aware datetimes, fields and deadlines."""
    clock.set(datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=TZ))
    opened = open_complaint(engine, clock, fields={"remote_area": True})
    got = engine.get(opened.id)
    assert got == opened
    assert (got.kind, got.state, got.version, got.channel) == ("complaint", "intake_check", 1, "post")
    assert (got.subject, got.respondent, got.petitioner_count) == (SUBJECT, "Phòng Quản lý đất đai", 1)
    assert got.fields["remote_area"] is True and got.fields["instance"] == 1 and got.fields["complex"] is False
    for moment in (got.received_at, got.opened_at, got.updated_at):
        assert moment == clock.now() and moment.utcoffset() == timedelta(hours=7)
        assert moment.tzinfo is not None and str(moment.tzinfo) == "Asia/Ho_Chi_Minh"
    acceptance = got.deadlines["acceptance"]
    assert (acceptance.status, acceptance.amount, acceptance.unit) == ("running", 10, "working")
    assert acceptance.due_date == date(2026, 3, 16)
    assert acceptance.due_at == datetime(2026, 3, 17, tzinfo=TZ) and str(acceptance.due_at.tzinfo) == "Asia/Ho_Chi_Minh"
    assert acceptance.warn_at == (datetime(2026, 3, 10, tzinfo=TZ), datetime(2026, 3, 13, tzinfo=TZ))
    assert "Điều 27" in acceptance.legal_basis


def test_received_at_in_another_zone_is_counted_on_the_local_date(engine: Engine, clock: ManualClock) -> None:
    """A receipt given in UTC reads back in Hà Nội time, and its clock starts on the local date."""
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=TZ))
    received = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 06:00 on 3 March in Hà Nội
    case = open_complaint(engine, clock, received_at=received)
    got = engine.get(case.id)
    assert got.received_at == received
    assert got.received_at.hour == 6 and got.received_at.utcoffset() == timedelta(hours=7)
    with engine.runtime.store.reader() as tx:
        (ledger,) = tx.get_deadlines(case.id)
        record = tx.get_case(case.id)
    assert ledger.start_date == date(2026, 3, 3)
    assert record is not None and record.received_at == received and record.received_at.tzinfo is not None
    assert got.deadlines["acceptance"].due_date == date(2026, 3, 17)


def test_fire_bumps_version_and_appends_hash_chained_history(engine: Engine, clock: ManualClock) -> None:
    """fire() moves the version on by one and appends a history row chained to the previous one, seq == version."""
    case = open_complaint(engine, clock)
    clock.advance(timedelta(hours=1))
    fired = engine.fire(case.id, "accept", actor="cb01", role="inspector", payload={}, expected_version=1)
    assert (fired.state, fired.version) == ("accepted", 2)
    assert engine.get(case.id) == fired
    history = engine.history(case.id)
    assert [h.seq for h in history] == [1, 2] and history[-1].seq == fired.version
    last = history[-1]
    assert (last.event, last.source, last.target, last.actor, last.role) == (
        "accept", "intake_check", "accepted", "cb01", "inspector")
    assert last.at == clock.now() and last.at.tzinfo is not None  # SQL stores return UTC; memory the given zone
    previous = GENESIS
    for h in history:
        assert h.hash == chain_hash(previous, case.id, h)
        previous = h.hash
    transitioned = [e for e in all_events(engine) if e.type == "case.transitioned"]
    assert [(e.case_id, e.data["event"], e.data["version"]) for e in transitioned] == [(case.id, "accept", 2)]


def test_history_keeps_when_a_back_dated_act_happened(engine: Engine, clock: ManualClock) -> None:
    """occurred_at is stored with its row (the same instant back), None for an act not back-dated; both verify."""
    case = open_complaint(engine, clock)  # Monday 02/03/2026 09:00
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=TZ))
    signed = datetime(2026, 3, 3, 10, 30, 0, 250000, tzinfo=TZ)  # Tuesday 03/03, microseconds kept
    engine.fire(case.id, "accept", actor="cb01", role="inspector", occurred_at=signed)
    engine.fire(case.id, "start_verification", actor="cb01", role="inspector")
    with engine.runtime.store.reader() as tx:
        stored = tx.history(case.id)
    assert [h.occurred_at for h in stored] == [None, signed, None]
    assert stored[1].occurred_at is not None and stored[1].occurred_at.tzinfo is not None
    assert [h.at for h in stored][1:] == [clock.now(), clock.now()]
    assert engine.verify_audit().ok


def test_verify_audit_detects_an_altered_occurred_at(engine: Engine, clock: ManualClock) -> None:
    """Moving a back-dated act's date behind the engine's back breaks its row's hash."""
    case = open_complaint(engine, clock)
    clock.set(datetime(2026, 3, 5, 16, 0, tzinfo=TZ))
    engine.fire(case.id, "accept", actor="cb01", role="inspector",
                occurred_at=datetime(2026, 3, 3, 10, 0, tzinfo=TZ))
    earlier = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
    store = engine.runtime.store
    if isinstance(store, MemoryStore):
        rows = store._data.history[case.id]
        rows[1] = replace(rows[1], occurred_at=earlier)
    else:
        with store.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("UPDATE kntc_history SET occurred_at = :t WHERE case_id = :c AND seq = 2"),
                         {"t": earlier.astimezone(UTC).replace(tzinfo=None) if store.engine.dialect.name == "sqlite"  # type: ignore[attr-defined]
                          else earlier, "c": case.id})
    report = engine.verify_audit()
    assert report.problems == (f"case {case.id} history #2: hash mismatch (row altered)",)


def test_stale_expected_version_is_a_conflict_that_writes_nothing(engine: Engine, clock: ManualClock) -> None:
    """A fire() with a stale expected_version raises ConflictError and leaves history, feed and version as they were."""
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector", expected_version=1)
    before = snapshot(engine, case.id)
    with pytest.raises(ConflictError) as raised:
        engine.fire(case.id, "start_verification", actor="cb02", role="inspector", expected_version=1)
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert snapshot(engine, case.id) == before
    assert len(engine.history(case.id)) == 2 and engine.get(case.id).version == 2
    assert len(all_events(engine)) == len(before[4])


def test_refused_events_write_nothing(engine: Engine, clock: ManualClock) -> None:
    """An unknown event, a wrong state, a wrong role or a false guard raises NotAllowedError and writes nothing."""
    case = open_complaint(engine, clock, fields={"complex": True})
    before = snapshot(engine, case.id)
    attempts = [("fly", "inspector"), ("decide", "director"), ("accept", "clerk"), ("mark_complex", "inspector")]
    for event, role in attempts:
        with pytest.raises(NotAllowedError) as raised:
            engine.fire(case.id, event, actor="cb01", role=role, payload={"reason": "r"}, expected_version=1)
        assert "intake_check" in str(raised.value) and event in str(raised.value)
        assert snapshot(engine, case.id) == before


def test_invalid_input_writes_nothing(engine: Engine, clock: ManualClock) -> None:
    """Bad payloads, actors, versions and case data raise ValidationError naming the field, and write nothing."""
    case = open_complaint(engine, clock)
    before = snapshot(engine, case.id)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("reason", lambda: engine.fire(case.id, "reject", actor="cb01", role="inspector", payload={})),
        ("actor", lambda: engine.fire(case.id, "accept", actor=" ", role="inspector")),
        ("expected_version", lambda: engine.fire(case.id, "accept", actor="cb01", role="inspector",
                                                 expected_version="1")),  # type: ignore[arg-type]
        ("received_at", lambda: open_complaint(engine, clock, received_at=datetime(2026, 3, 2, 9, 0))),
        ("instance", lambda: open_complaint(engine, clock, fields={"instance": 3})),
    ]
    for field, call in calls:
        with pytest.raises(ValidationError) as raised:
            call()
        assert field in raised.value.field
        assert snapshot(engine, case.id) == before


def test_unknown_ids_raise_not_found(engine: Engine, clock: ManualClock) -> None:
    """Reading or firing an unknown case, or opening an unknown workflow, raises NotFound (a LookupError)."""
    calls: list[Callable[[], object]] = [
        lambda: engine.get("no-such-case"),
        lambda: engine.history("no-such-case"),
        lambda: engine.allowed_events("no-such-case"),
        lambda: engine.fire("no-such-case", "accept", actor="cb01", role="inspector"),
        lambda: engine.open_case("no_such_workflow", received_at=clock.now(), petitioners=[{"name": "A"}],
                                 respondent="R", subject="S"),
    ]
    for call in calls:
        with pytest.raises(NotFound) as raised:
            call()
        assert isinstance(raised.value, LookupError)
    assert all_events(engine) == [] and case_count(engine) == 0


# ----------------------------------------------------------------------------- feed


def test_feed_is_ordered_by_seq_without_gaps(engine: Engine, clock: ManualClock) -> None:
    """The feed numbers events 1, 2, 3 ... in the order the commands committed."""
    ids = []
    for _ in range(3):
        ids.append(open_complaint(engine, clock).id)
        clock.advance(timedelta(minutes=5))
    engine.fire(ids[1], "accept", actor="cb01", role="inspector")
    events = all_events(engine)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [(e.type, e.case_id) for e in events] == [
        ("case.opened", ids[0]), ("case.opened", ids[1]), ("case.opened", ids[2]), ("case.transitioned", ids[1])]
    assert all(e.at.tzinfo is not None for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_feed_paging_with_a_cursor_returns_every_event_once(engine: Engine, clock: ManualClock) -> None:
    """Polling events(after=cursor, limit=3) until empty yields the whole feed, each event exactly once."""
    for _ in range(4):
        case = open_complaint(engine, clock)
        engine.fire(case.id, "accept", actor="cb01", role="inspector")
    everything = all_events(engine)
    pages, cursor = [], 0
    while page := engine.events(after=cursor, limit=3):
        assert len(page) <= 3
        pages.append(page)
        cursor = page[-1].seq
    seen = [e for page in pages for e in page]
    assert seen == everything and len({e.seq for e in seen}) == len(everything) == 8
    assert engine.events(after=cursor, limit=100) == []
    assert engine.events(after=2, limit=2) == everything[2:4]


def test_feed_rejects_a_bad_cursor_or_limit(engine: Engine) -> None:
    """A negative cursor or a limit outside 1..10000 is a ValidationError."""
    for kwargs in ({"after": -1}, {"limit": 0}, {"limit": 10_001}):
        with pytest.raises(ValidationError):
            engine.events(**kwargs)


# ----------------------------------------------------------------------------- timers


def test_claim_due_returns_due_rows_earliest_first_within_the_limit(engine: Engine, clock: ManualClock) -> None:
    """claim_due(now, limit) returns the rows due at now, earliest first, at most limit of them."""
    ids = []
    for _ in range(3):  # opened Mon, Tue, Wed: first warnings at the end of Mon, Tue, Wed of the next week
        ids.append(open_complaint(engine, clock).id)
        clock.advance(timedelta(days=1))
    first = [engine.get(i).deadlines["acceptance"].warn_at[0] for i in ids]
    assert first[0] < first[1] < first[2]
    assert claim(engine, first[0] - timedelta(microseconds=1)) == []
    assert claim(engine, first[0]) == [(ids[0], "acceptance", first[0])]
    everything = claim(engine, first[2])
    assert everything == [(i, "acceptance", m) for i, m in zip(ids, first, strict=True)]
    assert claim(engine, first[2], limit=2) == everything[:2]
    assert claim(engine, first[2], limit=1) == everything[:1]


def test_claim_due_skips_closed_and_future_timers(engine: Engine, clock: ManualClock) -> None:
    """A met deadline and a timer due later are not claimed."""
    met = open_complaint(engine, clock)
    due = open_complaint(engine, clock)
    engine.fire(met.id, "accept", actor="cb01", role="inspector")  # acceptance met; resolution runs 30 days
    moment = due.deadlines["acceptance"].warn_at[0]
    assert claim(engine, moment) == [(due.id, "acceptance", moment)]


def test_mark_fired_is_true_only_the_first_time(engine: Engine, clock: ManualClock) -> None:
    """mark_fired returns False for a (case, deadline, cycle, rung) already marked, True for any other."""
    case = open_complaint(engine, clock)
    at = clock.now()
    with engine.runtime.store.transaction() as tx:
        assert tx.mark_fired(case.id, "acceptance", 0, 0, at) is True
    with engine.runtime.store.transaction() as tx:
        assert tx.mark_fired(case.id, "acceptance", 0, 0, at) is False
        assert tx.mark_fired(case.id, "acceptance", 0, 1, at) is True
        assert tx.mark_fired(case.id, "acceptance", 1, 0, at) is True
        assert tx.mark_fired(case.id, "resolution", 0, 0, at) is True
    with engine.runtime.store.transaction() as tx:
        for key in [("acceptance", 0, 0), ("acceptance", 0, 1), ("acceptance", 1, 0), ("resolution", 0, 0)]:
            assert tx.mark_fired(case.id, *key, at) is False


def test_mark_fired_is_undone_with_its_transaction(engine: Engine, clock: ManualClock) -> None:
    """A mark in a transaction that fails is rolled back, so the rung can still fire."""
    case = open_complaint(engine, clock)
    with pytest.raises(RuntimeError), engine.runtime.store.transaction() as tx:
        assert tx.mark_fired(case.id, "acceptance", 0, 0, clock.now()) is True
        raise RuntimeError("crash before commit")
    with engine.runtime.store.transaction() as tx:
        assert tx.mark_fired(case.id, "acceptance", 0, 0, clock.now()) is True


# ----------------------------------------------------------------------------- audit


def test_verify_audit_detects_an_altered_history_row(engine: Engine, clock: ManualClock) -> None:
    """Editing a stored history row breaks its hash, and verify_audit names the case and the row."""
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector")
    clean = engine.verify_audit()
    assert clean.ok and (clean.cases, clean.rows) == (1, 2)
    alter_history(engine, case.id, 1, delete=False)
    report = engine.verify_audit()
    assert not report.ok
    assert any(case.id in p and "#1" in p for p in report.problems)


def test_verify_audit_detects_a_deleted_last_row(engine: Engine, clock: ManualClock) -> None:
    """Deleting the newest history row leaves a chain that no longer ends at the case's head."""
    case = open_complaint(engine, clock)
    engine.fire(case.id, "accept", actor="cb01", role="inspector")
    alter_history(engine, case.id, 2, delete=True)
    report = engine.verify_audit()
    assert not report.ok and report.rows == 1
    assert any(case.id in p for p in report.problems)


# ----------------------------------------------------------------------------- PostgreSQL only


@pytest.mark.postgres
def test_postgres_claim_due_skips_rows_another_transaction_holds(pg_url: str, settings: Any,
                                                                 clock: ManualClock) -> None:
    """PostgreSQL only: a second claimer skips the rows the first one has locked (FOR UPDATE SKIP LOCKED)."""
    from adapters.bootstrap import build
    engine = build(settings, database_url=pg_url, clock=clock)
    try:
        ids = [open_complaint(engine, clock).id for _ in range(3)]
        now = engine.get(ids[0]).deadlines["acceptance"].warn_at[0]
        with engine.runtime.store.transaction() as first:
            held = [s.case_id for _, s in first.claim_due(now, 1)]
            with engine.runtime.store.transaction() as second:
                rest = [s.case_id for _, s in second.claim_due(now, 10)]
    finally:
        engine.runtime.store.engine.dispose()  # type: ignore[attr-defined]
    assert len(held) == 1 and sorted(held + rest) == sorted(ids) and not set(held) & set(rest)


@pytest.mark.postgres
def test_postgres_concurrent_save_definition_is_idempotent(pg_url: str, settings: Any) -> None:
    """PostgreSQL only: two transactions saving the same definition at once both succeed (save is idempotent)."""
    import threading

    import psycopg

    from adapters.bootstrap import build_store
    application = f"kntc_race_{uuid.uuid4().hex[:8]}"
    store = build_store(settings, f"{pg_url}&application_name={application}")
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with store.transaction() as tx:
                tx.save_definition("f" * 64, "probe", "{}")
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    def waiting() -> int:
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                               " AND wait_event_type = 'Lock'", (application,)).fetchone()
            return int(row[0]) if row else 0

    thread = threading.Thread(target=second)
    try:
        with store.transaction() as tx:
            tx.save_definition("f" * 64, "probe", "{}")
            thread.start()
            limit = time.monotonic() + 5
            while waiting() == 0 and time.monotonic() < limit:  # let the second reach the row, then commit
                time.sleep(0.01)
        thread.join(30)
        assert not thread.is_alive()
        if errors:
            raise errors[0]
        with store.reader() as tx:
            assert tx.get_definition("f" * 64) == "{}"
    finally:
        thread.join(30)
        store.engine.dispose()


def test_reprojection_pages_through_every_open_deadline(engine: Engine, clock: ManualClock) -> None:
    """After a new day off, reprojecting page by page moves every open deadline it covers, once."""
    from engine.calendar import BusinessCalendar, DayOverride
    from engine.maintenance import reproject, sync_calendar

    cases = [engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "A"}],
                              respondent="R", subject="S") for _ in range(3)]
    # 10 WD from Mon 02/03/2026 -> Mon 16/03; with 10/03 off -> Tue 17/03
    assert {engine.get(c.id).deadlines["acceptance"].due_date for c in cases} == {date(2026, 3, 16)}
    stormy = BusinessCalendar(working_days=[DayOverride(date(2026, 8, 22), "làm bù")],
                              days_off=[DayOverride(date(2026, 3, 10), "bão")])
    moved = Engine(store=engine.runtime.store, workflows=engine.runtime.workflows, calendar=stormy, clock=clock)
    assert reproject(moved.runtime, page=1) == 3
    assert {moved.get(c.id).deadlines["acceptance"].due_date for c in cases} == {date(2026, 3, 17)}
    assert sync_calendar(moved.runtime) == 0
