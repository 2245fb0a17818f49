"""A phase's ``notify_at_once`` over the memory, SQLite and PostgreSQL stores (engine/phase_policy.py).

The shipped 2026 election: ``before`` (05/01–14/03) lists crowded and skip_level, ``during``
(15/03) adds prolonged. Skip-level and prolonged detection are other helpers' work: a stand-in
reactor raises the ``hotspot.detected`` / ``hotspot.updated`` the detector would, through the
same pipeline, so the policy reacts to the event whatever found the hot spot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.config import load_settings
from adapters.escalation_wiring import escalation_reactors, merge_reactors, policy_reactors
from engine import Emit
from engine.errors import ConfigError
from engine.model import NewEvent
from engine.periods import Period, phases
from engine.phase_policy import KIND, phase_policy_reactors
from engine.reactors import Effect, Reaction
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import shipped_settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def spot_engine(engine: Engine, kind: str, periods: tuple[Period, ...] | None = None, *,
                with_rules: bool = False) -> Engine:
    """An engine over ``engine``'s store whose opened cases are hot spots of ``kind`` (id ``g-<case>:<kind>``)
    and whose ``grow`` payload-less event ``classify`` re-raises it as ``hotspot.updated``."""

    def detect(reaction: Reaction) -> Iterable[Effect]:
        case_id = reaction.event.case_id
        yield Emit(NewEvent("hotspot.detected", case_id, reaction.now,
                            {"type": kind, "hot_spot": f"g-{case_id}:{kind}", "case_ids": [case_id]}))

    def grow(reaction: Reaction) -> Iterable[Effect]:
        case_id = reaction.event.case_id
        yield Emit(NewEvent("hotspot.updated", case_id, reaction.now,
                            {"type": kind, "hot_spot": f"g-{case_id}:{kind}", "case_ids": [case_id, "other"]}))

    rt = engine.runtime
    policy = (phase_policy_reactors(periods, rt.calendar) if periods is not None
              else policy_reactors(shipped_settings(), rt.calendar))
    settings = shipped_settings()

    def phases_at(moment: datetime) -> list[str]:
        return [a.phase for a in phases(settings.periods, moment, rt.calendar)]

    rules = escalation_reactors(settings, phases_at, rt.calendar) if with_rules else {}
    reactors = merge_reactors({"case.opened": [detect], "case.transitioned": [grow]}, policy, rules)
    return Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock, reactors=reactors)


def open_letter(engine: Engine, clock: ManualClock) -> Any:
    """A letter received now (its content is about land: no election topic)."""
    return engine.open_case("letter", received_at=clock.now(), petitioners=[{"name": "Phạm Thị D"}],
                            respondent="UBND xã Đạ Đờn", subject="Đề nghị bồi thường đất")


def told(engine: Engine) -> list[tuple[str | None, dict[str, Any]]]:
    """The policy's outbox messages as (case id, data)."""
    with engine.runtime.store.reader() as tx:
        return [(m.case_id, m.data) for m in tx.outbox(limit=1000) if m.kind == KIND]


def test_a_skip_level_hot_spot_before_election_day_tells_the_head_of_unit_at_once(
        engine: Engine, clock: ManualClock) -> None:
    """Mon 02/03/2026 is in `before`, which lists skip_level: one message, committed with the detection."""
    eng = spot_engine(engine, "skip_level")
    case = open_letter(eng, clock)
    [(case_id, data)] = told(eng)
    assert case_id == case.id
    assert data == {"policy": "notify_at_once", "event": "hotspot.detected", "role": "head_of_unit",
                    "hot_spot": f"g-{case.id}:skip_level", "type": "skip_level", "case_ids": [case.id],
                    "case_id": case.id, "period": "bau_cu_2026", "phase": "before",
                    "phases": [{"period": "bau_cu_2026", "phase": "before"}]}
    assert "Phạm" not in repr(data)


def test_with_the_shipped_rule_each_person_gets_one_message(engine: Engine, clock: ManualClock) -> None:
    """hot_spot_in_election names head_of_unit and director; the policy already tells the head of unit, so the
    rule leaves it out (and says so): one message each, the case urgent."""
    eng = spot_engine(engine, "skip_level", with_rules=True)
    case = open_letter(eng, clock)
    with eng.runtime.store.reader() as tx:
        sent = sorted((m.data["role"], m.kind) for m in tx.outbox(limit=100))
    assert sent == [("director", "hot_spot_at_once"), ("head_of_unit", KIND)]
    assert eng.get(case.id).priority == "urgent"
    [raised] = [e for e in eng.events() if e.type == "escalation.raised"]
    assert raised.data["told_by_phase_policy"] == ["head_of_unit"]


