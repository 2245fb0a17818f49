"""Engine.report (DESIGN §6c) on memory, SQLite and PostgreSQL: every figure counted by hand from what the test did.

One walk of cases over the first half of 2026 (and one case from December 2025), through the public API on a
ManualClock. The expected figures below come from that walk (the comments say which case makes each), never
from the code under test; Q1 + Q2 must add up to the half-year, and Q2's carried-over balance must be Q1's
carry + received - resolved, kind by kind.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.config import Settings
from engine import Engine
from engine.errors import ValidationError
from engine.grouping import HotSpotRecord
from engine.model import NewEvent
from engine.periods import Period
from engine.testing import ManualClock, memory_engine
from tests.conftest import ROOT, postgres_url

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Q1, Q2, H1 = (date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30)), \
    (date(2026, 1, 1), date(2026, 6, 30))
# a test period: before 01..14/03, during 15/03, after 16..31/03 (the Q1 report meets all three)
PERIOD = Period.model_validate({"id": "bau_cu", "kind": "election", "label": "Bầu cử thử", "phases": {
    "before": {"from": "2026-03-01", "to": "2026-03-14"}, "during": {"from": "2026-03-15", "to": "2026-03-15"},
    "after": {"from": "2026-03-16", "to": "2026-03-31"}}})
KINDS = ("complaint", "denunciation", "disciplinary_complaint", "letter", "petition", "reception",
         "reception_schedule")


def at(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=TZ)


class Walk:
    """Opens and moves cases on the engine, the clock set to each act's moment."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine, self.clock = engine, clock

    def open(self, kind: str, when: datetime, channel: str = "post", **fields: Any) -> str:
        self.clock.set(when)
        return self.engine.open_case(kind, received_at=when, petitioners=[{"name": "Người 0"}],
                                     respondent="UBND phường Xuân Hương", subject="Đơn thử nghiệm",
                                     channel=channel, fields=fields).id

    def fire(self, case_id: str, event: str, when: datetime, role: str = "inspector", **payload: Any) -> None:
        self.clock.set(when)
        self.engine.fire(case_id, event, actor=f"cb.{role}", role=role, payload=payload)


