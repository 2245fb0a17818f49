"""Legal deadlines of the shipped complaint and denunciation workflows, driven through the engine.

Every expected date below is computed by hand from the law (DOMAIN.md §1-§2, DOMAIN-2026.md
§1-§4) and the 2026 calendar, and written out literally with its count in a comment. None is
computed with kntc's own calendar.

Counting (BLDS 2015 Điều 147-148): the trigger day is not counted; a period in calendar days (CD)
whose last day is a day off ends at the end of the next working day; a period in working days (WD)
counts working days only; a day ends at 24:00 local (17:00 UTC). A suspension excludes the days
``paused_on < d <= resumed_on``.

2026 days off besides Saturdays and Sundays: 01/01; Tết 16-20/02 (14-22/02 with the weekends);
Giỗ Tổ Hùng Vương Sun 26/04 observed Mon 27/04; 30/04; 01/05; Mon 31/08 (swapped with Saturday
22/08, which is a WORKING day in kntc's config); 01-02/09; 24/11.

2026 weekdays used: Thu 01/01, Sun 01/02, Sun 01/03, Wed 01/04, Fri 01/05, Mon 01/06, Wed 01/07,
Sat 01/08, Tue 01/09, Thu 01/10, Sun 01/11.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import Case, Engine, NotAllowedError, ValidationError
from engine.testing import ManualClock, memory_engine

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
D = date

PETITIONER = {"name": "Nguyễn Thị Hoa", "id_number": "079188001234", "address": "12 Lê Lợi, Đà Lạt",
              "phone": "0912345678"}
ACTORS = {"clerk": "cb.lan", "inspector": "ttv.minh", "head_of_unit": "tp.son", "director": "gd.tuan"}


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An aware moment in Asia/Ho_Chi_Minh."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def end_of(d: date) -> datetime:
    """24:00 local of ``d`` written in UTC (Vietnam is UTC+7 all year): 17:00 UTC of ``d``."""
    return datetime(d.year, d.month, d.day, 17, 0, tzinfo=UTC)


@dataclass
class Desk:
    """One engine for the module (building one costs ~0.5 s); each step sets the clock first."""

    clock: ManualClock
    engine: Engine
    cases: list[str] = field(default_factory=list)

    def open(self, kind: str, received: datetime, *, now: datetime | None = None, **fields: Any) -> Case:
        self.clock.set(now or received)
        case = self.engine.open_case(kind, received_at=received, petitioners=[PETITIONER],
                                     respondent="UBND phường Xuân Hương", subject="Đơn thư thử nghiệm",
                                     fields=fields)
        self.cases.append(case.id)
        return case

    def fire(self, case: Case, event: str, when: datetime, role: str, **payload: Any) -> Case:
        self.clock.set(when)
        return self.engine.fire(case.id, event, actor=ACTORS[role], role=role, payload=payload,
                                expected_version=case.version)

    def feed_end(self) -> int:
        events = self.engine.events(after=0, limit=10_000)
        return events[-1].seq if events else 0


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    clock = ManualClock(at(2026, 1, 5))
    yield Desk(clock, memory_engine(clock, workflows_dir=ROOT / "workflows"))


def accepted_complaint(desk: Desk, received: datetime, accepted: datetime, **fields: Any) -> Case:
    case = desk.open("complaint", received, **fields)
    return desk.fire(case, "accept", accepted, "inspector")


def accepted_denunciation(desk: Desk, received: datetime, checked: datetime, accepted: datetime) -> Case:
    case = desk.open("denunciation", received)
    case = desk.fire(case, "start_check", checked, "clerk")
    return desk.fire(case, "accept", accepted, "inspector")


# =============================================================== complaint acceptance (thụ lý)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 10 WD from Wed 11/02: 12,13/02 | Tết 14-22/02 | 23,24,25,26,27/02, 2,3,4/03
        (at(2026, 2, 11, 15), D(2026, 3, 4)),
        # 10 WD from Fri 13/02: Tết 14-22/02 | 23,24,25,26,27/02, 2,3,4,5,6/03
        (at(2026, 2, 13, 10), D(2026, 3, 6)),
        # letter on the portal on Tue 17/02 (Tết): first WD Mon 23/02: 23..27/02, 2..6/03
        (at(2026, 2, 17, 20), D(2026, 3, 6)),
    ],
    ids=["wed-11-02", "fri-13-02", "during-tet"],
)
def test_complaint_acceptance_across_tet_2026_is_10_working_days(desk: Desk, received: datetime, due: date) -> None:
    dl = desk.open("complaint", received).deadlines["acceptance"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 10, "working", "running")
    assert dl.due_at == end_of(due)
    assert "NĐ 124/2020" in dl.legal_basis
    assert "Điều 16" in dl.legal_basis


def test_complaint_acceptance_across_hung_kings_30_4_and_1_5(desk: Desk) -> None:
    # 10 WD from Thu 23/04: 24/04 | 25-26 weekend, 27/04 Giỗ Tổ (observed) | 28,29/04 | 30/04, 01/05,
    # 2-3/05 off | 4,5,6,7,8,11,12/05
    dl = desk.open("complaint", at(2026, 4, 23, 14)).deadlines["acceptance"]
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 5, 12), 10, "working")
    assert dl.due_at == datetime(2026, 5, 12, 17, 0, tzinfo=UTC)
    assert "NĐ 124/2020" in dl.legal_basis


@pytest.mark.parametrize(
    ("received", "due", "amount", "decree"),
    [
        # Tue 30/06 (before NĐ 155) -> 10 WD: 1,2,3,6,7,8,9,10,13,14/07
        (at(2026, 6, 30, 10), D(2026, 7, 14), 10, "NĐ 124/2020"),
        # 30/06 23:30 local is still 30/06 in Hà Nội (16:30 UTC): 10 WD -> Tue 14/07
        (at(2026, 6, 30, 23, 30), D(2026, 7, 14), 10, "NĐ 124/2020"),
        # Wed 01/07 (NĐ 155/2026 in force) -> 7 WD: 2,3,6,7,8,9,10/07
        (at(2026, 7, 1, 10), D(2026, 7, 10), 7, "NĐ 155/2026"),
        # 01/07 00:30 local = 30/06 17:30 UTC: the LOCAL date of receipt decides -> 7 WD, Fri 10/07
        (at(2026, 7, 1, 0, 30), D(2026, 7, 10), 7, "NĐ 155/2026"),
        (datetime(2026, 6, 30, 17, 30, tzinfo=UTC), D(2026, 7, 10), 7, "NĐ 155/2026"),
    ],
    ids=["30-06", "30-06-late-evening", "01-07", "01-07-just-after-midnight", "01-07-given-in-utc"],
)
def test_complaint_acceptance_switches_on_1_july_2026(desk: Desk, received: datetime, due: date, amount: int,
                                                      decree: str) -> None:
    dl = desk.open("complaint", received).deadlines["acceptance"]
    assert (dl.due_date, dl.amount, dl.unit) == (due, amount, "working")
    assert dl.due_at == end_of(due)
    assert decree in dl.legal_basis


def test_complaint_acceptance_from_1_july_has_ladder_on_working_days(desk: Desk) -> None:
    # 7 WD from Wed 01/07: rungs at floor(0.5*7)=3 WD -> Mon 06/07 (2,3,6) and floor(0.8*7)=5 WD -> Wed 08/07
    dl = desk.open("complaint", at(2026, 7, 1, 8)).deadlines["acceptance"]
    assert dl.warn_at == (datetime(2026, 7, 6, 17, 0, tzinfo=UTC), datetime(2026, 7, 8, 17, 0, tzinfo=UTC))
    assert dl.due_at == datetime(2026, 7, 10, 17, 0, tzinfo=UTC)


def test_second_instance_acceptance_from_1_july_is_7_working_days(desk: Desk) -> None:
    # NĐ 155 sets 7 WD for both instances: Wed 01/07 -> 2,3,6,7,8,9,10/07
    dl = desk.open("complaint", at(2026, 7, 1, 14), instance=2).deadlines["acceptance"]
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 7, 10), 7, "working")
    assert "NĐ 155/2026" in dl.legal_basis


def test_acceptance_rule_is_keyed_on_receipt_not_on_opening(desk: Desk) -> None:
    # received Tue 30/06, registered only on Thu 02/07: still the old 10 WD from 30/06 -> Tue 14/07
    case = desk.open("complaint", at(2026, 6, 30, 16), now=at(2026, 7, 2, 10))
    dl = case.deadlines["acceptance"]
    assert (dl.due_date, dl.amount) == (D(2026, 7, 14), 10)
    assert dl.started_at == at(2026, 6, 30, 16)
    assert "NĐ 155" not in dl.legal_basis


def test_accept_meets_the_acceptance_clock(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 7, 1, 10), at(2026, 7, 3, 10))
    assert case.deadlines["acceptance"].status == "met"
    assert case.deadlines["resolution"].status == "running"


# =============================================================== complaint resolution


@pytest.mark.parametrize(
    ("fields", "received", "accepted", "due", "amount", "article"),
    [
        # 1st instance 30 CD from Thu 15/01: 16..31/01 = 16, 1..14/02 = 14 -> Sat 14/02;
        # 14-22/02 off (weekend + Tết) -> Mon 23/02
        ({}, at(2026, 1, 12), at(2026, 1, 15, 10), D(2026, 2, 23), 30, "Điều 28"),
        # 1st instance 30 CD from Tue 31/03: 1..30/04 = 30 -> Thu 30/04; 01/05, 2-3/05 off -> Mon 04/05
        ({}, at(2026, 3, 25), at(2026, 3, 31, 10), D(2026, 5, 4), 30, "Điều 28"),
        # remote 45 CD from Thu 12/03: 13..31/03 = 19, 1..26/04 = 26 -> Sun 26/04;
        # Mon 27/04 Giỗ Tổ observed -> Tue 28/04
        ({"remote_area": True}, at(2026, 3, 9), at(2026, 3, 12, 10), D(2026, 4, 28), 45, "Điều 28"),
        # remote + complex 60 CD from Tue 23/06: 24..30/06 = 7, July 31 (38), 1..22/08 = 22 -> Sat 22/08,
        # a swapped WORKING Saturday: no roll
        ({"remote_area": True, "complex": True}, at(2026, 6, 16), at(2026, 6, 23, 10), D(2026, 8, 22), 60,
         "Điều 28"),
        # 2nd instance 45 CD from Wed 31/12/2025: January 31, 1..14/02 = 14 -> Sat 14/02/2026 -> Mon 23/02
        ({"instance": 2}, at(2025, 12, 29), at(2025, 12, 31, 10), D(2026, 2, 23), 45, "Điều 37"),
        # 2nd instance remote 60 CD from Fri 25/09: 26..30/09 = 5, October 31 (36), 1..24/11 = 24
        # -> Tue 24/11 (Ngày Văn hóa Việt Nam) -> Wed 25/11
        ({"instance": 2, "remote_area": True}, at(2026, 9, 21), at(2026, 9, 25, 10), D(2026, 11, 25), 60,
         "Điều 37"),
        # 2nd instance remote + complex 70 CD from Tue 23/06: 7 + 31 + 31 = 69 on 31/08, 70 -> Tue 01/09
        # (Quốc khánh); 02/09 off -> Thu 03/09
        ({"instance": 2, "remote_area": True, "complex": True}, at(2026, 6, 16), at(2026, 6, 23, 10),
         D(2026, 9, 3), 70, "Điều 37"),
    ],
    ids=["1st-30-tet", "1st-30-30-4", "1st-remote-45", "1st-remote-complex-60", "2nd-45", "2nd-remote-60",
         "2nd-remote-complex-70"],
)
def test_complaint_resolution_budget_and_roll(desk: Desk, fields: dict[str, Any], received: datetime,
                                              accepted: datetime, due: date, amount: int, article: str) -> None:
    dl = accepted_complaint(desk, received, accepted, **fields).deadlines["resolution"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, amount, "calendar", "running")
    assert dl.due_at == end_of(due)
    assert dl.started_at == accepted
    assert f"LKN {article}" in dl.legal_basis


def test_resolution_ladder_on_calendar_days(desk: Desk) -> None:
    # 30 CD from Mon 02/03: rungs at 15 CD -> Tue 17/03 and 24 CD -> Thu 26/03; due 30 CD -> Wed 01/04
    dl = accepted_complaint(desk, at(2026, 2, 24), at(2026, 3, 2, 10)).deadlines["resolution"]
    assert dl.warn_at == (end_of(D(2026, 3, 17)), end_of(D(2026, 3, 26)))
    assert dl.due_at == end_of(D(2026, 4, 1))


def test_mark_complex_lengthens_a_running_first_instance_clock(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 3, 10), at(2026, 3, 16, 10))
    # 30 CD from Mon 16/03: 17..31/03 = 15, 1..15/04 = 15 -> Wed 15/04
    assert (case.deadlines["resolution"].due_date, case.deadlines["resolution"].amount) == (D(2026, 4, 15), 30)
    case = desk.fire(case, "start_verification", at(2026, 3, 18), "inspector")
    case = desk.fire(case, "mark_complex", at(2026, 3, 25, 14), "inspector", reason="Xác minh tại 02 địa điểm")
    dl = case.deadlines["resolution"]
    # 45 CD from Mon 16/03: 15 + 30 -> Thu 30/04; 01/05, 2-3/05 off -> Mon 04/05
    assert (dl.due_date, dl.amount, dl.status) == (D(2026, 5, 4), 45, "running")
    assert case.fields["complex"] is True
    assert "phức tạp" in dl.legal_basis
    assert "LKN Điều 28" in dl.legal_basis
    assert dl.started_at == at(2026, 3, 16, 10)  # same clock, longer budget


def test_extend_with_reason_lengthens_a_running_first_instance_clock(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 7, 14), at(2026, 7, 17, 10))
    # 30 CD from Fri 17/07: 18..31/07 = 14, 1..16/08 = 16 -> Sun 16/08 -> Mon 17/08
    assert case.deadlines["resolution"].due_date == D(2026, 8, 17)
    case = desk.fire(case, "extend", at(2026, 7, 27, 15), "head_of_unit", reason="Nhiều cơ quan có ý kiến khác nhau",
                     criterion="agencies_disagree")
    dl = case.deadlines["resolution"]
    # 45 CD from Fri 17/07: 30 on 16/08, 17..31/08 = 15 -> Mon 31/08 (nghỉ bù Quốc khánh);
    # 01/09, 02/09 off -> Thu 03/09
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 9, 3), 45, "calendar")
    assert dl.due_at == datetime(2026, 9, 3, 17, 0, tzinfo=UTC)
    assert "LKN Điều 28" in dl.legal_basis


def test_a_complexity_finding_from_1_july_2026_names_its_criterion(desk: Desk) -> None:
    """NĐ 124/2020 Điều 3a (added by NĐ 155/2026): from 01/07/2026 a case is complex by one of seven criteria,
    found in writing; the day of the finding governs (NĐ 155 Điều 22 k1). Before, the officer's reason suffices."""
    early = accepted_complaint(desk, at(2026, 6, 15), at(2026, 6, 17, 10))
    early = desk.fire(early, "mark_complex", at(2026, 6, 30, 16), "inspector", reason="Nhiều nội dung")
    assert early.fields["complex"] is True
    case = accepted_complaint(desk, at(2026, 6, 15), at(2026, 6, 17, 10))
    with pytest.raises(NotAllowedError) as err:
        desk.fire(case, "mark_complex", at(2026, 7, 1, 9), "inspector", reason="Nhiều nội dung")
    assert err.value.why == "guard" and "criterion" in str(err.value)
    assert desk.engine.get(case.id).fields["complex"] is False
    case = desk.fire(case, "mark_complex", at(2026, 7, 1, 9), "inspector", reason="Nhiều nội dung",
                     criterion="multiple_contents")
    assert case.fields["complex"] is True


