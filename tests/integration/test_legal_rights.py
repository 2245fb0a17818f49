"""Citizens' rights and effective dates in the shipped workflows (issue 10 items 1-2; LEGAL-AUDIT.md §2).

Each test is a finding of the legal audit that failed on the workflows before the fix (H8, M1, B3,
B4, H3b, the takeover of NĐ 31/2019 Điều 5, the Director's dialogue and the crowded complaint of
NĐ 155/2026), driven through the engine with the daemon's tick on a ManualClock. Every expected
date is counted by hand (BLDS Điều 147-148: the trigger day is not counted; a period in calendar
days (CD) ending on a day off runs to the end of the next working day; working days (WD) skip days
off) and written out with its count.

2026 days off used: Tết 14-22/02 (with the weekends); Giỗ Tổ observed Mon 27/04; 30/04, 01/05;
Mon 31/08 (swapped with Saturday 22/08, a working day), 01-02/09.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import Case
from tests.legal_desk import REASON, D, Desk, at, decided_complaint


@pytest.fixture
def desk() -> Desk:
    return Desk()


# =============================================================== H8: legal effect vs the second-complaint window


def delivered_remote_complaint(desk: Desk) -> Case:
    """Remote area, decided Mon 13/07/2026, sent Tue 14/07, received by the complainant Fri 17/07."""
    case = decided_complaint(desk, at(2026, 7, 13, 10), accepted=at(2026, 7, 1, 10), remote_area=True)
    case = desk.fire(case, "send_decision", at(2026, 7, 14, 10), "clerk")
    return desk.fire(case, "confirm_delivery", at(2026, 7, 17, 10), "clerk")


def test_h8_dates_of_legal_effect_and_of_the_window(desk: Desk) -> None:
    case = delivered_remote_complaint(desk)
    # legal effect, remote 45 CD from the issuance, Mon 13/07: 14..31/07 = 18, 1..27/08 = 27 -> Thu 27/08
    assert (case.deadlines["legal_effect"].due_date, case.deadlines["legal_effect"].amount) == (D(2026, 8, 27), 45)
    # window, remote 45 CD from the receipt, Fri 17/07: 18..31/07 = 14, 1..31/08 = 31 -> Mon 31/08 (nghỉ bù);
    # 01/09, 02/09 (Quốc khánh) off -> Thu 03/09
    window = case.deadlines["appeal_window"]
    assert (window.due_date, window.amount, window.status) == (D(2026, 9, 3), 45, "running")
    assert "LKN Điều 33 k1" in window.legal_basis


def test_h8_a_second_complaint_is_receivable_after_the_legal_effect_date(desk: Desk) -> None:
    """LKN Điều 44 k1: effective 'mà người khiếu nại không khiếu nại lần hai'; 28/08-03/09 are not lost."""
    case = delivered_remote_complaint(desk)
    desk.tick(at(2026, 8, 28, 8))  # the legal-effect timer fired at the end of Thu 27/08
    case = desk.engine.get(case.id)
    assert case.state == "legally_effective"
    assert case.deadlines["appeal_window"].status == "running"  # not closed by become_effective
    case = desk.fire(case, "appeal", at(2026, 9, 3, 16), "clerk")  # the window's last day
    assert case.state == "escalated_second_instance"
    assert case.deadlines["appeal_window"].status == "met"


def test_h8_the_day_after_the_window_the_second_complaint_is_refused(desk: Desk) -> None:
    case = delivered_remote_complaint(desk)
    desk.tick(at(2026, 8, 28, 8))
    # Fri 04/09: the window ended with Thu 03/09 (even before a tick has marked it)
    assert desk.refused(case, "appeal", at(2026, 9, 4, 8), "clerk") == "guard"
    assert desk.engine.get(case.id).state == "legally_effective"


# =============================================================== M1: no decision in time


def test_m1_overdue_first_instance_opens_the_second_complaint(desk: Desk) -> None:
    case = desk.open("complaint", at(2026, 1, 12))
    case = desk.fire(case, "accept", at(2026, 1, 15, 10), "inspector")
    case = desk.fire(case, "start_verification", at(2026, 1, 16), "inspector")
    # 30 CD from Thu 15/01: 16..31/01 = 16, 1..14/02 = 14 -> Sat 14/02; 14-22/02 off (Tết) -> Mon 23/02
    assert case.deadlines["resolution"].due_date == D(2026, 2, 23)
    desk.tick(at(2026, 2, 21, 9))  # Sat 21/02, inside Tết: the time has not expired
    assert desk.refused(case, "appeal", at(2026, 2, 21, 9), "clerk") == "guard"
    assert desk.refused(case, "sue", at(2026, 2, 21, 9), "clerk") == "guard"
    desk.tick(at(2026, 2, 24, 8))  # the end of Mon 23/02 has passed: missed
    assert desk.engine.get(case.id).deadlines["resolution"].status == "missed"
    case = desk.fire(case, "appeal", at(2026, 2, 24, 10), "clerk")  # LKN Điều 33 k1
    assert case.state == "escalated_second_instance"
    assert case.deadlines["resolution"].status == "missed"  # the appeal does not make it met


def test_m1_the_right_opens_the_day_after_the_last_day_even_before_a_tick(desk: Desk) -> None:
    case = desk.open("complaint", at(2026, 1, 12))
    case = desk.fire(case, "accept", at(2026, 1, 15, 10), "inspector")
    # due Mon 23/02 (30 CD from Thu 15/01, rolled past Tết): on that day the office still has time
    assert desk.refused(case, "appeal", at(2026, 2, 23, 16), "clerk") == "guard"
    assert desk.fire(case, "sue", at(2026, 2, 24, 8), "clerk").state == "in_court"  # no tick has run


def test_m1_a_suspended_resolution_has_not_expired(desk: Desk) -> None:
    case = desk.open("complaint", at(2026, 7, 1))
    case = desk.fire(case, "accept", at(2026, 7, 6, 10), "inspector")
    # 30 CD from Mon 06/07: 7..31/07 = 25, 1..5/08 = 5 -> Wed 05/08; suspended on Mon 03/08 (LKN Điều 11a)
    case = desk.fire(case, "suspend", at(2026, 8, 3, 10), "head_of_unit", **REASON)
    assert case.deadlines["resolution"].status == "paused"
    assert desk.refused(case, "appeal", at(2026, 8, 10), "clerk") == "state"  # not from `suspended`
    case = desk.fire(case, "resume", at(2026, 8, 10, 9), "head_of_unit")
    # 7..03/08 = 28 counted; 04..10/08 excluded; 11, 12/08 -> Wed 12/08
    assert case.deadlines["resolution"].due_date == D(2026, 8, 12)
    assert desk.refused(case, "appeal", at(2026, 8, 12, 16), "clerk") == "guard"
    assert desk.fire(case, "appeal", at(2026, 8, 13, 9), "clerk").state == "escalated_second_instance"


def test_m1_overdue_second_instance_may_go_to_court_not_to_a_third_instance(desk: Desk) -> None:
    case = desk.open("complaint", at(2026, 3, 2), instance=2)
    case = desk.fire(case, "accept", at(2026, 3, 2, 10), "inspector")
    # 2nd instance 45 CD from Mon 02/03: 3..31/03 = 29, 1..16/04 = 16 -> Thu 16/04
    assert case.deadlines["resolution"].due_date == D(2026, 4, 16)
    desk.tick(at(2026, 4, 17, 8))
    assert desk.refused(case, "appeal", at(2026, 4, 17, 9), "clerk") == "guard"
    case = desk.fire(case, "sue", at(2026, 4, 17, 9), "clerk")  # LKN Điều 42 k1
    assert case.state == "in_court"


# =============================================================== B4: suspension and termination from 01/07/2026


def test_b4_no_suspension_or_termination_of_a_complaint_before_1_july_2026(desk: Desk) -> None:
    """LKN Điều 11a (Luật 136/2025); NĐ 124 Điều 28a-28b (NĐ 155/2026): the day of the decision governs."""
    case = desk.open("complaint", at(2026, 3, 2))
    case = desk.fire(case, "accept", at(2026, 3, 2, 10), "inspector")
    refusal = desk.refusal(case, "suspend", at(2026, 3, 10), "head_of_unit", **REASON)
    assert (refusal.why, refusal.state, refusal.event) == ("guard", "accepted", "suspend")
    # the user reads the state, the event and the failed condition, and what may be done instead
    assert str(refusal).startswith(f"event 'suspend' is not allowed on case {case.id} in state 'accepted': "
                                   "its condition is false: now >= date('2026-07-01') (allowed here: ")
    assert "withdraw" in refusal.allowed and "suspend" not in refusal.allowed
    assert desk.refused(case, "terminate", at(2026, 6, 30, 16), "director", **REASON) == "guard"
    assert desk.engine.get(case.id).deadlines["resolution"].status == "running"  # no pause
    assert desk.fire(case, "withdraw", at(2026, 6, 30, 16), "clerk").state == "terminated"  # LKN Điều 10


def test_b4_a_complaint_accepted_before_1_july_may_be_suspended_after_it(desk: Desk) -> None:
    """NĐ 155/2026 Điều 22 k1: accepted before 01/07/2026, not yet decided: the new decree's suspension."""
    case = desk.open("complaint", at(2026, 6, 15))
    case = desk.fire(case, "accept", at(2026, 6, 22, 10), "inspector")
    # 30 CD from Mon 22/06: 23..30/06 = 8, 1..22/07 = 22 -> Wed 22/07
    assert case.deadlines["resolution"].due_date == D(2026, 7, 22)
    case = desk.fire(case, "suspend", at(2026, 7, 1, 9), "head_of_unit", **REASON)  # Wed 01/07, the first day
    assert (case.state, case.deadlines["resolution"].status) == ("suspended", "paused")
    case = desk.fire(case, "resume", at(2026, 7, 8, 9), "head_of_unit")
    # 23/06..01/07 = 9 counted; 02..08/07 excluded (7); 09..29/07 = 21 (30) -> Wed 29/07 = 22/07 + 7
    assert case.deadlines["resolution"].due_date == D(2026, 7, 29)
    assert desk.fire(case, "terminate", at(2026, 7, 9, 9), "director", **REASON).state == "terminated"


