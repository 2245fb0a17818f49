"""`kntc demo` plays a whole season on SQLite at a small size: the same seed prints the same summary.

The shipped config.yaml as it is (the 2026 election period, content groups, escalation rules, the
roster check): the staged matters must come out of the engine's own detection, read back from its
feed. The roster leaves Sunday 08/03/2026 without anyone on duty, a day of the `before` phase
(05/01 .. 14/03/2026) whose policy asks for cover every day: the check of 01/03 (look-ahead 7
days: 02/03 .. 08/03) finds it.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

from rich.console import Console

from adapters.demo import DemoResult, run_demo
from tests.conftest import shipped_settings


def play(out_dir: Path, seed: int = 7, letters: int = 40) -> tuple[DemoResult, str]:
    """A season of ``letters`` background letters (and the staged ones) into ``out_dir``; returns what it printed."""
    out = io.StringIO()
    result = run_demo(shipped_settings(), database=out_dir / "demo.db", out_dir=out_dir, letters=letters, seed=seed,
                      console=Console(file=out, width=160))
    return result, out.getvalue()


def test_a_small_season_runs_end_to_end_and_repeats_for_the_same_seed(tmp_path: Path) -> None:
    """Two runs, one seed: the same printed summary; every staged hot spot, the phases and the roster hole."""
    first, printed = play(tmp_path)
    again, printed_again = play(tmp_path)
    assert printed_again == printed
    assert again.summary == first.summary
    summary = first.summary
    assert sum(row.received for row in summary.kinds) >= 40 + 22  # background + the staged letters (≥ 22)
    assert {row.kind for row in summary.kinds if row.received} == {"letter", "complaint", "denunciation",
                                                                   "petition", "reception"}
    for spot in ("crowded", "prolonged", "skip_level", "circular_forwarding"):
        assert summary.hot_spots.get(spot, 0) >= 1, spot
    assert [(day, phase) for day, _, phase in summary.phase_changes] == [
        (date(2026, 1, 5), "before"), (date(2026, 3, 15), "during"), (date(2026, 3, 16), "after")]
    assert summary.roster_gaps == [date(2026, 3, 8)]
    assert any(phase == "before" for phase, _ in summary.escalations)
    assert "08/03/2026" in printed and "skip_level" in printed and "crowded" in printed
    for name in ("feed", "report", "schedule", "log"):
        path = first.files[name]
        assert path.exists() and path.stat().st_size > 0, name
        assert str(path) in printed.replace("\n", ""), name
    lines = first.files["feed"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary.events and json.loads(lines[0])["type"] == "case.opened"
    assert b"BEGIN:VEVENT" in first.files["schedule"].read_bytes()
    assert first.files["report"].read_bytes()[:2] == b"PK"  # an XLSX is a zip
    assert f"KNTC_DATABASE_URL=sqlite:///{(tmp_path / 'demo.db').resolve()}" in printed


def test_another_seed_draws_another_season(tmp_path: Path) -> None:
    """The seed is what the season is drawn from: another one gives other counts."""
    first, _ = play(tmp_path / "a", seed=1, letters=10)
    other, _ = play(tmp_path / "b", seed=2, letters=10)
    assert first.summary.kinds != other.summary.kinds


def test_the_command_writes_into_its_out_dir_and_says_where(tmp_path: Path) -> None:
    """`kntc demo --letters 0 --out-dir OUT`: the staged matters alone; the database and files land in OUT."""
    from tests.integration.cli_runner import kntc, ok
    out_dir = tmp_path / "out"
    printed = ok(kntc(tmp_path / "not-the-demo.db", "demo", "--letters", "0", "--seed", "3", "--out-dir", str(out_dir)))
    for name in ("kntc-demo.db", "feed.jsonl", "report.xlsx", "schedule.ics", "kntc-demo.log"):
        assert (out_dir / name).exists(), name
        assert str(out_dir / name) in printed.replace("\n", ""), name
    assert not (tmp_path / "not-the-demo.db").exists()  # the demo never writes to the configured database
    assert "roster.gap" in printed and "elapsed:" in printed