def test_mark_complex_on_a_remote_case_gives_60_days(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 6, 17), at(2026, 6, 23, 10), remote_area=True)
    # remote 45 CD from Tue 23/06: 24..30/06 = 7, July 31 (38), 1..7/08 = 7 -> Fri 07/08
    assert (case.deadlines["resolution"].due_date, case.deadlines["resolution"].amount) == (D(2026, 8, 7), 45)
    case = desk.fire(case, "mark_complex", at(2026, 7, 2), "inspector", reason="Có yếu tố nước ngoài",
                     criterion="foreign_element")
    dl = case.deadlines["resolution"]
    # remote + complex 60 CD from Tue 23/06: 38 on 31/07, 1..22/08 = 22 -> Sat 22/08 (working, làm bù)
    assert (dl.due_date, dl.amount) == (D(2026, 8, 22), 60)
    assert dl.due_at == datetime(2026, 8, 22, 17, 0, tzinfo=UTC)


def test_extend_on_second_instance_gives_60_days(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 2, 23), at(2026, 2, 25, 10), instance=2)
    # 2nd instance 45 CD from Wed 25/02: 26..28/02 = 3, March 31 (34), 1..11/04 = 11 -> Sat 11/04 -> Mon 13/04
    assert (case.deadlines["resolution"].due_date, case.deadlines["resolution"].amount) == (D(2026, 4, 13), 45)
    case = desk.fire(case, "extend", at(2026, 3, 5), "director", reason="Cần trưng cầu giám định")
    dl = case.deadlines["resolution"]
    # complex 60 CD from Wed 25/02: 34 on 31/03, 1..26/04 = 26 -> Sun 26/04; Mon 27/04 off -> Tue 28/04
    assert (dl.due_date, dl.amount) == (D(2026, 4, 28), 60)
    assert "LKN Điều 37" in dl.legal_basis


