"""Migration 0010 on a database kntc 0009 wrote: every party sealed, none lost, and a reveal reads them back.

Until 0009 ``kntc_parties.data`` held the petitioners in plain JSON. The test writes, with
SQLAlchemy Core in the 0009 column names, denunciations as kntc 0009 stored them (more parties
than a migration page holds), upgrades to head and checks that no row holds a name any more (nor
the SQLite file's bytes), that the same rows are there, and that ``reveal_identity`` returns each
case's parties as they were, in order. Run again, the upgrade changes nothing.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from adapters.secrets import ENV, generate_key
from adapters.sql.migrate import current_revision, head_revision, upgrade
from engine.errors import ConfigError
from engine.testing import ManualClock
from tests.integration.migration_helpers import JSON, MOMENT, at_revision, old_tables

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 02/03/2026, 09:00 (the clock fixture's moment)
MIGRATION = importlib.import_module("adapters.sql.migrations.versions.0010_encrypt_parties")
CASES = 7
PER_CASE = 3  # 21 parties: more than one page when the page is made small below

OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "kntc_cases": ("id", "kind", "definition_hash", "state", "previous_state", "version", "received_at",
                   "opened_at", "updated_at", "channel", "subject", "respondent", "content", "petitioner_count",
                   "fields", "history_head", "priority", "forwarded_from", "flags"),
    "kntc_parties": ("case_id", "idx", "data"),
}
_TYPES: dict[str, Any] = {"version": sa.Integer, "petitioner_count": sa.Integer, "idx": sa.Integer, "fields": JSON,
                          "forwarded_from": JSON, "flags": JSON, "data": JSON, "received_at": MOMENT,
                          "opened_at": MOMENT, "updated_at": MOMENT}
TABLES = old_tables(OLD_COLUMNS, _TYPES)


def case_id(n: int) -> str:
    return f"0009c0ffee{n:022d}"


def party(n: int, i: int) -> dict[str, Any]:
    return {"name": f"Người Tốcáo Qwzx{n}p{i}", "id_number": f"0791{n:02d}{i:06d}", "address": f"Số {n} ngõ {i}"}


def seed_0009(sql: sa.Engine, definition_hash: str) -> None:
    """Build the 0009 schema and write denunciations with their plain parties as kntc 0009 left them."""
    at_revision(sql, "0009")
    at = RECEIVED.astimezone(UTC)
    with sql.begin() as conn:
        for n in range(CASES):
            conn.execute(sa.insert(TABLES["kntc_cases"]).values(
                id=case_id(n), kind="denunciation", definition_hash=definition_hash, state="received",
                previous_state=None, version=1, received_at=at, opened_at=at, updated_at=at, channel="post",
                subject="Tố cáo", respondent="UBND xã A", content="", petitioner_count=PER_CASE, fields={},
                history_head="0" * 64, priority="normal", forwarded_from=None, flags=[]))
            conn.execute(sa.insert(TABLES["kntc_parties"]),
                         [{"case_id": case_id(n), "idx": i, "data": party(n, i)} for i in range(PER_CASE)])


def stored(sql: sa.Engine) -> list[tuple[str, int, Any]]:
    with sql.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(TABLES["kntc_parties"]).order_by("case_id", "idx"))]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, generate_key())
    monkeypatch.setattr(MIGRATION, "PAGE", 4)  # 21 rows: six pages, the last one short


def test_upgrading_seals_every_party_and_a_reveal_reads_them_back(sql: sa.Engine, url: str, settings: Any,
                                                                   clock: ManualClock, tmp_path: Path) -> None:
    from adapters.bootstrap import build, load_workflows

    seed_0009(sql, load_workflows(settings)["denunciation"].content_hash)
    before = stored(sql)
    upgrade(sql)
    assert current_revision(sql) == head_revision() >= "0010"
    after = stored(sql)
    assert [(c, i) for c, i, _ in after] == [(c, i) for c, i, _ in before]  # no row lost, none added
    assert all(set(data) == {"sealed"} for _, _, data in after)
    text = json.dumps([d for _, _, d in after], ensure_ascii=False)
    assert "Qwzx" not in text and "0791" not in text

    upgrade(sql)  # again: nothing to do, nothing changed
    assert stored(sql) == after

    eng = build(settings, database_url=url, clock=clock)
    try:
        for n in range(CASES):
            assert eng.reveal_identity(case_id(n), "u-1", "director", "xác minh") == [
                party(n, i) for i in range(PER_CASE)]
    finally:
        eng.close()
    sql.dispose()
    if url.startswith("sqlite"):  # the freed plain text was overwritten, not left in free pages
        for file in tmp_path.glob("kntc.db*"):
            raw = file.read_bytes()
            assert b"Qwzx" not in raw and "Qwzx".encode("utf-16-le") not in raw, file.name


def test_without_a_key_postgres_refuses_and_sqlite_seals_with_its_key_file(
        sql: sa.Engine, url: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: refused, nothing changed; SQLite: the key file beside the database seals them."""
    from adapters.bootstrap import load_workflows

    seed_0009(sql, load_workflows(settings)["denunciation"].content_hash)
    before = stored(sql)
    monkeypatch.delenv(ENV)
    if url.startswith("sqlite"):
        upgrade(sql)
        assert current_revision(sql) == head_revision()
        after = stored(sql)
        assert len(after) == len(before) and after != before  # the same rows, sealed
        assert all(set(data) == {"sealed"} for *_, data in after)
        return
    with pytest.raises(ConfigError, match=ENV):
        upgrade(sql)
    assert current_revision(sql) == "0009"
    assert stored(sql) == before


def test_downgrading_opens_them_again(sql: sa.Engine, settings: Any) -> None:
    from adapters.bootstrap import load_workflows

    seed_0009(sql, load_workflows(settings)["denunciation"].content_hash)
    before = stored(sql)
    upgrade(sql)
    from alembic import command

    from adapters.sql.migrate import alembic_config
    config = alembic_config()
    with sql.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
    assert stored(sql) == before
