"""SQLite without SQLAlchemy: the column names, the cached statements, the stdlib connections.

A command on a current SQLite database reads its compiled statements from the cache folder
(``adapters/sql/compiled.py``) and opens the file with ``sqlite3``: these tests hold the cache to
exactly what SQLAlchemy compiles, check that a bad cache only costs a compile, and that such a
command really leaves SQLAlchemy unimported (what an operator relies on for a quick CLI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import adapters.sql.compiled as compiled_module
import adapters.sql.tables as tables
from adapters import cache as disk
from adapters.bootstrap import build_store
from adapters.config import Settings
from adapters.sql import sqlite
from adapters.sql.columns import COLUMNS
from adapters.sql.compiled import Compiled
from adapters.sql.statements import compile_statements
from adapters.sql.store import SqlStore, make_sql_engine
from engine.errors import StorageError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def db_url(tmp_path: Path, settings: Settings, cache_dir: Path) -> str:
    """A SQLite file at the shipped schema head (its statements in the cache folder)."""
    url = f"sqlite:///{tmp_path / 'kntc.db'}"
    store = build_store(settings, url)
    assert store.compiled
    store.close()
    return url


def _fresh(url: str) -> dict[str, tuple[str, bool, tuple[str, ...], dict[str, object]]]:
    engine = make_sql_engine(url)
    try:
        return _shape(compile_statements(engine))
    finally:
        engine.dispose()


def _shape(found: dict[str, Compiled]) -> dict[str, tuple[str, bool, tuple[str, ...], dict[str, object]]]:
    return {name: (c.sql, c.named, c.names, c.defaults) for name, c in found.items()}


def _statement_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("statements-sqlite-*.json"))


def _no_compile(self: SqlStore) -> dict[str, Compiled]:
    raise AssertionError("the statements were compiled, not read from the cache")


def test_the_column_names_are_the_tables_columns() -> None:
    """``columns.py`` spells out every table of ``tables.py``, its columns in the models' order."""
    assert {getattr(tables, name).name for name in COLUMNS} == set(tables.metadata.tables)
    for name, columns in COLUMNS.items():
        assert columns == tuple(c.name for c in getattr(tables, name).c), name


def test_the_cache_gives_what_a_fresh_compile_gives(db_url: str, cache_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A miss compiles and writes the file; a hit reads back the same SQL, parameter order and defaults."""
    for path in _statement_files(cache_dir):
        path.unlink()
    first = SqlStore(db_url)
    assert _shape(first.compiled) == _fresh(db_url)
    first.close()
    assert len(_statement_files(cache_dir)) == 1
    monkeypatch.setattr(SqlStore, "_compile_sqlite", _no_compile)
    second = SqlStore(db_url)
    try:
        assert _shape(second.compiled) == _fresh(db_url)
        with second.reader() as tx:  # and they run
            assert tx.events(0, 10) == []
    finally:
        second.close()


@pytest.mark.parametrize("body", ["{not json", "[]", '{"statements": {}}',
                                  '{"statements": {"get_meta_one": {"sql": 1, "named": false, "names": [],'
                                  ' "defaults": {}}}}'])
def test_a_corrupt_cache_is_compiled_again(db_url: str, cache_dir: Path, body: str) -> None:
    """A file that is not what the cache writes is ignored, compiled again and rewritten."""
    (path,) = _statement_files(cache_dir)
    path.write_text(body, encoding="utf-8")
    store = SqlStore(db_url)
    try:
        assert _shape(store.compiled) == _fresh(db_url)
    finally:
        store.close()
    assert set(json.loads(path.read_text(encoding="utf-8"))["statements"]) == set(_fresh(db_url))


def test_an_unwritable_cache_folder_only_costs_a_compile(tmp_path: Path, settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder that cannot be created (a file is in the way) is ignored: the store works."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(disk.CACHE_ENV, str(blocker / "cache"))
    store = build_store(settings, f"sqlite:///{tmp_path / 'kntc.db'}")
    assert_writes_and_reads(store)


def test_statements_imported_before_an_upgrade_are_not_cached(db_url: str, cache_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A process whose statements were imported from older sources than the key's compiles them but writes nothing."""
    import adapters.sql.statements as statements
    for path in _statement_files(cache_dir):
        path.unlink()
    monkeypatch.setattr(statements, "SOURCE_KEYS", {"sqlite": "the key of older sources"})
    store = SqlStore(db_url)
    try:
        assert _shape(store.compiled) == _fresh(db_url)
    finally:
        store.close()
    assert _statement_files(cache_dir) == []


def test_no_sqlalchemy_version_means_no_cache(db_url: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the SQLAlchemy version there is nothing to key on: the statements are compiled, not cached."""
    for path in _statement_files(cache_dir):
        path.unlink()
    monkeypatch.setattr(compiled_module, "installed_version", lambda distribution: None)
    store = SqlStore(db_url)
    try:
        assert _shape(store.compiled) == _fresh(db_url)
    finally:
        store.close()
    assert _statement_files(cache_dir) == []


def test_the_key_follows_the_sqlalchemy_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another SQLAlchemy may compile differently: its statements get a key of their own."""
    current = compiled_module.cache_key("sqlite")
    monkeypatch.setattr(compiled_module, "installed_version", lambda distribution: "0.0.0")
    assert current is not None and compiled_module.cache_key("sqlite") not in (None, current)


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///kntc.db", "kntc.db"),
    ("sqlite:////var/lib/kntc/kntc.db", "/var/lib/kntc/kntc.db"),
    ("sqlite+pysqlite:////tmp/a.db", "/tmp/a.db"),
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
    ("sqlite:///file:kntc.db?mode=ro&uri=true", None),
    ("sqlite:///with%20space.db", None),
    ("postgresql://u@h/db", None),
])
def test_only_plain_file_urls_skip_sqlalchemy(url: str, path: str | None) -> None:
    """Anything but a plain file path goes through SQLAlchemy, which reads every URL form."""
    assert sqlite.file_path(url) == path