# =============================================================== the Director's dialogue, the crowded complaint


def dialogue_scheduled(desk: Desk, accepted: datetime) -> Case:
    case = desk.open("complaint", accepted, instance=2)
    case = desk.fire(case, "accept", accepted, "inspector")
    case = desk.fire(case, "start_verification", accepted, "inspector")
    return desk.fire(case, "schedule_dialogue", accepted, "inspector")


def test_second_instance_dialogue_held_by_the_director_from_1_july_2026(desk: Desk) -> None:
    """NĐ 124 Điều 28 as replaced by NĐ 155/2026: the day of the dialogue governs (NĐ 155 Điều 22 k1)."""
    before = dialogue_scheduled(desk, at(2026, 6, 16))
    assert desk.fire(before, "hold_dialogue", at(2026, 6, 30, 15), "inspector").state == "dialogue_held"
    after = dialogue_scheduled(desk, at(2026, 6, 16))  # accepted before 01/07, dialogue after it
    assert desk.refused(after, "hold_dialogue", at(2026, 7, 2, 9), "inspector") == "guard"
    assert desk.refused(after, "hold_dialogue", at(2026, 7, 2, 9), "head_of_unit") == "guard"
    assert desk.fire(after, "hold_dialogue", at(2026, 7, 2, 9), "director").state == "dialogue_held"
    first = desk.open("complaint", at(2026, 7, 2))
    first = desk.fire(first, "accept", at(2026, 7, 2), "inspector")
    first = desk.fire(first, "start_verification", at(2026, 7, 2), "inspector")
    first = desk.fire(first, "schedule_dialogue", at(2026, 7, 3), "inspector")
    assert desk.fire(first, "hold_dialogue", at(2026, 7, 6), "inspector").state == "dialogue_held"


