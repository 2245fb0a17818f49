"""Sensitive periods over the memory, SQLite and PostgreSQL stores: phase changes once each, phase rungs.

A complaint received Friday 2 January 2026, 09:00 has its ``acceptance`` clock of 10 working days
(the day of receipt not counted: 05, 06, 07, 08, 09, 12, 13, 14, 15, 16 January):
- 30% = 3 WD -> end of Wed 07/01 (08/01 00:00), inside `before` (05/01..14/03): the phase's rung;
- 50% = 5 WD -> end of Fri 09/01 (10/01 00:00); 80% = 8 WD -> end of Wed 14/01 (15/01 00:00);
- due: end of Fri 16/01 (17/01 00:00).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from adapters.config import load_settings
from engine.errors import ConfigError
from engine.periods import PHASE_CHANGED, Period, PhaseChanges
from engine.service import Engine
from engine.testing import ManualClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ELECTION = """\
periods:
  - id: bau_cu_2026
    kind: election
    label: "Bầu cử đại biểu Quốc hội khóa XVI và đại biểu HĐND các cấp nhiệm kỳ 2026–2031"
    day: 2026-03-15
    phases:
      before: {from: 2026-01-05, to: 2026-03-14}
      during: {from: 2026-03-15, to: 2026-03-15}
      after:  {from: 2026-03-16, to: 2026-05-15}
    policy:
      before: {extra_warn_at: [0.3], notify_at_once: [crowded, skip_level]}
      during: {notify_at_once: [crowded, skip_level, prolonged]}
"""


def periods(tmp_path: Path) -> tuple[Period, ...]:
    """The 2026 election, read from a config file as kntc reads it."""
    path = tmp_path / "periods.yaml"
    path.write_text(ELECTION, encoding="utf-8")
    return tuple(load_settings(path).periods)


def with_periods(engine: Engine, found: tuple[Period, ...]) -> Engine:
    """An engine over the same store and clock, with the periods' job and rungs as build() wires them."""
    rt = engine.runtime
    eng = Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock,
                 jobs=[PhaseChanges(found)])
    eng.runtime.use_periods(found)
    return eng


def changes(engine: Engine) -> list[tuple[str, Any]]:
    """The phase changes in the feed, in order."""
    return [(e.data["phase"], e.data["from"]) for e in engine.events(limit=10_000) if e.type == PHASE_CHANGED]


def test_a_sixty_day_jump_raises_each_phase_change_once_in_order(engine: Engine, clock: ManualClock,
                                                                 tmp_path: Path) -> None:
    """From 01/01 to 20/03 (78 days, past the 60 asked): before, during, after once each, in order."""
    eng = with_periods(engine, periods(tmp_path))
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=TZ))
    assert eng.tick().jobs == 0 and changes(eng) == []
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=TZ))
    assert eng.tick().jobs == 3
    assert changes(eng) == [("before", "2026-01-05"), ("during", "2026-03-15"), ("after", "2026-03-16")]
    before = next(e for e in eng.events(limit=100) if e.type == PHASE_CHANGED)
    assert before.data["extra_warn_at"] == [0.3] and before.data["notify_at_once"] == ["crowded", "skip_level"]
    assert before.data["daily_report"] is False and before.data["roster"] == "working_days"  # none set here
    assert before.data["period"] == "bau_cu_2026" and before.case_id is None
    assert eng.tick().jobs == 0 and len(changes(eng)) == 3  # ticking again fires nothing
    assert with_periods(engine, periods(tmp_path)).tick().jobs == 0  # nor does another daemon


def test_a_complaint_received_before_the_phase_gets_its_rung_once(engine: Engine, clock: ManualClock,
                                                                 tmp_path: Path) -> None:
    """Received 02/01, before `before`: its 30% rung (08/01 00:00) fires once in the phase; none re-fires."""
    eng = with_periods(engine, periods(tmp_path))
    clock.set(datetime(2026, 1, 2, 9, 0, tzinfo=TZ))
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Lê Văn C"}],
                         respondent="UBND xã", subject="Đất đai")
    assert case.deadlines["acceptance"].warn_at == (datetime(2026, 1, 8, tzinfo=TZ), datetime(2026, 1, 10, tzinfo=TZ),
                                                    datetime(2026, 1, 15, tzinfo=TZ))

    def rungs() -> list[int]:
        return [e.data["rung"] for e in eng.events(limit=10_000) if e.case_id == case.id
                and e.type in ("deadline.warning", "deadline.overdue")]

    clock.set(datetime(2026, 1, 7, 9, 0, tzinfo=TZ))
    eng.tick()
    assert rungs() == []
    clock.set(datetime(2026, 1, 8, 9, 0, tzinfo=TZ))
    eng.tick()
    eng.tick()
    assert rungs() == [300]
    clock.set(datetime(2026, 1, 20, 9, 0, tzinfo=TZ))
    eng.tick()
    eng.tick()
    assert rungs() == [300, 500, 800, 1000]