# =============================================================== National Day 2026 and the 22/08 swap


def decided_complaint(desk: Desk, decided: datetime, **fields: Any) -> Case:
    """A complaint walked from receipt to `decide` (dialogue at the 2nd instance, LKN Điều 39)."""
    case = accepted_complaint(desk, at(2026, 7, 20), at(2026, 7, 22, 10), **fields)
    case = desk.fire(case, "start_verification", at(2026, 7, 23), "inspector")
    if fields.get("instance") == 2:
        case = desk.fire(case, "schedule_dialogue", at(2026, 8, 3), "inspector")
        # the Director holds a 2nd-instance dialogue personally from 01/07/2026 (NĐ 124 Điều 28 as replaced)
        case = desk.fire(case, "hold_dialogue", at(2026, 8, 10), "director")
    case = desk.fire(case, "draft_decision", at(2026, 8, 12), "inspector")
    return desk.fire(case, "decide", decided, "director" if fields.get("instance") == 2 else "head_of_unit")


def test_send_decision_counts_the_swapped_saturday(desk: Desk) -> None:
    case = decided_complaint(desk, at(2026, 8, 20, 16))
    assert case.deadlines["resolution"].status == "met"
    dl = case.deadlines["send_decision"]
    # 3 WD from Thu 20/08: Fri 21/08, Sat 22/08 (làm bù, working), [Sun 23/08] Mon 24/08
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 8, 24), 3, "working")
    assert dl.due_at == datetime(2026, 8, 24, 17, 0, tzinfo=UTC)
    assert "LKN Điều 32" in dl.legal_basis
    effect = case.deadlines["legal_effect"]
    # 30 CD from Thu 20/08: 21..31/08 = 11, 1..19/09 = 19 -> Sat 19/09 -> Mon 21/09
    assert (effect.due_date, effect.amount) == (D(2026, 9, 21), 30)
    assert "LKN Điều 44" in effect.legal_basis