def test_crowded_complaint_received_from_1_july_2026_needs_its_representatives(desk: Desk) -> None:
    """NĐ 124 Điều 16 k1 as amended by NĐ 155/2026 Điều 10; the local date of receipt governs."""
    crowded = desk.open("complaint", at(2026, 7, 1, 0, 30), people=5)  # 00:30 local: 30/06 in UTC
    assert desk.refused(crowded, "accept", at(2026, 7, 2), "inspector") == "guard"
    crowded = desk.fire(crowded, "appoint_representatives", at(2026, 7, 2), "clerk")
    assert crowded.fields["representatives_appointed"] is True
    assert desk.fire(crowded, "accept", at(2026, 7, 2), "inspector").state == "accepted"
    old = desk.open("complaint", at(2026, 6, 30, 23, 30), people=5)  # before NĐ 155: the officer's check
    assert desk.fire(old, "accept", at(2026, 7, 2), "inspector").state == "accepted"
    four = desk.open("complaint", at(2026, 7, 1, 10), people=4)  # not crowded
    assert desk.fire(four, "accept", at(2026, 7, 2), "inspector").state == "accepted"
    assert desk.refused(four, "appoint_representatives", at(2026, 7, 2), "clerk") == "state"


# =============================================================== H3b: reception refusal notice


