"""Complaint rows of DOMAIN.md §1.2, right to the day (issue 10 "Tests that must exist").

LEGAL-AUDIT.md §3.14 found no hand-dated test for K5 and K11, a single post-switch date for K7 (no
second-instance acceptance before 01/07/2026) and no dated test of K10's remote variant. Each test below
drives the shipped complaint.yaml through the engine on a ManualClock; every expected date is counted by
hand in its comment, never computed with the code under test.

Counting (BLDS Điều 147-148): the trigger day is not counted; working days (WD) skip weekends and days off;
a calendar-day (CD) period ending on a day off runs to the end of the next working day. Days off used: Tết
2026 14-22/02 (with the weekends); Giỗ Tổ 2026 Sun 26/04, observed Mon 27/04; 30/04-01/05 (2026: Thu-Fri;
2025: Wed-Thu, with Fri 02/05/2025 off in exchange for Sat 26/04/2025, a working day); 2026: Mon 31/08 off in
exchange for Sat 22/08 (a working day), 01-02/09.

K5's second trigger (the resolution time expired without a decision, LKN Điều 33 k1) is dated in
test_legal_complaints_windows.py, its remote variant in test_legal_rights.py (H8); K6 (the court's time
limit) is not a Sở's duty.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import Case
from tests.legal_desk import D, KindDesk, at


class Desk(KindDesk):
    """Complaints against RESPONDENT."""

    kind = "complaint"

    def state(self, case: Case) -> str:
        """The state ``case`` is now in."""
        return self.get(case).state


@pytest.fixture
def desk() -> Desk:
    return Desk(at(2025, 1, 6))


def first_decision(desk: Desk, decided: datetime, *, accepted: datetime, **fields: Any) -> Case:
    """A first-instance complaint walked from receipt to `decide` without a dialogue (LKN Điều 30 k1)."""
    case = desk.open(accepted, **fields)
    case = desk.fire(case, "accept", accepted, "inspector")
    case = desk.fire(case, "start_verification", accepted, "inspector")
    case = desk.fire(case, "draft_decision", decided, "inspector")
    return desk.fire(case, "decide", decided, "head_of_unit")


def second_decision(desk: Desk, decided: datetime, *, accepted: datetime, dialogue: datetime,
                    **fields: Any) -> Case:
    """A second-instance complaint: the dialogue is mandatory (LKN Điều 39), the Director holds it and decides."""
    case = desk.open(accepted, instance=2, parent_case_id="KN-lan-dau", **fields)
    case = desk.fire(case, "accept", accepted, "inspector")
    case = desk.fire(case, "start_verification", accepted, "inspector")
    case = desk.fire(case, "schedule_dialogue", accepted, "inspector", dialogue_date=dialogue.date().isoformat())
    case = desk.fire(case, "send_invitation", accepted, "clerk")
    case = desk.fire(case, "hold_dialogue", dialogue, "director")
    case = desk.fire(case, "draft_decision", dialogue, "inspector")
    return desk.fire(case, "decide", decided, "director")


# =============================================================== K5: 30 CD window for the 2nd complaint


def delivered_in_january(desk: Desk) -> Case:
    """Decided Mon 12/01/2026, sent Tue 13/01, received by the complainant Thu 15/01."""
    case = first_decision(desk, at(2026, 1, 12, 10), accepted=at(2025, 12, 15, 10))
    case = desk.fire(case, "send_decision", at(2026, 1, 13, 10), "clerk")
    return desk.fire(case, "confirm_delivery", at(2026, 1, 15, 10), "clerk")


def test_k5_window_30_days_from_receipt_of_the_decision_rolls_past_tet(desk: Desk) -> None:
    case = delivered_in_january(desk)
    # Thu 15/01: 16..31/01 = 16, 01..14/02 = 14 -> Sat 14/02; 14-22/02 off (Tết) -> Mon 23/02
    dl = case.deadlines["appeal_window"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (D(2026, 2, 23), 30, "calendar", "running")
    assert "LKN Điều 33 k1" in dl.legal_basis


def test_k5_second_complaint_on_the_last_day_is_received(desk: Desk) -> None:
    case = delivered_in_january(desk)
    desk.tick(at(2026, 2, 12, 8))  # legal effect (K10) ended with Wed 11/02: the case is legally effective
    assert desk.state(case) == "legally_effective"
    case = desk.fire(case, "appeal", at(2026, 2, 23, 16), "clerk")  # Mon 23/02, the window's last day
    assert case.state == "escalated_second_instance"
    assert case.deadlines["appeal_window"].status == "met"


def test_k5_second_complaint_the_day_after_the_window_is_refused(desk: Desk) -> None:
    case = delivered_in_january(desk)
    desk.tick(at(2026, 2, 12, 8))
    assert desk.refused(case, "appeal", at(2026, 2, 24, 8), "clerk") == "guard"  # Tue 24/02
    assert desk.state(case) == "legally_effective"


def test_k5_window_over_the_2025_holidays(desk: Desk) -> None:
    case = first_decision(desk, at(2025, 3, 27, 10), accepted=at(2025, 3, 3, 10))
    case = desk.fire(case, "send_decision", at(2025, 3, 28, 10), "clerk")
    case = desk.fire(case, "confirm_delivery", at(2025, 3, 31, 10), "clerk")
    # Mon 31/03/2025: 01..30/04 = 30 -> Wed 30/04 off; Thu 01/05, Fri 02/05 (swap) off, weekend -> Mon 05/05
    assert case.deadlines["appeal_window"].due_date == D(2025, 5, 5)


# =============================================================== K7: 2nd-instance acceptance, both sides of 01/07/2026


@pytest.mark.parametrize(
    ("received", "due", "amount"),
    [
        # Thu 12/02/2026: Fri 13 = 1 | 14-22/02 Tết | Mon 23 .. Fri 27 = 2..6 | Mon 02/03 .. Thu 05/03 = 7..10
        (at(2026, 2, 12, 10), D(2026, 3, 5), 10),
        # Thu 23/04/2026: Fri 24 = 1 | Sat 25, Sun 26, Mon 27 (Giỗ Tổ observed) | Tue 28 = 2, Wed 29 = 3 |
        # 30/04, 01/05, weekend | Mon 04 .. Fri 08 = 4..8 | Mon 11 = 9, Tue 12/05 = 10
        (at(2026, 4, 23, 10), D(2026, 5, 12), 10),
        # Thu 24/04/2025: Fri 25 = 1, Sat 26 (worked) = 2, Mon 28 = 3, Tue 29 = 4 | 30/04-02/05, weekend |
        # Mon 05 .. Fri 09 = 5..9 | Mon 12/05 = 10
        (at(2025, 4, 24, 10), D(2025, 5, 12), 10),
        # Tue 30/06/2026, 23:30 local (still received before 01/07): Wed 01 .. Fri 03/07 = 1..3 |
        # Mon 06 .. Fri 10 = 4..8 | Mon 13 = 9, Tue 14/07 = 10
        (at(2026, 6, 30, 23, 30), D(2026, 7, 14), 10),
        # Wed 01/07/2026 (NĐ 155/2026): Thu 02, Fri 03 = 1, 2 | Mon 06 .. Fri 10/07 = 3..7
        (at(2026, 7, 1, 0, 30), D(2026, 7, 10), 7),
        # Thu 20/08/2026: Fri 21 = 1, Sat 22 (worked) = 2, Mon 24 .. Fri 28/08 = 3..7
        (at(2026, 8, 20, 10), D(2026, 8, 28), 7),
        # Thu 27/08/2026: Fri 28 = 1 | weekend, Mon 31/08 (swap), 01-02/09 | Thu 03 = 2, Fri 04 = 3 |
        # Mon 07 .. Thu 10/09 = 4..7
        (at(2026, 8, 27, 10), D(2026, 9, 10), 7),
    ],
    ids=["pre-tet", "pre-gio-to-30-04", "pre-swap-2025", "pre-30-06-late", "post-01-07", "post-saturday-22-08",
         "post-national-day"],
)
def test_k7_second_instance_acceptance(desk: Desk, received: datetime, due: date, amount: int) -> None:
    dl = desk.open(received, instance=2, parent_case_id="KN-lan-dau").deadlines["acceptance"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, amount, "working", "running")
    assert ("NĐ 155/2026 Điều 10" in dl.legal_basis) == (amount == 7)


def test_k7_accepted_after_the_last_day_is_missed(desk: Desk) -> None:
    case = desk.open(at(2026, 8, 27, 10), instance=2, parent_case_id="KN-lan-dau")
    desk.tick(at(2026, 9, 11, 8))  # the end of Thu 10/09 (counted above) has passed
    assert desk.engine.get(case.id).deadlines["acceptance"].status == "missed"


# =============================================================== K10: 1st decision legally effective


def test_k10_remote_45_days_from_issuance_over_national_day(desk: Desk) -> None:
    case = first_decision(desk, at(2026, 7, 17, 10), accepted=at(2026, 7, 1, 10), remote_area=True)
    # Fri 17/07: 18..31/07 = 14, 01..31/08 = 31 -> Mon 31/08 (swap) off, 01-02/09 off -> Thu 03/09
    dl = case.deadlines["legal_effect"]
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 9, 3), 45, "calendar")
    assert "LKN Điều 44" in dl.legal_basis
    desk.tick(at(2026, 9, 3, 20))  # the last day: not yet effective
    assert desk.state(case) == "decided"
    desk.tick(at(2026, 9, 4, 8))
    assert desk.state(case) == "legally_effective"


def test_k10_30_days_from_issuance_over_tet(desk: Desk) -> None:
    case = first_decision(desk, at(2026, 1, 15, 10), accepted=at(2025, 12, 22, 10))
    # Thu 15/01: 16..31/01 = 16, 01..14/02 = 14 -> Sat 14/02; 14-22/02 off (Tết) -> Mon 23/02
    dl = case.deadlines["legal_effect"]
    assert (dl.due_date, dl.amount) == (D(2026, 2, 23), 30)
    desk.tick(at(2026, 2, 21, 9))  # Sat 21/02, inside Tết
    assert desk.state(case) == "decided"
    desk.tick(at(2026, 2, 24, 8))
    assert desk.state(case) == "legally_effective"


# =============================================================== K11: 2nd decision legally effective


@pytest.mark.parametrize(
    ("accepted", "dialogue", "decided", "remote", "due", "amount"),
    [
        # decided Thu 15/01/2026: 16..31/01 = 16, 01..14/02 = 14 -> Sat 14/02; Tết 14-22/02 -> Mon 23/02
        (at(2025, 12, 22), at(2026, 1, 13), at(2026, 1, 15, 10), False, D(2026, 2, 23), 30),
        # decided Mon 03/08/2026: 04..31/08 = 28, 01..02/09 = 2 -> Wed 02/09 (Quốc khánh) -> Thu 03/09
        (at(2026, 7, 6), at(2026, 7, 28), at(2026, 8, 3, 10), False, D(2026, 9, 3), 30),
        # remote, decided Mon 16/03/2026: 17..31/03 = 15, 01..30/04 = 30 -> Thu 30/04, Fri 01/05 off,
        # weekend -> Mon 04/05
        (at(2026, 2, 23), at(2026, 3, 10), at(2026, 3, 16, 10), True, D(2026, 5, 4), 45),
    ],
    ids=["tet", "national-day", "remote-30-04"],
)
def test_k11_second_decision_legally_effective(desk: Desk, accepted: datetime, dialogue: datetime,
                                               decided: datetime, remote: bool, due: date, amount: int) -> None:
    case = second_decision(desk, decided, accepted=accepted, dialogue=dialogue, remote_area=remote)
    dl = case.deadlines["legal_effect"]
    assert (dl.due_date, dl.amount, dl.unit) == (due, amount, "calendar")
    assert "LKN Điều 44" in dl.legal_basis
    assert "appeal_window" not in case.deadlines  # no third instance: the next step is the court
    desk.tick(datetime.combine(due, decided.timetz()).replace(hour=20))
    assert desk.state(case) == "decided"
    desk.tick(datetime.combine(due, decided.timetz()).replace(hour=23, minute=59, second=59))
    assert desk.state(case) == "decided"
    desk.tick(at(due.year, due.month, due.day + 1, 8))
    assert desk.state(case) == "legally_effective"
