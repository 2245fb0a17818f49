"""Migration 0005 on a database kntc 0004 wrote: every row is kept, and the new columns start empty.

0005 adds ``kntc_cases.forwarded_from`` (NULL: not said), ``kntc_cases.flags`` and
``kntc_case_groups.transferred_to`` (``[]``), and an index on ``kntc_case_groups.received_at``.
Each test writes, with SQLAlchemy Core in the 0004 column names, two grouped complaints as kntc
0004 stored them (one resolved, one overdue twice), upgrades to head and reads them through the
store: nothing of the 0004 rows changed, and the new methods work on the old rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.sql.migrate import current_revision, head_revision, upgrade
from adapters.sql.store import SqlStore
from tests.integration import migration_helpers
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, old_tables, utc

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, SECOND, GROUP = "0004c0ffee0000000000000000000001", "0004c0ffee0000000000000000000002", "g-0004"
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)       # Monday 02/03/2026, 09:00
RECEIVED_2 = datetime(2026, 3, 3, 14, 0, tzinfo=TZ)    # Tuesday 03/03/2026, 14:00
RESOLVED = datetime(2026, 3, 20, 10, 0, tzinfo=TZ)     # the first one decided on Friday 20/03/2026
FIELDS = {"instance": 1, "remote_area": False, "complex": False, "parent_case_id": None}

OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "kntc_cases": ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at",
                   "opened_at", "updated_at", "channel", "subject", "respondent", "content", "petitioner_count",
                   "fields", "history_head", "priority"),
    "kntc_groups": ("id", "created_at"),
    "kntc_case_groups": ("case_id", "group_id", "respondent_key", "received_at", "resolved_at", "overdues"),
    "kntc_group_bands": ("band", "case_id"),
}
_TYPES: dict[str, Any] = {"version": sa.Integer, "petitioner_count": sa.Integer, "overdues": sa.Integer,
                          "fields": JSON, "received_at": MOMENT, "opened_at": MOMENT, "updated_at": MOMENT,
                          "created_at": MOMENT, "resolved_at": MOMENT}
TABLES = old_tables(OLD_COLUMNS, _TYPES)


def seed_0004(sql: sa.Engine) -> None:
    """Build the 0004 schema and write two grouped complaints as kntc 0004 left them."""
    at_revision(sql, "0004")
    case = {"kind": "complaint", "definition_hash": "f" * 64, "previous_state": None, "channel": "forwarded",
            "respondent": "UBND xã Tân Lập", "content": "", "petitioner_count": 1, "fields": FIELDS,
            "history_head": "0" * 64, "priority": "normal"}
    with sql.begin() as conn:
        conn.execute(sa.insert(TABLES["kntc_cases"]), [
            {**case, "id": FIRST, "state": "decided", "version": 5, "received_at": utc(RECEIVED),
             "opened_at": utc(RECEIVED), "updated_at": utc(RESOLVED), "subject": "Thu hồi đất"},
            {**case, "id": SECOND, "state": "verifying", "version": 3, "received_at": utc(RECEIVED_2),
             "opened_at": utc(RECEIVED_2), "updated_at": utc(RECEIVED_2), "subject": "Thu hồi đất ở",
             "priority": "high"}])
        conn.execute(sa.insert(TABLES["kntc_groups"]).values(id=GROUP, created_at=utc(RECEIVED)))
        conn.execute(sa.insert(TABLES["kntc_case_groups"]), [
            {"case_id": FIRST, "group_id": GROUP, "respondent_key": "ubnd xa tan lap", "received_at": utc(RECEIVED),
             "resolved_at": utc(RESOLVED), "overdues": 0},
            {"case_id": SECOND, "group_id": GROUP, "respondent_key": "ubnd xa tan lap",
             "received_at": utc(RECEIVED_2), "resolved_at": None, "overdues": 2}])
        conn.execute(sa.insert(TABLES["kntc_group_bands"]), [{"band": "b0", "case_id": FIRST},
                                                             {"band": "b0", "case_id": SECOND}])


def old_rows(sql: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the seeded tables, in their 0004 columns, sorted."""
    return migration_helpers.old_rows(sql, TABLES)


def test_upgrading_a_0004_database_keeps_every_row(sql: sa.Engine, url: str) -> None:
    """Rows are all there, column for column; the new columns read as no forwarding body, no flags, no transfers."""
    seed_0004(sql)
    before = old_rows(sql)
    upgrade(sql)
    assert current_revision(sql) == head_revision()
    assert old_rows(sql) == before
    store = SqlStore(url)
    try:
        with store.reader() as tx:
            first, second = tx.get_case(FIRST), tx.get_case(SECOND)
            members = tx.group_members(GROUP)
        assert first is not None and second is not None
        assert (first.state, first.version, first.fields, first.received_at) == ("decided", 5, FIELDS, RECEIVED)
        assert (second.version, second.priority) == (3, "high")
        assert first.forwarded_from is None and first.flags == [] and second.flags == []
        assert [(m.case_id, m.resolved_at, m.overdues, m.transferred_to, m.flags, m.forwarded_from)
                for m in members] == [(FIRST, RESOLVED, 0, (), (), None), (SECOND, None, 2, (), (), None)]
        assert members[1].fields == FIELDS
    finally:
        store.close()


def test_the_new_methods_work_on_rows_from_before_0005(sql: sa.Engine, url: str) -> None:
    """A 0004 case takes flags and transfers, and its group is found by when its letters came."""
    seed_0004(sql)
    upgrade(sql)
    store = SqlStore(url)
    try:
        flag = {"type": "prolonged", "source": "rule", "by": "prolonged", "since": "2026-03-20T03:00:00+00:00",
                "hot_spot": f"prolonged-{GROUP}", "detail": {"overdues": 2}}
        with store.transaction() as tx:
            tx.mark_transferred(SECOND, "UBND huyện cũ")
            tx.mark_transferred(SECOND, "UBND tỉnh Lâm Đồng")
            tx.set_case_flags(SECOND, [flag])
        with store.reader() as tx:
            _, second = tx.group_members(GROUP)
            record = tx.get_case(SECOND)
            # the second letter (Tue 03/03) is unresolved; the first (Mon 02/03) was resolved on 20/03
            this_week = tx.groups_received_between(datetime(2026, 3, 2, tzinfo=TZ), datetime(2026, 3, 9, tzinfo=TZ))
            monday = tx.groups_received_between(datetime(2026, 3, 2, tzinfo=TZ), datetime(2026, 3, 3, tzinfo=TZ))
        assert second.transferred_to == ("UBND huyện cũ", "UBND tỉnh Lâm Đồng") and second.flags == (flag,)
        assert record is not None and record.version == 3 and record.flags == [flag]
        assert this_week == [GROUP] and monday == []
    finally:
        store.close()


def test_the_index_on_received_at_is_there(sql: sa.Engine) -> None:
    """groups_received_between reads an index, not the whole table."""
    upgrade(sql)
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(sql).get_indexes("kntc_case_groups")}
    assert indexes["ix_kntc_case_groups_received_at"] == ["received_at"]