def test_h3b_no_refusal_notice_deadline_before_1_july_2026(desk: Desk) -> None:
    case = desk.open("reception", at(2026, 4, 29, 9))
    case = desk.fire(case, "refuse_persistent", at(2026, 4, 29, 10), "clerk", **REASON)
    assert case.state == "refusal_notice_pending"
    assert "refusal_notice" not in case.deadlines  # NĐ 64/2014 had no day count (was 3 WD -> 06/05)


@pytest.mark.parametrize(
    ("refused", "due"),
    [
        # Wed 01/07 (NĐ 154/2026 in force): 3 WD -> Thu 02/07, Fri 03/07, Mon 06/07
        (at(2026, 7, 1, 10), D(2026, 7, 6)),
        # Fri 28/08: 29-30/08 weekend, 31/08 nghỉ bù, 01-02/09 off | Thu 03/09, Fri 04/09, Mon 07/09
        (at(2026, 8, 28, 15), D(2026, 9, 7)),
    ],
    ids=["01-07", "before-national-day"],
)
def test_h3b_refusal_notice_3_working_days_from_1_july_2026(desk: Desk, refused: datetime, due: date) -> None:
    case = desk.open("reception", refused)
    dl = desk.fire(case, "refuse_persistent", refused, "clerk", **REASON).deadlines["refusal_notice"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 3, "working", "running")
    assert "NĐ 154/2026 Điều 4 k3" in dl.legal_basis


# =============================================================== B3 and NĐ 31 Điều 5: denunciation clocks again


def concluded_denunciation(desk: Desk) -> Case:
    case = desk.open("denunciation", at(2026, 2, 23))
    case = desk.fire(case, "start_check", at(2026, 2, 24), "clerk")
    case = desk.fire(case, "accept", at(2026, 3, 2, 10), "inspector")
    case = desk.fire(case, "notify_parties", at(2026, 3, 3), "clerk")
    case = desk.fire(case, "start_verification", at(2026, 3, 3), "inspector")
    case = desk.fire(case, "extend", at(2026, 3, 20), "head_of_unit", **REASON)
    case = desk.fire(case, "conclude", at(2026, 3, 20, 15), "director")
    case = desk.fire(case, "send_conclusion", at(2026, 3, 20, 16), "clerk")
    return desk.fire(case, "act", at(2026, 3, 23), "director")


def test_b3_re_resolution_runs_the_chapters_time_limits_again(desk: Desk) -> None:
    case = concluded_denunciation(desk)
    case = desk.fire(case, "receive_further_denunciation", at(2026, 3, 24), "clerk")
    case = desk.fire(case, "re_resolve", at(2026, 4, 1, 10), "director", **REASON)  # LTC Điều 37 k2 c
    dl = case.deadlines["resolution"]
    # 30 CD from Wed 01/04: 2..30/04 = 29, 01/05 = 30 -> Fri 01/05 (Labour Day); 2-3/05 weekend -> Mon 04/05
    assert (case.state, dl.status, dl.due_date, dl.amount, dl.extensions) == (
        "verifying", "running", D(2026, 5, 4), 30, 0)
    case = desk.fire(case, "extend", at(2026, 4, 20), "head_of_unit", **REASON)  # a new round may be extended
    # 60 CD: 30 on 01/05, 2..31/05 = 30 -> Sun 31/05 -> Mon 01/06
    assert (case.deadlines["resolution"].due_date, case.deadlines["resolution"].amount) == (D(2026, 6, 1), 60)
    case = desk.fire(case, "conclude", at(2026, 5, 4, 10), "director")
    assert case.deadlines["resolution"].status == "met"
    case = desk.fire(case, "send_conclusion", at(2026, 5, 5), "clerk")  # sent again for the new conclusion
    assert case.deadlines["send_conclusion"].status == "met"


