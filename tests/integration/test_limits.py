"""Size limits of API input (config.yaml ``limits:``) and SQLite's durability (``sqlite_synchronous``).

An input over a limit is refused with a ValidationError naming the field, and changes nothing.
"""

from __future__ import annotations

import copy
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import adapters.sql.sqlite as sqlite
from adapters.bootstrap import build_store
from adapters.config import LimitsSettings, Settings, load_settings
from engine.errors import ConfigError, ValidationError
from engine.inputs import DEFAULT_LIMITS, CaseInput, Limits
from engine.memory_store import MemoryStore
from engine.service import Engine
from engine.testing import ManualClock, memory_engine
from tests.fuzzing import nested

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 2 March 2026, 09:00 in Hà Nội


def letter(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"received_at": NOW - timedelta(hours=1), "petitioners": [{"name": "Phạm Thị Dung"}],
                            "respondent": "UBND xã", "subject": "Đất đai", "content": "Nội dung"}
    return {**base, **changes}


def stored(engine: Engine) -> dict[str, Any]:
    store = engine.runtime.store
    assert isinstance(store, MemoryStore)
    return copy.deepcopy(vars(store._data))


def config_with(tmp_path: Path, extra: str) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "workflows_dir: workflows", f"workflows_dir: {ROOT / 'workflows'}")
    path = tmp_path / "config.yaml"
    path.write_text(text + "\n" + extra + "\n", encoding="utf-8")
    return path


# -- configuration --------------------------------------------------------------------------------
def test_the_limits_and_the_durability_have_defaults() -> None:
    settings = load_settings(ROOT / "config.yaml")
    assert settings.limits.limits() == DEFAULT_LIMITS == Limits(
        max_content_chars=100_000, max_petitioners=1_000, max_payload_bytes=256 * 1024, max_fields_bytes=256 * 1024)
    assert settings.sqlite_synchronous == "normal"


def test_the_limits_are_configurable(tmp_path: Path) -> None:
    path = config_with(tmp_path, "limits: {max_content_chars: 10, max_petitioners: 2}\nsqlite_synchronous: full")
    settings = load_settings(path)
    assert settings.limits.limits() == Limits(max_content_chars=10, max_petitioners=2)
    assert settings.sqlite_synchronous == "full"


@pytest.mark.parametrize("extra, words", [
    ("limits: {max_content_chars: 0}", "max_content_chars"),
    ("limits: {max_payload_bytes: many}", "max_payload_bytes"),
    ("limits: {max_pages: 3}", "unknown key"),
    ("sqlite_synchronous: off", "sqlite_synchronous"),
])
def test_a_wrong_limit_is_refused_at_its_line(tmp_path: Path, extra: str, words: str) -> None:
    path = config_with(tmp_path, extra)
    last_line = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"{path}:{last_line}:" in str(caught.value) and words in str(caught.value)


# -- the limits themselves --------------------------------------------------------------------------
def test_content_past_the_limit_names_content() -> None:
    small = Limits(max_content_chars=10)
    assert CaseInput.parse(**letter(content="x" * 10), channel="post", now=NOW, limits=small).content == "x" * 10
    with pytest.raises(ValidationError) as caught:
        CaseInput.parse(**letter(content="x" * 11), channel="post", now=NOW, limits=small)
    assert caught.value.field == "content"


def test_petitioners_past_the_limit_name_petitioners() -> None:
    small = Limits(max_petitioners=2)
    assert len(CaseInput.parse(**letter(petitioners=[{"name": "A"}] * 2), channel="post", now=NOW,
                               limits=small).petitioners) == 2
    with pytest.raises(ValidationError) as caught:
        CaseInput.parse(**letter(petitioners=[{"name": "A"}] * 3), channel="post", now=NOW, limits=small)
    assert caught.value.field == "petitioners"


