"""Test doubles shipped with kntc, for kntc's own tests and for portals' tests.

- :class:`ManualClock`: a clock that moves only when told (``set``, ``advance``).
- :class:`MemoryStore`: the store port in memory, with real transactions (a failed command
  leaves no trace) and the same contract as the SQL store (the contract suite runs on both).
- :func:`memory_engine`: an :class:`~engine.service.Engine` over both, with the shipped workflows
  (package data of the wheel) or the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.calendar import BusinessCalendar, DayOverride
from engine.errors import ValidationError
from engine.loader import load_directory
from engine.machines import CompiledWorkflow
from engine.memory_store import MemoryStore
from engine.service import Engine

__all__ = ["DEFAULT_START", "ManualClock", "MemoryStore", "default_calendar", "memory_engine", "shipped_path"]


class ManualClock:
    """A clock for tests and simulations: ``now()`` returns what it was set to."""

    def __init__(self, start: datetime) -> None:
        self._now = self._aware(start)

    def now(self) -> datetime:
        """The current simulated moment."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware)."""
        self._now = self._aware(moment)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new moment."""
        self._now = self._now + delta
        return self._now

    @staticmethod
    def _aware(moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError("clock", "ManualClock needs an aware datetime")
        return moment


#: The moment a ManualClock made by :func:`memory_engine` starts at when none is given:
#: Monday 2 March 2026, 09:00 in Hà Nội (a working day, before the election of 15/03/2026).
DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def shipped_path(name: str) -> Path:
    """A file or folder shipped with kntc (``"workflows"``, ``"config.yaml"``).

    From an installed wheel it is package data (``engine/_data/``, found with importlib.resources);
    in a source checkout it is the repository's top-level folder or file.
    """
    packaged = resources.files("engine") / "_data" / name
    if isinstance(packaged, Path) and packaged.exists():
        return packaged
    return Path(__file__).resolve().parent.parent / name


@cache
def default_calendar() -> BusinessCalendar:
    """The shipped config.yaml's calendar (Saturday 22/08/2026 worked), built once per process."""
    return BusinessCalendar(working_days=[DayOverride(date(2026, 8, 22), "Làm bù cho ngày 31/8/2026")])


_FOLDERS: dict[tuple[object, ...], dict[str, CompiledWorkflow]] = {}


def _load_folder(folder: str | Path) -> dict[str, CompiledWorkflow]:
    """The compiled workflows of ``folder``, parsed once per process while its files are unchanged."""
    path = Path(folder).resolve()
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else []
    key = (path, *((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    if key not in _FOLDERS:
        _FOLDERS[key] = load_directory(path)
    return dict(_FOLDERS[key])


def memory_engine(clock: ManualClock | None = None,
                  workflows: str | Path | Mapping[str, CompiledWorkflow] | None = None, *,
                  calendar: BusinessCalendar | None = None, workflows_dir: str | Path | None = None) -> Engine:
    """An Engine on a fresh MemoryStore, for tests and simulations (no database, no wall clock).

    ``clock`` defaults to a :class:`ManualClock` at :data:`DEFAULT_START`. ``workflows`` is a
    folder of YAML files, or a mapping of compiled workflows (name -> ``CompiledWorkflow``, e.g.
    from :func:`engine.loader.load_directory`); the default is the workflows shipped with kntc,
    which also works from an installed wheel. A folder is parsed once per process while its files
    are unchanged. ``workflows_dir`` is the older spelling of a folder ``workflows``. ``calendar``
    defaults to the shipped config.yaml's calendar.
    """
    source = workflows if workflows is not None else workflows_dir
    if source is None:
        source = shipped_path("workflows")
    compiled = dict(source) if isinstance(source, Mapping) else _load_folder(source)
    engine = Engine(store=MemoryStore(), workflows=compiled,
                    calendar=calendar or default_calendar(), clock=clock or ManualClock(DEFAULT_START))
    return engine
