"""Migration 0002 on a database kntc 0001 wrote: fired rungs keep their identity, nothing fires twice or is lost.

Under 0001 a rung was keyed by its position in the deadline's list (0 and 1 the warnings, 2 the due
moment) in ``kntc_fired_rungs.rung``, and the ledger kept ``next_rung``, the position of the next
rung to fire. 0002 keys a rung by its fraction in per-mille (500, 800) and the due moment by 1000,
and the ledger keeps ``fired_through`` (the key of the last rung fired, 0 before any), rewritten
from the warning fractions of the definition the case runs on (``kntc_definitions.body``).

Each test writes, with SQLAlchemy Core in the 0001 column names, what kntc 0001 stored for one
complaint received on Monday 2 March 2026 at 09:00 in Hà Nội, then upgrades to head and ticks the
engine. The moments are written by hand below (the counting in comments), never computed by kntc.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.sql.migrate import current_revision, head_revision, upgrade
from engine.loader import load_directory
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, utc

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

CASE_ID = "0001c0ffee0000000000000000000001"
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 02/03/2026, 09:00
# acceptance: 10 working days, the day of receipt not counted:
#   Tue 03, Wed 04, Thu 05, Fri 06, Mon 09 (5 = 50%), Tue 10, Wed 11, Thu 12 (8 = 80%), Fri 13, Mon 16 (10)
# (no holiday in March 2026; Sat 07, Sun 08, Sat 14, Sun 15 are not working days)
WARN_50 = datetime(2026, 3, 10, 0, 0, tzinfo=TZ)  # end of Mon 09/03 (5 working days)
WARN_80 = datetime(2026, 3, 13, 0, 0, tzinfo=TZ)  # end of Thu 12/03 (8 working days)
DUE = datetime(2026, 3, 17, 0, 0, tzinfo=TZ)      # end of Mon 16/03 (10 working days)
AFTER_DUE = datetime(2026, 3, 18, 8, 0, tzinfo=TZ)  # Wed 18/03, 08:00: every rung is past
# when the 0001 daemon fired the two warnings (half a minute after each moment)
FIRED_50 = datetime(2026, 3, 10, 0, 0, 30, tzinfo=TZ)
FIRED_80 = datetime(2026, 3, 13, 0, 0, 30, tzinfo=TZ)
LEGAL_BASIS = "LKN Điều 27, Điều 36 k1 (10 ngày); NĐ 124/2020 Điều 16 k1 (10 ngày làm việc)"


# ----------------------------------------------------------------------------- the 0001 tables

definitions_0001 = sa.table("kntc_definitions", sa.column("hash", sa.String), sa.column("name", sa.String),
                            sa.column("body", sa.Text), sa.column("stored_at", MOMENT))
cases_0001 = sa.table(
    "kntc_cases", sa.column("id", sa.String), sa.column("kind", sa.String), sa.column("definition_hash", sa.String),
    sa.column("state", sa.String), sa.column("previous_state", sa.String), sa.column("version", sa.Integer),
    sa.column("received_at", MOMENT), sa.column("opened_at", MOMENT), sa.column("updated_at", MOMENT),
    sa.column("channel", sa.String), sa.column("subject", sa.Text), sa.column("respondent", sa.Text),
    sa.column("content", sa.Text), sa.column("petitioner_count", sa.Integer), sa.column("fields", JSON),
    sa.column("history_head", sa.String))
parties_0001 = sa.table("kntc_parties", sa.column("case_id", sa.String), sa.column("idx", sa.Integer),
                        sa.column("data", JSON))
deadlines_0001 = sa.table(
    "kntc_deadlines", sa.column("case_id", sa.String), sa.column("name", sa.String), sa.column("status", sa.String),
    sa.column("started_at", MOMENT), sa.column("start_date", sa.Date), sa.column("pauses", JSON),
    sa.column("extensions", sa.Integer), sa.column("extra", sa.Integer), sa.column("cycle", sa.Integer),
    sa.column("next_rung", sa.Integer), sa.column("next_fire_at", MOMENT), sa.column("due_at", MOMENT),
    sa.column("closed_at", MOMENT))
fired_rungs = sa.table("kntc_fired_rungs", sa.column("case_id", sa.String), sa.column("deadline", sa.String),
                       sa.column("cycle", sa.Integer), sa.column("rung", sa.Integer), sa.column("fired_at", MOMENT))
events = sa.table("kntc_events", sa.column("seq", sa.BigInteger), sa.column("type", sa.String),
                  sa.column("case_id", sa.String), sa.column("at", MOMENT), sa.column("data", JSON))
feed_counter = sa.table("kntc_feed_counter", sa.column("id", sa.Integer), sa.column("last_seq", sa.BigInteger))
# the one column read back under its 0002 name
deadlines_head = sa.table("kntc_deadlines", sa.column("case_id", sa.String), sa.column("name", sa.String),
                          sa.column("fired_through", sa.Integer))


# ----------------------------------------------------------------------------- fixtures and helpers


def seed_0001(sql: sa.Engine, *, warnings_fired: int) -> None:
    """Build the 0001 schema and write the complaint as kntc 0001 left it with ``warnings_fired`` warnings fired."""
    assert warnings_fired in (0, 2)
    at_revision(sql, "0001")
    complaint = load_directory(ROOT / "workflows")["complaint"]
    fields = {"instance": 1, "remote_area": False, "complex": False, "parent_case_id": None}
    opened = {"kind": "complaint", "state": "intake_check", "channel": "post", "petitioner_count": 1}
    warning = {"deadline": "acceptance", "kind": "complaint", "state": "intake_check",
               "due_at": "2026-03-17T00:00:00+07:00", "legal_basis": LEGAL_BASIS}
    with sql.begin() as conn:
        conn.execute(sa.insert(definitions_0001).values(
            hash=complaint.content_hash, name="complaint",
            body=complaint.definition.model_dump_json(by_alias=True), stored_at=None))
        conn.execute(sa.insert(cases_0001).values(
            id=CASE_ID, kind="complaint", definition_hash=complaint.content_hash, state="intake_check",
            previous_state=None, version=1, received_at=utc(RECEIVED), opened_at=utc(RECEIVED),
            updated_at=utc(RECEIVED), channel="post", subject="Cấp giấy chứng nhận", respondent="UBND xã",
            content="", petitioner_count=1, fields=fields,
            history_head="0" * 64))  # the audit chain plays no part in the rungs; not written here
        conn.execute(sa.insert(parties_0001).values(case_id=CASE_ID, idx=0, data={"name": "Trần Thị B"}))
        conn.execute(sa.insert(deadlines_0001).values(
            case_id=CASE_ID, name="acceptance", status="running", started_at=utc(RECEIVED),
            start_date=date(2026, 3, 2), pauses=[], extensions=0, extra=0, cycle=0,
            next_rung=warnings_fired,  # 0001: the position of the next rung (0, 1 warnings; 2 due)
            next_fire_at=utc(DUE if warnings_fired else WARN_50), due_at=utc(DUE), closed_at=None))
        feed = [{"seq": 1, "type": "case.opened", "case_id": CASE_ID, "at": utc(RECEIVED), "data": opened}]
        if warnings_fired:
            conn.execute(sa.insert(fired_rungs), [
                {"case_id": CASE_ID, "deadline": "acceptance", "cycle": 0, "rung": 0, "fired_at": utc(FIRED_50)},
                {"case_id": CASE_ID, "deadline": "acceptance", "cycle": 0, "rung": 1, "fired_at": utc(FIRED_80)}])
            feed += [
                {"seq": 2, "type": "deadline.warning", "case_id": CASE_ID, "at": utc(FIRED_50),
                 "data": {**warning, "rung": 0, "fraction": 0.5}},
                {"seq": 3, "type": "deadline.warning", "case_id": CASE_ID, "at": utc(FIRED_80),
                 "data": {**warning, "rung": 1, "fraction": 0.8}}]
        conn.execute(sa.insert(events), feed)
        if sql.dialect.name == "postgresql":  # 0001 inserted the counter row; PostgreSQL numbers the feed by it
            conn.execute(sa.update(feed_counter).where(feed_counter.c.id == 1).values(last_seq=len(feed)))


def marks(sql: sa.Engine) -> set[tuple[str, str, int, int]]:
    """Every (case, deadline, cycle, rung) in ``kntc_fired_rungs``."""
    with sql.connect() as conn:
        return {(r.case_id, r.deadline, r.cycle, r.rung) for r in conn.execute(
            sa.select(fired_rungs.c.case_id, fired_rungs.c.deadline, fired_rungs.c.cycle, fired_rungs.c.rung))}


def fired_through(sql: sa.Engine) -> int:
    """The acceptance ledger's ``fired_through``."""
    with sql.connect() as conn:
        return int(conn.execute(sa.select(deadlines_head.c.fired_through).where(
            deadlines_head.c.case_id == CASE_ID, deadlines_head.c.name == "acceptance")).scalar_one())