@pytest.mark.parametrize("value, field", [
    ({"reason": "x" * 100}, "payload"),
    ({"reason": ["ab"] * 40}, "payload"),
    ({"a": {"b": "x" * 100}}, "payload"),
    ({"reason": "a\x00b"}, "payload.reason"),
    ({"reason": nested(40)}, "payload.reason[0][0]"),
    ({"a\nb": "\x00"}, "payload['a\\nb']"),  # a key that is no plain name is quoted: the error stays one line
    ("not a mapping", "payload"),
])
def test_a_payload_too_big_deep_or_with_control_characters_is_refused(value: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Limits(max_payload_bytes=64).check_payload(value)
    assert caught.value.field.startswith(field), caught.value


def test_a_payload_at_the_limit_passes_and_fields_have_their_own() -> None:
    limits = Limits(max_payload_bytes=64, max_fields_bytes=16)
    limits.check_payload({"reason": "x" * 50})  # 6 + 2 (the key) + 50 bytes: within 64
    with pytest.raises(ValidationError) as caught:
        limits.check_fields({"reason": "x" * 50})
    assert caught.value.field == "fields"


def test_a_limit_must_be_a_positive_integer() -> None:
    with pytest.raises(ValidationError, match=r"limits\.max_petitioners"):
        Limits(max_petitioners=0)
    with pytest.raises(ValidationError, match=r"limits\.max_content_chars"):
        Limits(max_content_chars=True)
    assert LimitsSettings(max_content_chars=5).limits().max_content_chars == 5


# -- through the engine -----------------------------------------------------------------------------
@pytest.mark.parametrize("changes, field", [
    ({"content": "x" * 100_001}, "content"),  # the default: 100 000 characters
    ({"petitioners": [{"name": "A"}] * 1_001}, "petitioners"),  # the default: 1 000
    ({"content": "Nội dung\x00"}, "content"),
    ({"subject": "\x1b[31mĐất đai"}, "subject"),
    ({"petitioners": [{"name": "Phạm\x07"}]}, "petitioners[0].name"),
])
def test_the_engine_refuses_input_past_the_default_limits_and_changes_nothing(changes: dict[str, Any],
                                                                              field: str) -> None:
    engine = memory_engine(ManualClock(NOW))
    before = stored(engine)
    with pytest.raises(ValidationError) as caught:
        engine.open_case("complaint", **letter(**changes))
    assert caught.value.field == field
    assert stored(engine) == before


def test_content_at_the_default_limit_is_taken() -> None:
    engine = memory_engine(ManualClock(NOW))
    assert len(engine.open_case("complaint", **letter(content="x" * 100_000)).id) > 0


def test_the_engine_refuses_a_ten_megabyte_payload_naming_it() -> None:
    engine = memory_engine(ManualClock(NOW))
    case = engine.open_case("complaint", **letter())
    before = stored(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(case.id, "reject", actor="Lê Văn Cường", role="inspector",
                    payload={"reason": "x" * (10 * 1024 * 1024)})
    assert caught.value.field == "payload"
    assert stored(engine) == before


def test_the_engine_uses_its_configured_limits() -> None:
    engine = memory_engine(ManualClock(NOW))
    engine.runtime.limits = Limits(max_content_chars=10)
    with pytest.raises(ValidationError) as caught:
        engine.open_case("complaint", **letter(content="x" * 11))
    assert caught.value.field == "content"


# -- SQLite durability --------------------------------------------------------------------------------
def pragma(conn: Any) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def test_a_sqlite_connection_is_normal_by_default_and_full_when_asked(tmp_path: Path) -> None:
    path = str(tmp_path / "kntc.db")
    normal, full = sqlite.connect(path), sqlite.connect(path, synchronous="full")
    try:
        assert (pragma(normal), pragma(full)) == (1, 2)  # SQLite: 1 = NORMAL, 2 = FULL
        assert normal.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        normal.close()
        full.close()


def test_sqlalchemy_connections_take_the_same_setting(tmp_path: Path) -> None:
    engine = sqlite.make_engine(f"sqlite:///{tmp_path / 'kntc.db'}", synchronous="full")
    try:
        raw = engine.raw_connection()
        assert pragma(raw.dbapi_connection) == 2
        raw.close()
    finally:
        engine.dispose()


def test_another_level_is_refused_before_it_reaches_the_pragma(tmp_path: Path) -> None:
    conn = sqlite3.connect(str(tmp_path / "kntc.db"))
    try:
        with pytest.raises(ConfigError, match="sqlite_synchronous"):
            sqlite.configure(conn, wal=True, synchronous="off; DROP TABLE cases")
    finally:
        conn.close()


def store_pragma(settings: Settings, tmp_path: Path) -> int:
    store = build_store(settings, f"sqlite:///{tmp_path / 'kntc.db'}")
    try:
        with store.reader() as tx:
            return pragma(tx.cur)
    finally:
        store.close()


def test_a_built_store_is_normal_by_default(tmp_path: Path) -> None:
    assert store_pragma(Settings(), tmp_path) == 1


def test_a_built_store_is_full_when_configured(tmp_path: Path) -> None:
    assert store_pragma(Settings(sqlite_synchronous="full"), tmp_path) == 2