def test_send_decision_skips_the_national_day_break(desk: Desk) -> None:
    dl = decided_complaint(desk, at(2026, 8, 28, 10)).deadlines["send_decision"]
    # 3 WD from Fri 28/08: 29-30/08 weekend, Mon 31/08 (nghỉ bù), 01-02/09 Quốc khánh | Thu 03/09, Fri 04/09,
    # Mon 07/09
    assert (dl.due_date, dl.amount) == (D(2026, 9, 7), 3)


def test_second_instance_send_decision_is_7_calendar_days(desk: Desk) -> None:
    dl = decided_complaint(desk, at(2026, 8, 25, 10), instance=2).deadlines["send_decision"]
    # 7 CD from Tue 25/08: 26..31/08 = 6, 7th = Tue 01/09 (Quốc khánh); 02/09 off -> Thu 03/09
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 9, 3), 7, "calendar")
    assert "LKN Điều 41" in dl.legal_basis


def test_denunciation_acceptance_across_national_day(desk: Desk) -> None:
    case = desk.open("denunciation", at(2026, 8, 21, 10))
    dl = case.deadlines["acceptance"]
    # 7 WD from Fri 21/08: Sat 22/08 (làm bù) 1, Mon 24..Fri 28/08 2-6, [29/08-02/09 off], Thu 03/09 7
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 9, 3), 7, "working")
    assert dl.due_at == datetime(2026, 9, 3, 17, 0, tzinfo=UTC)
    case = desk.fire(case, "extend_intake", at(2026, 8, 24, 9), "inspector", reason="Xác minh tại nhiều nơi")
    dl = case.deadlines["acceptance"]
    # +3 WD: Fri 04/09 8, Mon 07/09 9, Tue 08/09 10
    assert (dl.due_date, dl.amount, dl.extensions) == (D(2026, 9, 8), 10, 1)


