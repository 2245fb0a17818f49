"""`kntc demo` does real work through the public API on SQLite."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from adapters.config import Settings
from adapters.demo import run_demo


def test_the_demo_opens_moves_and_escalates_cases(tmp_path: Path, settings: Settings) -> None:
    """A short season opens every letter, moves cases on, raises warnings and keeps the audit chain."""
    out = io.StringIO()
    counts = run_demo(settings, database=tmp_path / "demo.db", cases=12, console=Console(file=out, width=120))
    assert counts["case.opened"] == 12
    assert counts["case.transitioned"] > 12
    assert counts["deadline.warning"] > 0
    assert "intact" in out.getvalue()
    assert (tmp_path / "demo.db").exists()