def test_a_complaint_outside_every_phase_keeps_the_normal_ladder(engine: Engine, clock: ManualClock,
                                                                tmp_path: Path) -> None:
    """Received Mon 01/06/2026, after `after` ended (15/05): 50% and 80% only, no 30% rung."""
    eng = with_periods(engine, periods(tmp_path))
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Lê Văn C"}],
                         respondent="UBND xã", subject="Đất đai")
    assert len(case.deadlines["acceptance"].warn_at) == 2


@pytest.mark.parametrize(("block", "line", "message"), [
    ("      before: {from: 2026-03-14, to: 2026-01-05}\n", 7, "ends (2026-01-05) before it starts"),
    ("      before: {from: 2026-01-05, to: 2026-03-16}\n", 2, "'before' (2026-01-05..2026-03-16) and 'during'"),
    ("    day: 2026-07-01\n", 2, "day 2026-07-01 lies outside the period's phases"),
    ("      before: {notify_at_once: [riot]}\n", 11, "unknown hot-spot type 'riot'"),
    ("      before: {extra_warn_at: [1.5]}\n", 11, "strictly between 0 and 1, got 1.5"),
    ("      before: {daily_report: often}\n", 11, "daily_report: Input should be a valid boolean"),
    ("      before: {roster: every_week}\n", 11, "roster: Input should be 'every_day' or 'working_days'"),
])
def test_bad_periods_in_config_are_refused_at_their_line(tmp_path: Path, block: str, line: int, message: str) -> None:
    """Inverted, overlapping or outside phases, unknown hot-spot types, 1.5: file:line and the field.

    A rule across phases (overlap, the day) names the period's line (2), the others their own.
    """
    lines = ELECTION.splitlines(keepends=True)
    key = block.strip().split(":")[0]
    if key == "before" and "from" in block:
        lines[6] = block  # the `before` phase (line 7)
    elif key == "day":
        lines[4] = block  # line 5
    else:
        lines[10] = block  # the `before` policy (line 11)
    path = tmp_path / "config.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"config\.yaml:{line}:\d+: periods\.0.*{_escape(message)}"):
        load_settings(path)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in "().[]" else c for c in text)


def test_build_wires_the_periods_job_and_rungs(tmp_path: Path) -> None:
    """build() on SQLite with the election: the job raises `before` and a complaint gets the 30% rung."""
    from adapters.bootstrap import build
    root = Path(__file__).resolve().parents[2]
    text = (root / "config.yaml").read_text(encoding="utf-8").replace("periods: []\n", ELECTION)
    text = text.replace("workflows_dir: workflows", f"workflows_dir: {root / 'workflows'}")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    clock = ManualClock(datetime(2026, 1, 2, 9, 0, tzinfo=TZ))
    eng = build(path, database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Lê Văn C"}],
                             respondent="UBND xã", subject="Đất đai")
        assert case.deadlines["acceptance"].warn_at[0] == datetime(2026, 1, 8, tzinfo=TZ)
        clock.set(datetime(2026, 1, 8, 9, 0, tzinfo=TZ))
        eng.tick()
        assert changes(eng) == [("before", "2026-01-05")]
        assert [a.phase for a in eng.runtime.phases()] == ["before"]
    finally:
        eng.close()


def test_kntc_periods_shows_the_phase_in_force(tmp_path: Path) -> None:
    """`kntc periods --now 2026-03-15T08:00` marks `during` and says what it switches on; --json too."""
    import json

    from adapters.cli import common
    from adapters.cli import periods as _periods  # noqa: F401  (registers the command)
    path = tmp_path / "config.yaml"
    path.write_text(ELECTION, encoding="utf-8")
    common._state["settings"] = None
    result = CliRunner().invoke(common.app, ["--config", str(path), "periods", "--now", "2026-03-15T08:00"])
    assert result.exit_code == 0, result.output
    assert " * during   2026-03-15 .. 2026-03-15  notify at once: crowded, skip_level, prolonged" in result.output
    assert "   before   2026-01-05 .. 2026-03-14  extra warnings at 0.3;" in result.output
    common._state["settings"] = None
    result = CliRunner().invoke(common.app, ["--config", str(path), "periods", "--json", "--now", "2026-01-04"])
    value = json.loads(result.output)
    assert value["id"] == "bau_cu_2026" and not any(p["in_force"] for p in value["phases"])
    common._state["settings"] = None
