"""Compiled statements, and the on-disk cache of the ones compiled for SQLite (no SQLAlchemy here).

The store runs every statement as text on the DBAPI cursor (``statements.py`` builds and
compiles them). Compiling needs SQLAlchemy, whose import alone cost ≈ 0.2 s of a ≈ 0.76 s
``kntc events``; so what SQLite compiled to is kept as JSON in the cache folder
(``adapters/cache.py``) and read back by a command whose database is current. SQLAlchemy stays
the one source of every statement's text: the cache holds nothing but its output.

The cache key is the sha256 of the source of ``statements.py``, ``tables.py``, ``columns.py`` and
this module, of the SQLAlchemy version (from its ``*.dist-info`` folder's name, read without
importing it) and of the SQLite library version (the dialect's flags follow it). When a part of
the key cannot be read nothing is cached; a missing, corrupt or unwritable file means a compile.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from adapters.cache import installed_version, read_json, write_json

__all__ = ["Compiled", "cache_key", "cached_statements"]

_HERE = Path(__file__).parent
# what a compiled statement depends on, beside the SQLAlchemy and SQLite versions
_SOURCES = ("statements.py", "report_statements.py", "tables.py", "columns.py", "compiled.py",
            "../../engine/reports.py")
# JSON gives these back as they went in (the literals of kntc's statements are ints and strings)
_SCALARS = (str, int, float, bool)


class Compiled:
    """A statement compiled for one dialect, with its parameter order."""

    __slots__ = ("defaults", "named", "names", "sql")

    def __init__(self, sql: str, *, named: bool, names: tuple[str, ...], defaults: dict[str, Any]) -> None:
        self.sql = sql
        #: the driver takes a dict (``named``/``pyformat``) rather than a tuple in ``names`` order
        self.named = named
        self.names = names
        #: literals in the statement (``id == 1``) are parameters with their value as default
        self.defaults = defaults

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters (a dict or a tuple, as the dialect's paramstyle wants)."""
        if self.defaults:
            values = {**self.defaults, **values}
        return values if self.named else tuple(values[n] for n in self.names)

    def to_json(self) -> dict[str, Any] | None:
        """What the cache keeps of this statement; None if a default would not come back as it is."""
        if not all(type(v) in _SCALARS for v in self.defaults.values()):
            return None
        return {"sql": self.sql, "named": self.named, "names": list(self.names), "defaults": self.defaults}

    @classmethod
    def from_json(cls, value: Any) -> Compiled | None:
        """A statement read back from the cache, or None if ``value`` is not what :meth:`to_json` wrote."""
        if not isinstance(value, dict) or set(value) != {"sql", "named", "names", "defaults"}:
            return None
        sql, named, names, defaults = value["sql"], value["named"], value["names"], value["defaults"]
        if not (isinstance(sql, str) and isinstance(named, bool) and isinstance(names, list)
                and all(isinstance(n, str) for n in names) and isinstance(defaults, dict)
                and all(type(v) in _SCALARS for v in defaults.values())):
            return None
        return cls(sql, named=named, names=tuple(names), defaults=defaults)


def cache_key(dialect: str) -> str | None:
    """The cache key of ``dialect``'s compiled statements, or None when a part of it cannot be read."""
    version = installed_version("sqlalchemy")
    if version is None:
        return None
    digest = hashlib.sha256(f"{dialect}\0{version}\0{sqlite3.sqlite_version}\0".encode())
    try:
        for name in _SOURCES:
            digest.update((_HERE / name).read_bytes())
            digest.update(b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def cached_statements(dialect: str, compile_all: Callable[[], dict[str, Compiled]]) -> dict[str, Compiled]:
    """``dialect``'s compiled statements from the cache, else from ``compile_all()`` (then written back)."""
    key = cache_key(dialect)
    if key is None:
        return compile_all()
    name = f"statements-{dialect}-{key}.json"
    found = _read(read_json(name))
    if found is not None:
        return found
    compiled = compile_all()
    if _compiled_from_other_sources(dialect, key):
        return compiled  # the code changed under this process: its statements are not the key's
    entries = {stmt_name: stmt.to_json() for stmt_name, stmt in compiled.items()}
    if all(entry is not None for entry in entries.values()):
        write_json(name, {"statements": entries})
    return compiled


def _compiled_from_other_sources(dialect: str, key: str) -> bool:
    """Whether ``statements.py`` was imported from other sources than the ones ``key`` was read from.

    A process that imported the statements before kntc was upgraded in place (a daemon, a test
    worker) reads the new sources' key from disk but compiles its old statements: written under
    that key they would be read by every new process, which would miss its new statements.
    """
    module = sys.modules.get("adapters.sql.statements")
    imported: dict[str, str | None] = getattr(module, "SOURCE_KEYS", {})
    return imported.get(dialect) != key


def _read(value: Any) -> dict[str, Compiled] | None:
    """The statements of a cache file's JSON, or None when any of it is not as written."""
    if not isinstance(value, dict) or not isinstance(value.get("statements"), dict) or not value["statements"]:
        return None
    found: dict[str, Compiled] = {}
    for name, entry in value["statements"].items():
        stmt = Compiled.from_json(entry)
        if stmt is None:
            return None
        found[name] = stmt
    return found
