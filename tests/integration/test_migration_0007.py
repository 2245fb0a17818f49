"""Migration 0007 on a database kntc 0006 wrote: every row is kept, and signatures are filled in as they are needed.

0007 adds ``kntc_case_groups.signature`` (NULL for the rows before it). The test writes, with
SQLAlchemy Core in the 0006 column names, a grouped complaint as kntc 0006 stored it (its group,
its band keys), upgrades to head and checks that nothing of those rows changed. Then a second
letter about the same matter is opened: it still joins the old case's group (the old case is
signed from its text as a candidate), and the old case's signature is stored, equal to the one
its text gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from adapters.sql.migrate import current_revision, head_revision, upgrade
from engine.grouping import decode_signature, respondent_key, signature
from engine.groups import grouping_reactors
from engine.testing import ManualClock
from tests.integration import migration_helpers
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, old_tables
from tests.letters import RESPONDENT, SAME_MATTER

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OLD, GROUP = "0006c0ffee0000000000000000000001", "g-0006c0ffee0000000000000000000001"
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 02/03/2026, 09:00 (the clock fixture's moment)
SUBJECT, CONTENT = SAME_MATTER[0]

OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "kntc_cases": ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at",
                   "opened_at", "updated_at", "channel", "subject", "respondent", "content", "petitioner_count",
                   "fields", "history_head", "priority", "forwarded_from", "flags"),
    "kntc_groups": ("id", "created_at"),
    "kntc_case_groups": ("case_id", "group_id", "respondent_key", "received_at", "resolved_at", "overdues",
                         "transferred_to"),
    "kntc_group_bands": ("band", "case_id"),
}
_TYPES: dict[str, Any] = {"version": sa.Integer, "petitioner_count": sa.Integer, "overdues": sa.Integer,
                          "fields": JSON, "forwarded_from": JSON, "flags": JSON, "transferred_to": JSON,
                          "received_at": MOMENT, "opened_at": MOMENT, "updated_at": MOMENT, "created_at": MOMENT,
                          "resolved_at": MOMENT}
TABLES = old_tables(OLD_COLUMNS, _TYPES)


def seed_0006(sql: sa.Engine) -> None:
    """Build the 0006 schema and write one grouped complaint as kntc 0006 left it."""
    at_revision(sql, "0006")
    at = RECEIVED.astimezone(UTC)
    with sql.begin() as conn:
        conn.execute(sa.insert(TABLES["kntc_cases"]).values(
            id=OLD, kind="complaint", definition_hash="f" * 64, state="received", previous_state=None, version=1,
            received_at=at, opened_at=at, updated_at=at, channel="post", subject=SUBJECT, respondent=RESPONDENT,
            content=CONTENT, petitioner_count=1, fields={"instance": 1}, history_head="0" * 64, priority="normal",
            forwarded_from=None, flags=[]))
        conn.execute(sa.insert(TABLES["kntc_groups"]).values(id=GROUP, created_at=at))
        conn.execute(sa.insert(TABLES["kntc_case_groups"]).values(
            case_id=OLD, group_id=GROUP, respondent_key=respondent_key(RESPONDENT), received_at=at,
            resolved_at=None, overdues=0, transferred_to=[]))
        conn.execute(sa.insert(TABLES["kntc_group_bands"]),
                     [{"band": band, "case_id": OLD} for band in signature(f"{SUBJECT}\n{CONTENT}").bands])


def old_rows(sql: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the seeded tables, in their 0006 columns, sorted."""
    return migration_helpers.old_rows(sql, TABLES)


def stored_signature(sql: sa.Engine, case_id: str) -> bytes | None:
    with sql.connect() as conn:
        value = conn.execute(sa.text("SELECT signature FROM kntc_case_groups WHERE case_id = :c"),
                             {"c": case_id}).scalar_one()
    return bytes(value) if value is not None else None


def test_upgrading_a_0006_database_keeps_every_row(sql: sa.Engine) -> None:
    """The rows are all there, column for column; the old case has no stored signature yet."""
    seed_0006(sql)
    before = old_rows(sql)
    upgrade(sql)
    assert current_revision(sql) == head_revision() >= "0007"
    assert old_rows(sql) == before
    assert stored_signature(sql, OLD) is None


def test_a_case_from_before_0007_is_signed_when_a_new_letter_finds_it(sql: sa.Engine, url: str, settings: Any,
                                                                      clock: ManualClock) -> None:
    """A new letter of the same matter joins the old case's group; the old case's signature is then stored."""
    from adapters.bootstrap import build

    seed_0006(sql)
    eng = build(settings, database_url=url, clock=clock, reactors=grouping_reactors())  # migrates to head
    try:
        subject, content = SAME_MATTER[1]
        case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Người thứ hai"}],
                             respondent=RESPONDENT, subject=subject, content=content)
        with eng.runtime.store.reader() as tx:
            assert tx.case_group(case.id) == GROUP
            assert [m.case_id for m in tx.group_members(GROUP)] == [OLD, case.id]
    finally:
        eng.close()
    old = signature(f"{SUBJECT}\n{CONTENT}")
    assert decode_signature(stored_signature(sql, OLD)) == (old.words, old.values)
    new = signature(f"{subject}\n{content}")
    assert decode_signature(stored_signature(sql, case.id)) == (new.words, new.values)
