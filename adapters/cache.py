"""kntc's on-disk cache: JSON files a CLI command reads instead of recomputing (DESIGN.md §2b).

Three things are cached, each a JSON file (never pickle) under a key that changes whenever what
produced it could: compiled workflow definitions (``definition_cache.py``), the holiday table
of the business calendar (:func:`holiday_table` here) and the store's statements as SQLAlchemy
compiled them for SQLite (``sql/compiled.py``). They live in ``$KNTC_CACHE_DIR`` (default:
``$XDG_CACHE_HOME/kntc/definitions`` or ``~/.cache/kntc/definitions``; the folder kept its first
user's name), each kind under its own file-name prefix.

A cache is only ever a shortcut: a file that is missing, unreadable, corrupt or in a folder that
cannot be written is ignored silently and the value is computed again, so a read-only home or a
full disk costs time, never a failure.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.calendar import HolidayTable

__all__ = ["CACHE_ENV", "HOLIDAY_FORMAT", "cache_dir", "holiday_table", "installed_version", "read_json", "write_json"]

CACHE_ENV = "KNTC_CACHE_DIR"


def cache_dir() -> Path:
    """Where cached files live: ``$KNTC_CACHE_DIR``, else the user's cache folder."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or Path.home() / ".cache"
    return Path(base) / "kntc" / "definitions"


def read_text(name: str) -> str | None:
    """The text of cache file ``name``, or None when it cannot be read."""
    try:
        return (cache_dir() / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def read_json(name: str) -> Any:
    """The JSON value of cache file ``name``, or None when it is missing, unreadable or not JSON."""
    text = read_text(name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def write_text(name: str, body: str) -> None:
    """Write cache file ``name`` atomically (a reader sees the old file or the whole new one); never raise."""
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body)
            os.replace(tmp, folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def write_json(name: str, value: Any) -> None:
    """Write ``value`` as JSON to cache file ``name``; a folder that cannot be written is ignored."""
    write_text(name, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


HOLIDAY_FORMAT = 2
"""The shape of a cached holiday table; 2: ``{"days_off": [[ISO date, name]...], "worked": [...]}``.

Part of the file's name, so a table of another shape (1 was the days off alone, without the worked
swap Saturdays) is never read back: it is computed again under the new name.
"""


def holiday_table(first_year: int, last_year: int) -> HolidayTable:
    """Vietnam's public holidays and worked swap days (Vietnamese names), from the cache when it has them.

    Computing 31 years with the ``holidays`` package (lunar Tết, substitute days) took ~0.17 s of
    every command. The key is the format, the ``holidays`` version and the years: a new version may
    know a new holiday decree, so its table is computed again. The table does not depend on the time
    zone.
    """
    from engine.calendar import load_holidays
    package = installed_version("holidays")
    if package is None:  # nothing to key on
        return load_holidays(first_year, last_year)
    name = f"holidays-vn-vi-v{HOLIDAY_FORMAT}-{package}-{first_year}-{last_year}.json"
    cached = _holiday_table(read_json(name), first_year, last_year)
    if cached is not None:
        return cached
    table = load_holidays(first_year, last_year)
    write_json(name, {"days_off": [[d.isoformat(), n] for d, n in table.days_off.items()],
                      "worked": [[d.isoformat(), n] for d, n in table.worked.items()]})
    return table


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, from its ``*.dist-info`` folder's name beside the package.

    ``importlib.metadata.version`` would say the same at ~40 ms (its imports and a scan of every
    distribution), and neither imports the package; None when the folder is not found or not unique
    (the folder's name may be capitalised, ``SQLAlchemy-2.0.0.dist-info``).
    """
    import importlib.util
    try:
        spec = importlib.util.find_spec(distribution)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    site = Path(spec.origin).resolve().parent.parent
    prefix = f"{distribution.lower()}-"
    found = [p.name for p in site.glob("*-*.dist-info") if p.name.lower().startswith(prefix)]
    if len(found) != 1:
        return None
    return found[0][len(distribution) + 1:-len(".dist-info")]


def _holiday_table(value: Any, first_year: int, last_year: int) -> HolidayTable | None:
    """A cached table read back, or None if it is not of :data:`HOLIDAY_FORMAT` within the years."""
    from engine.calendar import HolidayTable
    if not isinstance(value, dict) or set(value) != {"days_off", "worked"}:
        return None
    days_off = _holiday_entries(value["days_off"], first_year, last_year)
    worked = _holiday_entries(value["worked"], first_year, last_year)
    if days_off is None or worked is None:
        return None
    return HolidayTable(days_off, worked)


def _holiday_entries(value: Any, first_year: int, last_year: int) -> dict[date, str] | None:
    """Cached days read back, or None if they are not a list of ``[ISO date, name]`` in the years."""
    if not isinstance(value, list):
        return None
    table: dict[date, str] = {}
    try:
        for day, name in value:
            parsed = date.fromisoformat(day)
            if not isinstance(name, str) or not first_year <= parsed.year <= last_year:
                return None
            table[parsed] = name
    except (TypeError, ValueError):
        return None
    return dict(sorted(table.items()))