def test_a_prolonged_hot_spot_is_told_during_but_not_before(engine: Engine, clock: ManualClock) -> None:
    """`before` does not list prolonged: nothing on 02/03. On election day 15/03 (`during` lists it) the
    same hot spot growing is told once; growing again that day tells nobody again."""
    eng = spot_engine(engine, "prolonged")
    case = open_letter(eng, clock)
    assert told(eng) == []
    clock.set(datetime(2026, 3, 15, 8, 0, tzinfo=TZ))
    eng.fire(case.id, "classify", actor="cb01", role="clerk")  # the stand-in raises hotspot.updated
    [(_, data)] = told(eng)
    assert (data["event"], data["phase"], data["case_ids"]) == ("hotspot.updated", "during", [case.id, "other"])


def test_a_prolonged_hot_spot_on_election_day_is_told_at_detection(engine: Engine, clock: ManualClock) -> None:
    """Found on Sun 15/03 (`during`): told at once."""
    clock.set(datetime(2026, 3, 15, 8, 0, tzinfo=TZ))
    eng = spot_engine(engine, "prolonged")
    open_letter(eng, clock)
    assert [d["phase"] for _, d in told(eng)] == ["during"]


def test_one_hot_spot_is_told_once_per_phase(engine: Engine, clock: ManualClock) -> None:
    """Crowded found in `before` (02/03), grown in `before` (03/03): one message; grown in `after`
    (16/03, which lists crowded too): a second, naming `after`."""
    eng = spot_engine(engine, "crowded")
    case = open_letter(eng, clock)
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TZ))
    eng.fire(case.id, "classify", actor="cb01", role="clerk")
    assert [d["phase"] for _, d in told(eng)] == ["before"]
    clock.set(datetime(2026, 3, 16, 9, 0, tzinfo=TZ))
    eng.fire(case.id, "file", actor="cb01", role="clerk")  # the case's next transition: grows again
    assert [d["phase"] for _, d in told(eng)] == ["before", "after"]


def test_outside_every_phase_and_for_unlisted_types_nobody_is_told(engine: Engine, clock: ManualClock) -> None:
    """early_crowded is in no phase's list (02/03, `before`); on 01/06/2026 no phase is in force."""
    open_letter(spot_engine(engine, "early_crowded"), clock)
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
    eng = spot_engine(engine, "crowded")
    open_letter(eng, clock)
    assert told(eng) == []


def test_overlapping_periods_give_one_message_naming_both_phases(engine: Engine, clock: ManualClock) -> None:
    """A Party congress inside `before`, listing crowded too: one message to the head of unit, two phases."""
    congress = Period.model_validate({"id": "dai_hoi_tinh", "kind": "congress", "label": "Đại hội Đảng bộ tỉnh",
                                      "phases": {"during": {"from": "2026-03-01", "to": "2026-03-03"}},
                                      "policy": {"during": {"notify_at_once": ["crowded"]}}})
    eng = spot_engine(engine, "crowded", (*shipped_settings().periods, congress))
    open_letter(eng, clock)
    [(_, data)] = told(eng)
    assert data["phases"] == [{"period": "bau_cu_2026", "phase": "before"},
                              {"period": "dai_hoi_tinh", "phase": "during"}]


def test_notify_at_once_without_a_head_of_unit_role_is_refused_at_its_line(tmp_path: Path) -> None:
    """A policy that tells the head of unit, in an organisation that declares none: file:line."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "organisation:\n"
        "  roles: {clerk: Cán bộ, director: Giám đốc, system: Hệ thống}\n"
        "periods:\n"
        "  - id: tet_2027\n"
        "    kind: tet\n"
        "    label: Tết Đinh Mùi\n"
        "    phases: {before: {from: 2027-01-25, to: 2027-02-05}}\n"
        "    policy:\n"
        "      before: {notify_at_once: [crowded]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:9:\d+: periods\.0\.policy\.before\.notify_at_once: "
                                          r"notifies role 'head_of_unit', which is not declared"):
        load_settings(path)