# =============================================================== denunciations


def test_denunciation_acceptance_7_working_days_and_one_extension(desk: Desk) -> None:
    case = desk.open("denunciation", at(2026, 3, 2, 9))
    dl = case.deadlines["acceptance"]
    # 7 WD from Mon 02/03: 3,4,5,6,9,10,11/03
    assert (dl.due_date, dl.amount, dl.unit, dl.extensions) == (D(2026, 3, 11), 7, "working", 0)
    assert "LTC Điều 24" in dl.legal_basis
    case = desk.fire(case, "extend_intake", at(2026, 3, 5, 10), "inspector", reason="Ủy quyền xác minh")
    dl = case.deadlines["acceptance"]
    # 10 WD: ... 11/03 (7), 12/03, 13/03, Mon 16/03
    assert (dl.due_date, dl.amount, dl.extensions, dl.status) == (D(2026, 3, 16), 10, 1, "running")

    version, history, feed = case.version, len(desk.engine.history(case.id)), desk.feed_end()
    desk.clock.set(at(2026, 3, 9, 10))
    with pytest.raises(NotAllowedError) as err:
        desk.engine.fire(case.id, "extend_intake", actor=ACTORS["inspector"], role="inspector",
                         payload={"reason": "Thêm nơi xác minh"})
    assert "extend_intake" in str(err.value)
    after = desk.engine.get(case.id)
    assert after.version == version
    assert len(desk.engine.history(case.id)) == history
    assert desk.feed_end() == feed
    assert (after.deadlines["acceptance"].due_date, after.deadlines["acceptance"].amount) == (D(2026, 3, 16), 10)


