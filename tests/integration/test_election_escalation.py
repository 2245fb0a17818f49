"""The shipped configuration end to end: a crowded complaint in the election's `before` phase escalates at once.

`build()` with config.yaml as shipped: the 2026 election period (before 05/01–14/03/2026, during
15/03, after 16/03–15/05) and its phases' notify_at_once, content groups and their hot spots, the
shipped escalation rules.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.bootstrap import build
from engine.outbox import list_messages
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings
from tests.integration.test_cli import KNTC, ROOT, TIMEOUT

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def crowded_complaint(engine: Engine, clock: ManualClock) -> Any:
    """A complaint signed by six people (DESIGN §6: five or more signatories make a letter crowded)."""
    return engine.open_case("complaint", received_at=clock.now(),
                            petitioners=[{"name": f"Hộ dân số {i}"} for i in range(6)],
                            respondent="UBND huyện Lâm Hà", subject="Bồi thường giải phóng mặt bằng",
                            content="Chúng tôi đề nghị xem xét lại đơn giá bồi thường đất nông nghiệp.")


def test_a_crowded_complaint_before_election_day_escalates_in_the_same_transaction(tmp_path: Path) -> None:
    """On Mon 02/03/2026 (phase `before`) a six-signatory complaint is a crowded hot spot, urgent, and the head
    of unit and the director are notified at once; nothing of the signatories' names is in the feed."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    engine = build(shipped_settings(), database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        assert [(p.period, p.phase) for p in engine.phases()] == [("bau_cu_2026", "before")]
        case = crowded_complaint(engine, clock)
        assert case.priority == "urgent"
        types = [e.type for e in engine.events()]
        assert types[:2] == ["case.opened", "hotspot.detected"] and "escalation.raised" in types
        [spot] = engine.hot_spots()  # crowded at once: no early warning of a growth that never was
        assert (spot.type, spot.case_ids) == ("crowded", (case.id,))
        # one message per person: the head of unit's from the phase's notify_at_once (engine/phase_policy.py),
        # the director's from the rule hot_spot_in_election (which also made the case urgent)
        notified = sorted((m.data.get("role"), m.kind) for m in list_messages(engine.runtime) if m.case_id == case.id)
        assert notified == [("director", "hot_spot_at_once"), ("head_of_unit", "hot_spot_at_once_policy")]
        policy = next(m.data for m in list_messages(engine.runtime) if m.kind == "hot_spot_at_once_policy")
        assert (policy["type"], policy["hot_spot"], policy["case_ids"]) == ("crowded", spot.id, [case.id])
        assert (policy["period"], policy["phase"]) == ("bau_cu_2026", "before")
        assert "Hộ dân" not in json.dumps([e.data for e in engine.events()], ensure_ascii=False)
    finally:
        engine.close()


def test_the_same_complaint_outside_any_period_follows_the_normal_ladder(tmp_path: Path) -> None:
    """On Mon 01/06/2026 no phase is in force: the hot spot is found, nobody is woken, no priority moves."""
    clock = ManualClock(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
    engine = build(shipped_settings(), database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    try:
        assert engine.phases() == []
        case = crowded_complaint(engine, clock)
        assert case.priority == "normal"
        assert [(e.type, e.data.get("type")) for e in engine.events()] == [
            ("case.opened", None), ("hotspot.detected", "crowded")]
        assert list_messages(engine.runtime) == []
        env = {**os.environ, "KNTC_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}
        listed = subprocess.run([*KNTC, "hotspots", "--type", "crowded"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=TIMEOUT, check=False)
        assert listed.returncode == 0, listed.stderr
        assert f" crowded detected 2026-06-01T09:00:00+07:00 cases=1 {case.id} (letter_signatories)" in listed.stdout
    finally:
        engine.close()