def table_rows(sql: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every kntc table, as stored (reflected, sorted)."""
    found = sa.MetaData()
    found.reflect(sql)
    with sql.connect() as conn:
        return {name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for name, table in sorted(found.tables.items())}


def deadline_events(engine: Engine, after: int) -> list[tuple[str, str, int]]:
    """(type, deadline, rung) of the warning and overdue events after feed seq ``after``."""
    return [(e.type, e.data["deadline"], e.data["rung"]) for e in engine.events(after=after, limit=1000)
            if e.type in ("deadline.warning", "deadline.overdue")]


def engine_after_due(settings: Settings, url: str) -> Engine:
    """An engine on the upgraded database, its clock on Wed 18/03/2026 08:00 (every rung past)."""
    return build(settings, database_url=url, clock=ManualClock(AFTER_DUE))


# ----------------------------------------------------------------------------- tests


def test_fired_warnings_keep_their_identity_and_only_the_due_rung_fires(
        sql: sa.Engine, url: str, settings: Settings) -> None:
    """After upgrading, a deadline whose two warnings fired under 0001 sends only its overdue notice, once."""
    seed_0001(sql, warnings_fired=2)
    upgrade(sql)
    assert current_revision(sql) == head_revision()
    assert marks(sql) == {(CASE_ID, "acceptance", 0, 500), (CASE_ID, "acceptance", 0, 800)}
    assert fired_through(sql) == 800
    engine = engine_after_due(settings, url)
    try:
        report = engine.tick()
        assert (report.fired, report.events) == (1, 1)
        assert deadline_events(engine, after=3) == [("deadline.overdue", "acceptance", 1000)]
        assert engine.get(CASE_ID).deadlines["acceptance"].status == "missed"
        feed = engine.events(after=0, limit=1000)
        again = engine.tick()
        assert (again.fired, again.events) == (0, 0)
        assert engine.events(after=0, limit=1000) == feed
    finally:
        engine.close()
    assert marks(sql) == {(CASE_ID, "acceptance", 0, rung) for rung in (500, 800, 1000)}


def test_upgrading_a_migrated_database_again_changes_nothing(sql: sa.Engine) -> None:
    """Running ``kntc db upgrade`` again after 0002 rekeyed the rungs leaves the revision and every row as they are."""
    seed_0001(sql, warnings_fired=2)
    upgrade(sql)
    revision, rows = current_revision(sql), table_rows(sql)
    upgrade(sql)
    assert current_revision(sql) == revision == head_revision()
    assert table_rows(sql) == rows
    assert marks(sql) == {(CASE_ID, "acceptance", 0, 500), (CASE_ID, "acceptance", 0, 800)}
    assert fired_through(sql) == 800


def test_a_deadline_with_nothing_fired_fires_all_three_rungs_in_order(
        sql: sa.Engine, url: str, settings: Settings) -> None:
    """A deadline that had fired nothing under 0001 sends both warnings and then the overdue notice, each once."""
    seed_0001(sql, warnings_fired=0)
    upgrade(sql)
    assert marks(sql) == set()
    assert fired_through(sql) == 0
    engine = engine_after_due(settings, url)
    try:
        report = engine.tick()
        assert (report.fired, report.events) == (3, 3)
        assert deadline_events(engine, after=1) == [("deadline.warning", "acceptance", 500),
                                                    ("deadline.warning", "acceptance", 800),
                                                    ("deadline.overdue", "acceptance", 1000)]
        assert engine.tick().fired == 0
    finally:
        engine.close()
    assert marks(sql) == {(CASE_ID, "acceptance", 0, rung) for rung in (500, 800, 1000)}
    assert fired_through(sql) == 1000