def test_denunciation_resolution_30_days_extended_twice_to_90(desk: Desk) -> None:
    case = accepted_denunciation(desk, at(2026, 2, 23), at(2026, 2, 24), at(2026, 3, 2, 10))
    dl = case.deadlines["resolution"]
    # 30 CD from Mon 02/03: 3..31/03 = 29, 01/04 = 30 -> Wed 01/04
    assert (dl.due_date, dl.amount, dl.unit, dl.extensions) == (D(2026, 4, 1), 30, "calendar", 0)
    assert dl.due_at == datetime(2026, 4, 1, 17, 0, tzinfo=UTC)
    assert "LTC Điều 30" in dl.legal_basis

    case = desk.fire(case, "start_verification", at(2026, 3, 3), "inspector")
    cursor = desk.feed_end()
    case = desk.fire(case, "extend", at(2026, 3, 25, 10), "head_of_unit",
                     reason="Vụ việc phức tạp: xác minh nhiều nơi")
    dl = case.deadlines["resolution"]
    # 60 CD: 30 on 01/04, 2..30/04 = 29, 01/05 = 60 -> Fri 01/05 (Labour Day); 2-3/05 weekend -> Mon 04/05
    assert (dl.due_date, dl.amount, dl.extensions) == (D(2026, 5, 4), 60, 1)

    case = desk.fire(case, "extend", at(2026, 4, 20, 10), "director", reason="Vụ việc đặc biệt phức tạp")
    dl = case.deadlines["resolution"]
    # 90 CD: 60 on 01/05, 2..31/05 = 30 -> Sun 31/05 -> Mon 01/06
    assert (dl.due_date, dl.amount, dl.extensions) == (D(2026, 6, 1), 90, 2)
    assert dl.due_at == datetime(2026, 6, 1, 17, 0, tzinfo=UTC)
    assert dl.started_at == at(2026, 3, 2, 10)

    extended = [e for e in desk.engine.events(after=cursor) if e.type == "deadline.extended"]
    assert [(e.case_id, e.data["deadline"], e.data["times"], e.data["amount"], e.data["unit"], e.data["actor"])
            for e in extended] == [
        (case.id, "resolution", 1, 30, "calendar", ACTORS["head_of_unit"]),
        (case.id, "resolution", 2, 30, "calendar", ACTORS["director"]),
    ]
    for e in extended:
        assert "LTC Điều 30" in e.data["legal_basis"]
        assert "NĐ 31/2019" in e.data["legal_basis"]
    feed_text = repr([e.data for e in desk.engine.events(after=0, limit=10_000) if e.case_id == case.id])
    for personal in PETITIONER.values():
        assert personal not in feed_text
    assert "xác minh nhiều nơi" not in feed_text  # the free-text reason stays in the history only