def walk(engine: Engine, clock: ManualClock) -> dict[str, str]:
    """The cases of the test (see the module doc); their ids by letter."""
    w, ids = Walk(engine, clock), {}
    # A: complaint received 15/12/2025, accepted 16/12/2025: 30 days (45 if complex) end by 30/01/2026 at the
    # latest; decided 16/02/2026, so resolved late in Q1 (carried into Q1)
    ids["A"] = a = w.open("complaint", at(2025, 12, 15))
    w.fire(a, "accept", at(2025, 12, 16))
    # B: complaint received 05/01, accepted 06/01, extended 08/01, dialogue 20/01, decided 22/01 (16 days): on time
    ids["B"] = b = w.open("complaint", at(2026, 1, 5))
    w.fire(b, "accept", at(2026, 1, 6))
    w.fire(b, "start_verification", at(2026, 1, 7))
    w.fire(b, "extend", at(2026, 1, 8), "head_of_unit", reason="Vụ việc phức tạp")
    w.fire(b, "schedule_dialogue", at(2026, 1, 9), dialogue_date="2026-01-20")
    w.fire(b, "hold_dialogue", at(2026, 1, 20))
    w.fire(b, "draft_decision", at(2026, 1, 21))
    w.fire(b, "decide", at(2026, 1, 22), "head_of_unit")
    # C: complaint by portal 02/02, accepted 03/02: 30 days end 05/03 (45 if complex: 20/03), both before
    # 31/03, so overdue at Q1's end; decided 10/04 (Q2), late
    ids["C"] = c = w.open("complaint", at(2026, 2, 2), channel="portal")
    w.fire(c, "accept", at(2026, 2, 3))
    w.fire(a, "start_verification", at(2026, 2, 9))
    w.fire(a, "draft_decision", at(2026, 2, 13))
    w.fire(a, "decide", at(2026, 2, 16), "head_of_unit")
    # E: letter received 12/01, guided 13/01 (Q1)
    ids["E"] = e = w.open("letter", at(2026, 1, 12))
    w.fire(e, "classify", at(2026, 1, 13))
    w.fire(e, "guide", at(2026, 1, 13))
    # H: a reception visit of 7 (a crowded delegation, 2 representatives) on 10/02, guided the same day
    ids["H"] = h = w.open("reception", at(2026, 2, 10), channel="reception", delegation_size=7, representatives=2)
    for event in ("verify_identity", "hear", "guide"):
        w.fire(h, event, at(2026, 2, 10))
    # D: denunciation at reception on 20/03 (phase "after"), accepted 23/03: 30 days end 22/04, not overdue at
    # Q1's end; concluded 15/04 (Q2), on time
    ids["D"] = d = w.open("denunciation", at(2026, 3, 20), channel="reception")
    w.fire(d, "start_check", at(2026, 3, 20))
    w.fire(d, "accept", at(2026, 3, 23), "head_of_unit")
    # G: letter received Monday 30/03 (phase "after"): 10 working days end in April; transferred 02/04 (Q2)
    ids["G"] = g = w.open("letter", at(2026, 3, 30))
    w.fire(g, "classify", at(2026, 3, 31))
    w.fire(g, "transfer", at(2026, 4, 2), to_body="UBND thành phố")
    w.fire(d, "start_verification", at(2026, 3, 24))
    w.fire(d, "notify_parties", at(2026, 3, 25), "head_of_unit")
    w.fire(d, "conclude", at(2026, 4, 15), "head_of_unit")
    w.fire(c, "start_verification", at(2026, 4, 1))
    w.fire(c, "draft_decision", at(2026, 4, 2))
    w.fire(c, "decide", at(2026, 4, 10), "head_of_unit")
    # F: letter received 06/04, filed 07/04 (Q2)
    ids["F"] = f = w.open("letter", at(2026, 4, 6))
    w.fire(f, "classify", at(2026, 4, 7))
    w.fire(f, "file", at(2026, 4, 7))
    # I: a reception visit of 2 on 05/05, guided the same day
    ids["I"] = i = w.open("reception", at(2026, 5, 5), channel="reception", delegation_size=2)
    for event in ("verify_identity", "hear", "guide"):
        w.fire(i, event, at(2026, 5, 5))
    # S: the head's reception day 20/05, scheduled 04/05, posted 05/05 (by 13/05: 5 working days ahead), held
    ids["S"] = s = w.open("reception_schedule", at(2026, 5, 4), reception_date="2026-05-20")
    w.fire(s, "post_schedule", at(2026, 5, 5), "clerk")
    w.fire(s, "hold", at(2026, 5, 20), "clerk")
    # a hot spot found 16/03 (phase "after") and one 05/05; an escalation raised 15/03 (phase "during")
    with engine.runtime.store.transaction() as tx:
        for spot, kind, moment in (("h1", "crowded", at(2026, 3, 16)), ("h2", "prolonged", at(2026, 5, 5))):
            tx.save_hot_spot(HotSpotRecord(spot, kind, "g", [], [], moment, moment), new=True)
        tx.append_events([NewEvent("escalation.raised", None, at(2026, 3, 15, 10), {"rule": "r"})])
    clock.set(at(2026, 7, 15))
    return ids


def zero(kind: str) -> dict[str, int]:
    return {"carried_over": 0, "received": 0, "resolved": 0, "resolved_on_time": 0, "resolved_late": 0,
            "overdue_now": 0, "extended": 0, "dialogues": 0}


def summary(report: Any) -> dict[str, dict[str, int]]:
    return {r["kind"]: {k: v for k, v in r.items() if k not in ("kind", "kind_label")}
            for r in report.tables["summary_by_kind"]}