def test_a_memory_database_still_works(settings: Settings, cache_dir: Path) -> None:
    """``sqlite://`` is opened by SQLAlchemy (its pool keeps one connection per thread), migrated and used."""
    store = build_store(settings, "sqlite://")
    assert_writes_and_reads(store)


def test_a_file_that_cannot_be_opened_is_a_storage_error(tmp_path: Path, settings: Settings) -> None:
    """The stdlib connection fails as SQLAlchemy's did: a StorageError naming the URL."""
    url = f"sqlite:///{tmp_path / 'missing' / 'kntc.db'}"
    with pytest.raises(StorageError, match=r"cannot open database sqlite:///.*unable to open database file"):
        build_store(settings, url)


def test_the_engine_is_made_on_first_use_and_serves_later_connections(db_url: str) -> None:
    """``store.engine`` (tests, benches, migrations) is a SQLAlchemy engine of the same file."""
    from sqlalchemy import text
    store = SqlStore(db_url)
    try:
        with store.transaction() as tx:
            tx.set_meta("probe", "stdlib")
        assert store._engine is None
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE kntc_meta SET value = 'sqlalchemy' WHERE key = 'probe'"))
        store.close()  # connections opened from now on are the engine's
        with store.reader() as tx:
            assert tx.get_meta("probe") == "sqlalchemy"
            assert store.engine.pool.checkedout() == 0  # detached: the store's, not the pool's
    finally:
        store.close()


_READ_FEED = """
import sys
from adapters.bootstrap import build
engine = build({config!r}, database_url={url!r})
print(len(engine.events(0, 10)), "sqlalchemy" in sys.modules, "alembic" in sys.modules)
"""


def test_a_command_on_a_current_sqlite_file_does_not_import_sqlalchemy(db_url: str, cache_dir: Path) -> None:
    """Building the engine on a current SQLite file and reading the feed leaves SQLAlchemy unimported.

    The first process finds no compiled statements in the cache folder (SQLAlchemy compiles them);
    the next reads them back and never imports it, nor Alembic.
    """
    for path in _statement_files(cache_dir):
        path.unlink()
    code = _READ_FEED.format(config=str(ROOT / "config.yaml"), url=db_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), disk.CACHE_ENV: str(cache_dir)}
    env.pop("KNTC_DATABASE_URL", None)
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs == [["0", "True", "False"], ["0", "False", "False"]]


def assert_writes_and_reads(store: Any) -> None:
    """A write then a read through ``store`` round-trips; the store is closed afterwards."""
    try:
        with store.transaction() as tx:
            tx.set_meta("probe", "1")
        with store.reader() as tx:
            assert tx.get_meta("probe") == "1"
    finally:
        store.close()
