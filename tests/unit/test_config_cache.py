"""config.yaml read once per text: a cached config equals a parsed one, and errors are never cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.config import load_settings
from engine.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KNTC_CACHE_DIR", str(folder))
    return folder


def test_a_config_read_again_from_the_cache_is_the_same(tmp_path: Path, cache: Path) -> None:
    """The second read of an unchanged config.yaml comes from the cache and gives the same settings."""
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    first = load_settings(path)
    assert [p.name for p in cache.glob("config-*.json")] != []
    assert load_settings(path) == first


def test_a_broken_config_is_reported_every_time(tmp_path: Path, cache: Path) -> None:
    """A config with a mistake is never cached: each read names the line again."""
    path = tmp_path / "config.yaml"
    path.write_text("timezone: Asia/Ho_Chi_Minh\ntick: 5\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"config.yaml:2:1: tick: unknown key"):
            load_settings(path)
    assert list(cache.glob("config-*.json")) == []


def test_a_tampered_cache_entry_is_ignored(tmp_path: Path, cache: Path) -> None:
    """A cache entry that no longer validates is ignored and the file is read again."""
    path = tmp_path / "config.yaml"
    path.write_text("timezone: Asia/Ho_Chi_Minh\n", encoding="utf-8")
    load_settings(path)
    [entry] = cache.glob("config-*.json")
    entry.write_text(json.dumps({"timezone": "Mars/Olympus"}), encoding="utf-8")
    assert load_settings(path).timezone == "Asia/Ho_Chi_Minh"