def expected(rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {kind: {**zero(kind), **rows.get(kind, {})} for kind in KINDS}


@pytest.fixture
def reports(engine: Engine, clock: ManualClock) -> tuple[dict[str, str], Any, Any, Any]:
    engine.runtime.use_periods([PERIOD])
    ids = walk(engine, clock)
    return ids, engine.report(*Q1), engine.report(*Q2), engine.report(*H1)


def test_the_first_quarter_counts_what_the_walk_did(reports: tuple[dict[str, str], Any, Any, Any]) -> None:
    ids, q1, _, _ = reports
    assert summary(q1) == expected({
        # carried: A; received B, C; resolved A (late), B; overdue at 31/03: C; B's extension and dialogue
        "complaint": {"carried_over": 1, "received": 2, "resolved": 2, "resolved_on_time": 1, "resolved_late": 1,
                      "overdue_now": 1, "extended": 1, "dialogues": 1},
        "denunciation": {"received": 1},  # D
        "letter": {"received": 2, "resolved": 1, "resolved_on_time": 1},  # E, G; E guided
        "reception": {"received": 1, "resolved": 1, "resolved_on_time": 1}})  # H guided
    assert q1.tables["received_by_channel"] == [
        {"kind": "complaint", "channel": "portal", "phase": "", "count": 1},  # C
        {"kind": "complaint", "channel": "post", "phase": "", "count": 1},  # B
        {"kind": "denunciation", "channel": "reception", "phase": "bau_cu:after", "count": 1},  # D
        {"kind": "letter", "channel": "post", "phase": "", "count": 1},  # E
        {"kind": "letter", "channel": "post", "phase": "bau_cu:after", "count": 1},  # G
        {"kind": "reception", "channel": "reception", "phase": "", "count": 1}]  # H
    handling = {r["kind"]: r for r in q1.tables["handling"]}
    assert handling["complaint"] == {"kind": "complaint", "accepted": 2, "transferred": 0, "guided": 0, "filed": 0}
    assert handling["denunciation"]["accepted"] == 1 and handling["letter"]["guided"] == 1
    assert handling["reception"]["guided"] == 1
    assert q1.tables["extensions"] == [{"case_id": ids["B"], "kind": "complaint", "deadline": "resolution",
                                        "reason": "Vụ việc phức tạp", "on": "2026-01-08"}]
    assert q1.tables["reception"] == [{"visits": 1, "persons": 7, "crowded_delegations": 1, "head_days_held": 0}]
    spots = {r["type"]: r["count"] for r in q1.tables["hot_spots_by_type"]}
    assert spots["crowded"] == 1 and sum(spots.values()) == 1
    assert q1.tables["by_phase"] == [
        # received B, C, E, H; resolved A (16/02), B, E, H
        {"phase": "", "received": 4, "resolved": 4, "hot_spots": 0, "escalations": 0},
        {"phase": "bau_cu:before", "received": 0, "resolved": 0, "hot_spots": 0, "escalations": 0},
        {"phase": "bau_cu:during", "received": 0, "resolved": 0, "hot_spots": 0, "escalations": 1},
        {"phase": "bau_cu:after", "received": 2, "resolved": 0, "hot_spots": 1, "escalations": 0}]  # D, G; h1
    weekly = {r["week"]: (r["received"], r["resolved"]) for r in q1.tables["weekly"]}
    # 14 Mondays from 29/12/2025 to 30/03/2026; B in week 05/01, E 12/01 (and resolved), B resolved 22/01
    # (week 19/01), C 02/02, H 09/02 (resolved), A resolved 16/02, D 16/03, G 30/03
    assert len(weekly) == 14 and min(weekly) == "2025-12-29" and max(weekly) == "2026-03-30"
    assert {k: v for k, v in weekly.items() if v != (0, 0)} == {
        "2026-01-05": (1, 0), "2026-01-12": (1, 1), "2026-01-19": (0, 1), "2026-02-02": (1, 0),
        "2026-02-09": (1, 1), "2026-02-16": (0, 1), "2026-03-16": (1, 0), "2026-03-30": (1, 0)}
    assert q1.as_dict()["from"] == "2026-01-01" and q1.as_dict()["to"] == "2026-03-31"


def test_the_second_quarter_and_the_half_year_add_up(reports: tuple[dict[str, str], Any, Any, Any]) -> None:
    _, q1, q2, h1 = reports
    assert summary(q2) == expected({
        "complaint": {"carried_over": 1, "resolved": 1, "resolved_late": 1},  # C
        "denunciation": {"carried_over": 1, "resolved": 1, "resolved_on_time": 1},  # D
        "letter": {"carried_over": 1, "received": 1, "resolved": 2, "resolved_on_time": 2},  # G; F
        "reception": {"received": 1, "resolved": 1, "resolved_on_time": 1},  # I
        "reception_schedule": {"received": 1, "resolved": 1, "resolved_on_time": 1}})  # S
    assert q2.tables["reception"] == [{"visits": 1, "persons": 2, "crowded_delegations": 0, "head_days_held": 1}]
    handling = {r["kind"]: r for r in q2.tables["handling"]}
    assert (handling["letter"]["filed"], handling["letter"]["transferred"]) == (1, 1)  # F, G
    s1, s2, s6 = summary(q1), summary(q2), summary(h1)
    for kind in KINDS:
        assert s2[kind]["carried_over"] == s1[kind]["carried_over"] + s1[kind]["received"] - s1[kind]["resolved"]
        assert s6[kind]["carried_over"] == s1[kind]["carried_over"]
        for column in ("received", "resolved", "resolved_on_time", "resolved_late", "extended", "dialogues"):
            assert s6[kind][column] == s1[kind][column] + s2[kind][column], (kind, column)
    assert s6["complaint"]["overdue_now"] == 0  # C decided before 30/06


def test_memory_sqlite_and_postgres_give_the_same_report(settings: Settings, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    from adapters.bootstrap import build
    # PostgreSQL (when the suite has a server): a schema of this test's own, dropped afterwards
    pg = [str(request.getfixturevalue("pg_url"))] if postgres_url() else []
    urls = [f"sqlite:///{tmp_path / 'kntc.db'}", *pg]
    got = []
    for url in [None, *urls]:
        clock = ManualClock(at(2025, 12, 1))
        engine = memory_engine(clock, ROOT / "workflows") if url is None else build(settings, database_url=url,
                                                                                   clock=clock)
        try:
            engine.runtime.use_periods([PERIOD])
            rename = {v: k for k, v in walk(engine, clock).items()}  # ids are uuids: the letters stand for them
            got.append([_without_ids(engine.report(*span).as_dict(), rename) for span in (Q1, Q2, H1)])
        finally:
            engine.close()
    assert len(got) >= 2 and all(g == got[0] for g in got[1:])


def _without_ids(value: Any, rename: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ids(v, rename) for v in value]
    return rename.get(value, value) if isinstance(value, str) else value


def test_a_report_read_changes_nothing_and_emits_nothing(engine: Engine) -> None:
    before = engine.events(limit=10_000)
    engine.report(*Q1)
    assert engine.events(limit=10_000) == before


@pytest.mark.parametrize(("start", "end", "field", "says"), [
    (date(2026, 4, 1), date(2026, 3, 31), "start", "2026-04-01 is after end 2026-03-31"),
    ("2026-01-01", date(2026, 3, 31), "start", "must be a date"),
    (date(2026, 1, 1), datetime(2026, 3, 31, tzinfo=TZ), "end", "must be a date"),
    (date(2026, 1, 1), None, "end", "must be a date"),
])
def test_bad_dates_are_refused_naming_the_field(engine: Engine, start: Any, end: Any, field: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        engine.report(start, end)
    assert refused.value.field == field and says in str(refused.value)
    assert "\n" not in str(refused.value)
