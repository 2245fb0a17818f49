"""Migration 0006 on a database kntc 0005 wrote: history rows kept, their chain still verifies.

0006 adds ``kntc_history.occurred_at`` (NULL: the act happened when it was recorded). Each test
writes, with SQLAlchemy Core in the 0005 column names, a complaint accepted by an officer as kntc
0005 stored it (two history rows chained by the hash of that version, which never covered
``occurred_at``), upgrades to head and reads it through kntc: every row is there column for
column, ``verify_audit`` is green, and a back-dated act on the old case chains on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from adapters.bootstrap import build
from adapters.config import Settings
from adapters.sql.migrate import alembic_config, current_revision, head_revision, upgrade
from engine.loader import load_directory
from engine.model import GENESIS, HistoryEntry, chain_hash
from engine.testing import ManualClock
from tests.integration import migration_helpers
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, old_tables

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]
CASE = "0005c0ffee0000000000000000000001"
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)   # Monday 02/03/2026 09:00
ACCEPTED = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)  # Wednesday 04/03/2026 10:00
FIELDS = {"instance": 1, "remote_area": False, "complex": False, "parent_case_id": None}

OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "kntc_cases": ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at",
                   "opened_at", "updated_at", "channel", "subject", "respondent", "content", "petitioner_count",
                   "fields", "history_head", "priority", "forwarded_from", "flags"),
    "kntc_history": ("case_id", "seq", "event", "source", "target", "actor", "role", "at", "payload", "hash"),
}
_TYPES: dict[str, Any] = {"version": sa.Integer, "petitioner_count": sa.Integer, "seq": sa.Integer,
                          "fields": JSON, "forwarded_from": JSON, "flags": JSON, "payload": JSON,
                          "received_at": MOMENT, "opened_at": MOMENT, "updated_at": MOMENT, "at": MOMENT}
TABLES = old_tables(OLD_COLUMNS, _TYPES)


def seed_0005(sql: sa.Engine) -> str:
    """Build the 0005 schema and write a complaint received Mon 02/03 and accepted Wed 04/03; its head hash."""
    at_revision(sql, "0005")
    definition = load_directory(ROOT / "workflows")["complaint"].content_hash
    opened = HistoryEntry(1, "opened", None, "intake_check", "system", "system", RECEIVED, {}, "")
    opened = replace(opened, hash=chain_hash(GENESIS, CASE, opened))
    accepted = HistoryEntry(2, "accept", "intake_check", "accepted", "cb01", "inspector", ACCEPTED, {}, "")
    accepted = replace(accepted, hash=chain_hash(opened.hash, CASE, accepted))
    with sql.begin() as conn:
        conn.execute(sa.insert(TABLES["kntc_cases"]).values(
            id=CASE, kind="complaint", definition_hash=definition, state="accepted", previous_state=None,
            version=2, received_at=RECEIVED.astimezone(UTC), opened_at=RECEIVED.astimezone(UTC),
            updated_at=ACCEPTED.astimezone(UTC), channel="post", subject="Thu hồi đất", respondent="UBND xã",
            content="", petitioner_count=1, fields=FIELDS, history_head=accepted.hash, priority="normal",
            forwarded_from=None, flags=[]))
        conn.execute(sa.insert(TABLES["kntc_history"]), [
            {"case_id": CASE, "seq": h.seq, "event": h.event, "source": h.source, "target": h.target,
             "actor": h.actor, "role": h.role, "at": h.at.astimezone(UTC), "payload": h.payload, "hash": h.hash}
            for h in (opened, accepted)])
    return accepted.hash


def old_rows(sql: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the seeded tables, in their 0005 columns, sorted."""
    return migration_helpers.old_rows(sql, TABLES)


def test_upgrading_a_0005_database_keeps_the_history_and_its_chain(sql: sa.Engine, url: str,
                                                                     settings: Settings) -> None:
    """Rows are all there, occurred_at reads None, and the audit of the old chain is green."""
    head = seed_0005(sql)
    before = old_rows(sql)
    upgrade(sql)
    assert current_revision(sql) == head_revision() and head_revision() >= "0006"
    assert old_rows(sql) == before
    clock = ManualClock(datetime(2026, 3, 6, 16, 0, tzinfo=TZ))  # Friday 06/03/2026
    engine = build(settings, database_url=url, clock=clock)
    try:
        history = engine.history(CASE)
        assert [(h.seq, h.event, h.at, h.occurred_at) for h in history] == [
            (1, "opened", RECEIVED, None), (2, "accept", ACCEPTED, None)]
        assert history[-1].hash == head
        report = engine.verify_audit()
        assert report.ok and (report.cases, report.rows) == (1, 2)
        # a back-dated act on the old case: Thursday 05/03 10:00, after the 0005 acceptance
        engine.fire(CASE, "start_verification", actor="cb01", role="inspector",
                    occurred_at=ACCEPTED + timedelta(days=1))
        assert engine.history(CASE)[-1].occurred_at == datetime(2026, 3, 5, 10, 0, tzinfo=TZ)
        assert engine.verify_audit().ok
    finally:
        engine.close()


def test_the_column_is_nullable_and_downgrades(sql: sa.Engine) -> None:
    """0006 adds one nullable column and its downgrade removes it again (0005 as it was)."""
    upgrade(sql, "0006")
    columns = {c["name"]: c for c in sa.inspect(sql).get_columns("kntc_history")}
    assert columns["occurred_at"]["nullable"] is True
    config = alembic_config()
    with sql.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    assert "occurred_at" not in {c["name"] for c in sa.inspect(sql).get_columns("kntc_history")}