def test_a_superior_taking_over_an_overdue_denunciation_restarts_the_clock(desk: Desk) -> None:
    case = desk.open("denunciation", at(2026, 2, 23))
    case = desk.fire(case, "start_check", at(2026, 2, 24), "clerk")
    case = desk.fire(case, "accept", at(2026, 3, 2, 10), "inspector")
    case = desk.fire(case, "start_verification", at(2026, 3, 3), "inspector")
    # 30 CD from Mon 02/03: 3..31/03 = 29, 01/04 = 30 -> Wed 01/04
    assert case.deadlines["resolution"].due_date == D(2026, 4, 1)
    desk.tick(at(2026, 4, 2, 8))
    assert desk.engine.get(case.id).deadlines["resolution"].status == "missed"
    case = desk.fire(case, "take_over", at(2026, 4, 6, 10), "director", **REASON)  # NĐ 31/2019 Điều 5
    dl = case.deadlines["resolution"]
    # 30 CD from the superior's acceptance, Mon 06/04: 7..30/04 = 24, 1..6/05 = 6 -> Wed 06/05
    assert (case.state, dl.status, dl.due_date, dl.amount) == ("accepted", "running", D(2026, 5, 6), 30)
    assert dl.started_at == at(2026, 4, 6, 10)


# =============================================================== M3: denunciation letters at the letter stage


@pytest.mark.parametrize(
    ("fields", "received", "due", "amount", "article"),
    [
        # a complaint letter keeps the letter's 10 WD from Mon 02/03: 3..6/03 (4), 9..13/03 (9), Mon 16/03
        ({"content_type": "complaint"}, at(2026, 3, 2), D(2026, 3, 16), 10, "Xử lý đơn"),
        # denunciation, 7 WD from Wed 11/02: 12, 13/02 | Tết 14-22/02 | 23, 24, 25, 26, 27/02 -> Fri 27/02
        ({"content_type": "denunciation"}, at(2026, 2, 11), D(2026, 2, 27), 7, "LTC Điều 24 k1"),
        # not competent, 5 WD from Wed 11/02: 12, 13/02 | Tết | 23, 24, 25/02 -> Wed 25/02
        ({"content_type": "denunciation", "out_of_jurisdiction": True}, at(2026, 2, 11), D(2026, 2, 25), 5,
         "LTC Điều 24 k2"),
    ],
    ids=["complaint-10", "denunciation-7-tet", "not-competent-5-tet"],
)
def test_m3_letter_processing_keeps_ltc_article_24(desk: Desk, fields: dict[str, Any], received: datetime,
                                                   due: date, amount: int, article: str) -> None:
    dl = desk.open("letter", received, **fields).deadlines["process"]
    assert (dl.due_date, dl.amount, dl.unit) == (due, amount, "working")
    assert article in dl.legal_basis


def test_m3_a_denunciation_letter_transferred_8_working_days_after_receipt_is_late(desk: Desk) -> None:
    case = desk.open("letter", at(2026, 3, 2))
    case = desk.fire(case, "classify_content", at(2026, 3, 3), "clerk", content_type="denunciation")
    # re-counted from the receipt, Mon 02/03: 7 WD -> 3, 4, 5, 6, 9, 10, 11/03 -> Wed 11/03
    assert (case.deadlines["process"].due_date, case.deadlines["process"].amount) == (D(2026, 3, 11), 7)
    case = desk.fire(case, "find_out_of_jurisdiction", at(2026, 3, 4), "inspector")
    # 5 WD -> 3, 4, 5, 6, 9/03 -> Mon 09/03
    assert (case.deadlines["process"].due_date, case.deadlines["process"].amount) == (D(2026, 3, 9), 5)
    case = desk.fire(case, "classify", at(2026, 3, 4), "clerk")
    desk.tick(at(2026, 3, 12, 8))  # Thu 12/03, the 8th working day
    case = desk.fire(case, "transfer", at(2026, 3, 12, 9), "clerk", to_body="Thanh tra tỉnh")
    assert (case.state, case.deadlines["process"].status) == ("transferred", "missed")