def twice_extended_denunciation(desk: Desk) -> Case:
    case = accepted_denunciation(desk, at(2026, 2, 23), at(2026, 2, 24), at(2026, 3, 2, 10))
    case = desk.fire(case, "extend", at(2026, 3, 25), "head_of_unit", reason="Phức tạp")
    return desk.fire(case, "extend", at(2026, 4, 20), "head_of_unit", reason="Đặc biệt phức tạp")


def test_third_extension_is_refused_and_changes_nothing(desk: Desk) -> None:
    case = twice_extended_denunciation(desk)
    version, history, feed = case.version, len(desk.engine.history(case.id)), desk.feed_end()
    desk.clock.set(at(2026, 5, 20, 10))
    with pytest.raises(NotAllowedError) as err:
        desk.engine.fire(case.id, "extend", actor=ACTORS["director"], role="director",
                         payload={"reason": "Lần ba"})
    assert "'extend'" in str(err.value)
    after = desk.engine.get(case.id)
    assert after.version == version
    assert len(desk.engine.history(case.id)) == history
    assert desk.feed_end() == feed
    dl = after.deadlines["resolution"]
    # unchanged: 90 CD from Mon 02/03 -> Sun 31/05 -> Mon 01/06
    assert (dl.due_date, dl.amount, dl.extensions) == (D(2026, 6, 1), 90, 2)


def test_third_extension_error_names_the_deadline(desk: Desk) -> None:
    """A third extension is refused naming the deadline and its bound, not the guard that encodes it."""
    case = twice_extended_denunciation(desk)
    desk.clock.set(at(2026, 5, 20, 10))
    with pytest.raises(NotAllowedError) as err:
        desk.engine.fire(case.id, "extend", actor=ACTORS["director"], role="director",
                         payload={"reason": "Lần ba"})
    assert "resolution" in str(err.value)


