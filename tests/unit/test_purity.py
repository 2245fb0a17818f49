"""The core stays pure and the public surface stays declared (DESIGN.md §1, STYLE.md §6)."""

from __future__ import annotations

import ast
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
    offenders = {p.name: _imports(p) & IO_MODULES for p in (ROOT / "engine").glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_engine_never_reads_the_wall_clock() -> None:
    """engine/ gets time from an injected Clock, never from datetime.now() or time.time()."""
    for path in (ROOT / "engine").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("datetime.now(", "date.today(", "time.time(", "utcnow("):
            assert forbidden not in text, f"{path.name} calls {forbidden}"


def test_importing_the_packages_does_no_work(tmp_path: Path) -> None:
    """Importing engine and adapters creates no database, reads no config and loads no holidays."""
    code = ("import sys, engine, adapters.bootstrap, adapters.cli; "
            "print('holidays' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"
    assert list(tmp_path.iterdir()) == []


def test_public_api_is_declared() -> None:
    """engine.__all__ names the contract of DESIGN.md §2, and every name resolves."""
    assert {"Engine", "Case", "Deadline", "Event", "HistoryEntry", "TickReport", "KntcError",
            "NotAllowedError", "ConflictError", "ValidationError", "NotFound"} <= set(engine.__all__)
    assert engine.__all__ == sorted(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None
