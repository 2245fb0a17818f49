"""The hot spots of issue 9 with config.yaml as shipped: the wiring in adapters/bootstrap.py and config.py.

`organisation.level: department` makes a letter forwarded from a central body skip-level while the
department's own case of the same matter is open; the phase `before` then tells the head of unit and the
director at once. `grouping.prolonged_open_days: 365` is run by the daily job `grouping.open_too_long`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import build
from adapters.config import load_settings
from engine.errors import ConfigError
from engine.outbox import list_messages
from engine.testing import ManualClock
from tests.conftest import ROOT, shipped_settings
from tests.letters import CENTRAL_INSPECTORATE, RESPONDENT, SAME_MATTER

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_letter_forwarded_from_the_centre_before_election_day_is_skip_level_and_told_at_once(
        tmp_path: Path) -> None:
    """Mon 02/03/2026 (phase `before`): our complaint; Wed 04/03 the same matter forwarded by Thanh tra
    Chính phủ (central, above a department) -> skip_level, flagged on both cases, urgent, head of unit
    (phase policy) and director (rule hot_spot_in_election) told in the transaction that opened it."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    engine = build(shipped_settings(), database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        ours = engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Nguyễn Văn A"}],
                                respondent=RESPONDENT, subject=SAME_MATTER[0][0], content=SAME_MATTER[0][1])
        clock.advance(timedelta(days=2))
        forwarded = engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Nguyễn Văn A"}],
                                     respondent=RESPONDENT, subject=SAME_MATTER[1][0], content=SAME_MATTER[1][1],
                                     channel="forwarded", forwarded_from=CENTRAL_INSPECTORATE)
        [spot] = [s for s in engine.hot_spots() if s.type == "skip_level"]
        assert set(spot.case_ids) == {ours.id, forwarded.id}
        assert forwarded.priority == "urgent"
        assert [(f.type, f.source) for f in forwarded.flags if f.type == "skip_level"] == [("skip_level", "rule")]
        assert "skip_level" in {f.type for f in engine.get(ours.id).flags}
        told = sorted((str(m.data.get("role")), m.kind) for m in list_messages(engine.runtime)
                      if m.case_id == forwarded.id)
        assert told == [("director", "hot_spot_at_once"), ("head_of_unit", "hot_spot_at_once_policy")]
    finally:
        engine.close()


def test_the_shipped_configuration_runs_the_open_too_long_job(tmp_path: Path) -> None:
    """A complaint received Wed 01/07/2026 and never resolved: 365 days later (Thu 01/07/2027) it is not
    prolonged yet; the job's run of Fri 02/07/2027 07:00 (366 days) raises `prolonged` (open_too_long)."""
    clock = ManualClock(datetime(2026, 7, 1, 9, 0, tzinfo=TZ))
    settings = shipped_settings()
    engine = build(settings, database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        assert "grouping.open_too_long" in {job.kind for job in engine.runtime.jobs}
        case = engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Trần Thị B"}],
                                respondent=RESPONDENT, subject=SAME_MATTER[0][0], content=SAME_MATTER[0][1])
        clock.set(datetime(2027, 7, 1, 9, 0, tzinfo=TZ))  # 365 days: 2026-07-01 + 365 = 2027-07-01
        engine.tick()
        assert "prolonged" not in {s.type for s in engine.hot_spots()}
        clock.set(datetime(2027, 7, 2, 7, 0, tzinfo=TZ))  # 366 days
        engine.tick()
        [spot] = [s for s in engine.hot_spots() if s.type == "prolonged"]
        assert spot.case_ids == (case.id,)
        assert [r["rule"] for r in spot.reasons] == ["open_too_long"]
    finally:
        engine.close()


def test_an_unknown_organisation_level_is_refused_with_its_line(tmp_path: Path) -> None:
    """organisation.level must be one of commune, department, province, central (no district since 2025)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("  level: department"))
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("  level: department", "  level: district", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"config.yaml:{line}\b.*level"):
        load_settings(path)
