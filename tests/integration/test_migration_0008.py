"""Migration 0008 on a database kntc 0007 wrote: every row is kept, and the new tables start empty.

0008 adds two tables only, ``kntc_people`` and ``kntc_duty_roster``. The test writes, with SQLAlchemy
Core in the 0007 column names, a case, a claimed job slot and a queued message as kntc 0007 stored
them, upgrades to 0008 and checks that nothing of those rows changed; then kntc's store (built on the
upgraded database) imports officers and a roster and reads them back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.sql.migrate import current_revision, upgrade
from engine.people import Person
from engine.roster import Duty
from engine.testing import ManualClock
from tests.integration import migration_helpers
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, old_tables, utc

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 02/03/2026, 09:00 (the clock fixture's moment)
OLD = "0007c0ffee0000000000000000000001"

OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "kntc_cases": ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at",
                   "opened_at", "updated_at", "channel", "subject", "respondent", "content", "petitioner_count",
                   "fields", "history_head", "priority", "forwarded_from", "flags"),
    "kntc_jobs": ("kind", "subject", "slot", "done_at", "attempts", "last_error", "next_try_at"),
    "kntc_outbox": ("id", "channel", "kind", "case_id", "data", "status", "attempts", "last_error",
                    "next_attempt_at", "created_at", "sent_at", "idempotency_key"),
}
_TYPES: dict[str, Any] = {"version": sa.Integer, "petitioner_count": sa.Integer, "attempts": sa.Integer,
                          "id": sa.String, "fields": JSON, "forwarded_from": JSON, "flags": JSON, "data": JSON,
                          "received_at": MOMENT, "opened_at": MOMENT, "updated_at": MOMENT, "done_at": MOMENT,
                          "next_try_at": MOMENT, "next_attempt_at": MOMENT, "created_at": MOMENT, "sent_at": MOMENT}
TABLES = old_tables(OLD_COLUMNS, _TYPES)
NEW_MESSAGE = old_tables({"kntc_outbox": OLD_COLUMNS["kntc_outbox"][1:]}, _TYPES)["kntc_outbox"]


def seed_0007(sql: sa.Engine) -> None:
    """Build the 0007 schema and write a case, a done job slot and a pending message as kntc 0007 left them."""
    at_revision(sql, "0007")
    at = utc(AT)
    with sql.begin() as conn:
        conn.execute(sa.insert(TABLES["kntc_cases"]).values(
            id=OLD, kind="complaint", definition_hash="f" * 64, state="received", previous_state=None, version=1,
            received_at=at, opened_at=at, updated_at=at, channel="post", subject="Thu hồi đất",
            respondent="UBND xã Tân Lập", content="", petitioner_count=1, fields={"instance": 1},
            history_head="0" * 64, priority="normal", forwarded_from=None, flags=[]))
        conn.execute(sa.insert(TABLES["kntc_jobs"]).values(kind="period.phase", subject="bau_cu_2026",
                                                           slot="bau_cu_2026:before", done_at=at, attempts=0,
                                                           last_error=None, next_try_at=None))
        # the message's id is the database's (a serial, the rowid): inserted without it
        conn.execute(sa.insert(NEW_MESSAGE).values(
            channel="notify", kind="hot_spot_at_once", case_id=OLD, data={"role": "head_of_unit"}, status="pending",
            attempts=0, last_error=None, next_attempt_at=at, created_at=at, sent_at=None, idempotency_key=None))


def test_upgrading_a_0007_database_keeps_every_row_and_adds_empty_tables(sql: sa.Engine) -> None:
    """The rows are all there, column for column; kntc_people and kntc_duty_roster exist, empty."""
    seed_0007(sql)
    before = migration_helpers.old_rows(sql, TABLES)
    upgrade(sql, "0008")
    assert current_revision(sql) == "0008"
    assert migration_helpers.old_rows(sql, TABLES) == before
    with sql.connect() as conn:
        for table in ("kntc_people", "kntc_duty_roster"):
            assert conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one() == 0


def test_officers_and_a_roster_are_stored_on_an_upgraded_database(sql: sa.Engine, url: str, settings: Any,
                                                                 clock: ManualClock) -> None:
    """build() migrates the 0007 database; an officer and election day's duty go in and come back."""
    from adapters.bootstrap import build

    seed_0007(sql)
    eng = build(settings, database_url=url, clock=clock)
    officer = Person("tp02", "Hoàng Thị Hoa", "thanh_tra", ("head_of_unit",), "tp02@so-khcn.example")
    duty = Duty(date(2026, 3, 15), "tp02", "Phòng tiếp công dân", "ngày bầu cử")
    try:
        with eng.runtime.store.transaction() as tx:
            tx.upsert_people([officer], clock.now())
            tx.replace_duties(duty.day, duty.day, [duty])
        with eng.runtime.store.reader() as tx:
            assert tx.people() == [officer]
            assert tx.duties(date(2026, 3, 1), date(2026, 3, 31)) == [duty]
            assert tx.get_case(OLD) is not None
    finally:
        eng.close()