# =============================================================== suspension


def test_complaint_resolution_pauses_while_suspended(desk: Desk) -> None:
    case = accepted_complaint(desk, at(2026, 7, 1), at(2026, 7, 6, 10))
    # 30 CD from Mon 06/07: 7..31/07 = 25, 1..5/08 = 5 -> Wed 05/08
    assert case.deadlines["resolution"].due_date == D(2026, 8, 5)
    case = desk.fire(case, "start_verification", at(2026, 7, 7), "inspector")
    case = desk.fire(case, "suspend", at(2026, 7, 14, 15), "head_of_unit", reason="Hồ sơ bị cơ quan điều tra thu giữ")
    dl = case.deadlines["resolution"]
    assert case.state == "suspended"
    assert (dl.status, dl.due_date, dl.due_at) == ("paused", None, None)
    case = desk.fire(case, "resume", at(2026, 7, 20, 9), "head_of_unit")
    dl = case.deadlines["resolution"]
    assert case.state == "verifying"
    # Tue 14/07 counts (8 days: 7..14/07); 15..20/07 excluded (6 days); 21..31/07 = 11 (19), 1..11/08 = 11 (30)
    # -> Tue 11/08 = 05/08 + 6 days
    assert (dl.status, dl.due_date, dl.amount) == ("running", D(2026, 8, 11), 30)
    assert dl.due_at == datetime(2026, 8, 11, 17, 0, tzinfo=UTC)
    assert desk.engine.get(case.id).deadlines["resolution"].due_date == D(2026, 8, 11)


def test_denunciation_resolution_pauses_while_suspended(desk: Desk) -> None:
    case = accepted_denunciation(desk, at(2026, 2, 23), at(2026, 2, 24), at(2026, 3, 2, 10))
    assert case.deadlines["resolution"].due_date == D(2026, 4, 1)  # 30 CD from Mon 02/03
    case = desk.fire(case, "suspend", at(2026, 3, 4, 16), "head_of_unit", reason="Chờ kết quả giám định")
    assert (case.deadlines["resolution"].status, case.deadlines["resolution"].due_date) == ("paused", None)
    # still paused when read later
    desk.clock.set(at(2026, 3, 10))
    assert desk.engine.get(case.id).deadlines["resolution"].status == "paused"
    case = desk.fire(case, "resume", at(2026, 3, 18, 8), "director")
    dl = case.deadlines["resolution"]
    # 3,4/03 count (2); 5..18/03 excluded (14 days); 19..31/03 = 13 (15), 1..15/04 = 15 (30) -> Wed 15/04
    # = Wed 01/04 + 14 days
    assert (dl.status, dl.due_date) == ("running", D(2026, 4, 15))
    assert case.state == "accepted"


# =============================================================== input validation


def test_naive_received_at_is_refused(desk: Desk) -> None:
    desk.clock.set(at(2026, 3, 2, 10))
    feed = desk.feed_end()
    with pytest.raises(ValidationError) as err:
        desk.engine.open_case("complaint", received_at=datetime(2026, 3, 2, 9, 0), petitioners=[PETITIONER],
                              respondent="UBND phường", subject="Khiếu nại")
    assert err.value.field == "received_at"
    assert "received_at" in str(err.value)
    assert desk.feed_end() == feed


@pytest.mark.parametrize("ahead", [timedelta(hours=1), timedelta(days=1)], ids=["1h", "1d"])
def test_future_received_at_is_refused(desk: Desk, ahead: timedelta) -> None:
    now = at(2026, 3, 2, 10)
    desk.clock.set(now)
    feed = desk.feed_end()
    with pytest.raises(ValidationError) as err:
        desk.engine.open_case("denunciation", received_at=now + ahead, petitioners=[PETITIONER],
                              respondent="Ông B", subject="Tố cáo")
    assert err.value.field == "received_at"
    assert "received_at" in str(err.value)
    assert desk.feed_end() == feed
