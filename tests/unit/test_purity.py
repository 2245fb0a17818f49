"""The core stays pure and the public surface stays declared (DESIGN.md §1, STYLE.md §6)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]
IO_MODULES = {"sqlalchemy", "psycopg", "httpx", "apscheduler", "typer", "alembic", "adapters", "sqlite3"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_engine_imports_no_io_library() -> None:
    """No module of engine/ imports SQL, HTTP, scheduler, CLI libraries or the adapters."""
    offenders = {p.name: _imports(p) & IO_MODULES for p in (ROOT / "engine").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


#: The functions that read the wall clock, by qualified name.
WALL_CLOCK = {"datetime.datetime.now", "datetime.datetime.today", "datetime.datetime.utcnow", "datetime.date.today",
              "time.time", "time.monotonic", "time.perf_counter"}


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, qualified name) of each wall-clock function ``source`` names, called or passed on,
    with imports and aliases resolved."""
    tree = ast.parse(source)
    names: dict[str, str] = {}  # local name -> qualified name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`
                top = alias.name.split(".")[0]
                names[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        parts: list[str] = []
        inner = node
        while isinstance(inner, ast.Attribute):
            parts.insert(0, inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name) and inner.id in names:
            qualified = ".".join([names[inner.id], *parts])
            if qualified in WALL_CLOCK:
                found.add((inner.lineno, qualified))
    return sorted(found)


def test_the_clock_guard_sees_through_aliases() -> None:
    """The wall-clock guard finds direct, aliased and passed-on reads, and not `datetime.time(...)`."""
    source = """import datetime as dt
import time as t
from datetime import date, datetime as DT, time
from time import monotonic as tick, perf_counter
a = dt.datetime.now()
b = DT.today()
c = date.today()
d = t.time()
e = tick()
f = field(default_factory=DT.utcnow)
g = perf_counter
h = time(8, 0)
"""
    assert wall_clock_reads(source) == [
        (5, "datetime.datetime.now"), (6, "datetime.datetime.today"), (7, "datetime.date.today"),
        (8, "time.time"), (9, "time.monotonic"), (10, "datetime.datetime.utcnow"), (11, "time.perf_counter")]


def test_engine_never_reads_the_wall_clock() -> None:
    """engine/ gets time from an injected Clock, never from datetime.now(), time.time() and the like."""
    offenders = {p.name: wall_clock_reads(p.read_text(encoding="utf-8")) for p in (ROOT / "engine").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_packages_does_no_work(tmp_path: Path) -> None:
    """Importing engine and adapters creates no database, reads no config and loads no holidays."""
    code = ("import sys, engine, adapters.bootstrap, adapters.cli; "
            "print('holidays' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"
    assert list(tmp_path.iterdir()) == []


#: The public surface portals code against (DESIGN.md §2): a change here is a change of contract.
PUBLIC_API = [
    "ActivePhase", "AuditReport", "BusinessCalendar", "CalendarError", "Case", "Clock", "ConditionError", "ConfigError",
    "ConflictError", "Daily", "DayOverride", "Deadline", "DefinitionError", "Emit", "Engine", "Enqueue", "Event",
    "FireEvent", "HistoryEntry", "HotSpot", "JobRun", "JobSlot", "KntcError", "NotAllowedError", "NotFound",
    "OutboxMessage", "Reaction", "ReactionError", "ScheduledJob", "SetPriority", "StorageError", "Store", "TickReport",
    "Transaction", "ValidationError",
]
#: What the facade offers (DESIGN.md §2 as built so far, plus the audit); the use cases take `runtime`.
ENGINE_METHODS = {"allowed_events", "close", "events", "fire", "get", "history", "hot_spots", "open_case", "phases",
                  "postpone_reception", "publish_reception", "reception_days", "report", "reveal_identity",
                  "schedule_reception",
                  "take_letter", "tick", "verify_audit"}


def test_public_api_is_pinned() -> None:
    """engine.__all__ is exactly the declared contract, sorted, and every name is defined in engine."""
    assert engine.__all__ == PUBLIC_API
    missing = [name for name in engine.__all__ if name not in vars(engine)]
    assert missing == []


def test_the_facade_stays_thin() -> None:
    """The Engine's public methods are DESIGN §2's: no internals such as apply_event or workflow_of."""
    public = {name for name, value in vars(engine.Engine).items()
              if not name.startswith("_") and callable(value)}
    assert public == ENGINE_METHODS


def test_fire_signature_is_pinned() -> None:
    """fire() takes DESIGN §2's arguments: the case, the event, then keywords only, occurred_at last (§4)."""
    parameters = inspect.signature(engine.Engine.fire).parameters
    assert list(parameters) == ["self", "case_id", "event", "actor", "role", "payload", "expected_version",
                                "occurred_at"]
    assert [p.name for p in parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY] == list(parameters)[3:]
    assert all(parameters[name].default is None for name in ("payload", "expected_version", "occurred_at"))
