"""Letter handling and reception rows of DOMAIN.md §1.1, right to the day (issue 10 "Tests that must exist").

LEGAL-AUDIT.md §3.14 found no hand-dated test for L1, L2, L4 (= T2), L7 and L13. Each test below drives
the shipped workflows (letter.yaml, reception.yaml, denunciation.yaml) through the engine on a ManualClock
and reads the clock the user sees; every expected date is counted by hand in its comment, never computed.

Counting (BLDS Điều 147-148): the trigger day is not counted; working days (WD) skip weekends and days off;
a calendar period (CD, month, year) ending on a day off runs to the end of the next working day; "01 năm"
ends on the same day and month of the next year. Days off used: Tết 2026 14-22/02 (with the weekends);
Giỗ Tổ 2026 on Sun 26/04, observed Mon 27/04; 30/04-01/05 (2026: Thu-Fri; 2025: Wed-Thu, with Fri 02/05/2025
off in exchange for Sat 26/04/2025, a working day); 2026: Mon 31/08 off in exchange for Sat 22/08 (a working
day), 01-02/09.

Rows not here: L3 (= T1) has dated tests (tests/unit/test_legal_deadlines.py); L5 and L6 are dated with
their features (test_legal_denunciations_notices.py, test_legal_complaints_notices.py). L12 (the schedule
posted 5 WD before a head's reception day) and L8 (the Sở head's reception day each month) are not in the
shipped workflows: a reception day is no case (the count-back is shown on a test schema,
tests/unit/schema_workflows/head_receptions.yaml). L9 and L11 are not a Sở's duty; L10 is historical
(district level abolished 01/07/2025).
L2's unit is uncertain (DOMAIN L2, Q4): the tests pin the workflow's working-day reading; under a
calendar-day reading the letter of Thu 12/02/2026 would be due Mon 23/02, not Thu 05/03.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import Case
from tests.legal_desk import REASON, BaseDesk, D, at


class Desk(BaseDesk):
    """Letters and receptions from one petitioner; a reception names its channel."""

    def open(self, kind: str, received: datetime, channel: str = "post", **fields: Any) -> Case:
        """Open a ``kind`` case received at ``received`` by ``channel``, with ``fields``."""
        return self.open_case(kind, received, channel=channel, fields=fields)


@pytest.fixture
def desk() -> Desk:
    return Desk(at(2025, 1, 6))


# =============================================================== L1: reply to the visitor, 10 WD (LTCD Điều 28 k1)


@pytest.mark.parametrize(
    ("visit", "due"),
    [
        # Wed 15/04/2026: Thu 16, Fri 17, Mon 20, Tue 21, Wed 22, Thu 23, Fri 24 = 7 | Sat 25, Sun 26, Mon 27
        # (Giỗ Tổ observed) off | Tue 28 = 8, Wed 29 = 9 | 30/04, 01/05 off, weekend | Mon 04/05 = 10
        (at(2026, 4, 15, 9), D(2026, 5, 4)),
        # Thu 12/02/2026: Fri 13 = 1 | 14-22/02 Tết | Mon 23 .. Fri 27 = 2..6 | Mon 02/03 .. Thu 05/03 = 7..10
        (at(2026, 2, 12, 14), D(2026, 3, 5)),
    ],
    ids=["gio-to-and-30-04", "tet"],
)
def test_l1_reply_to_the_visitor_in_10_working_days(desk: Desk, visit: datetime, due: date) -> None:
    case = desk.open("reception", visit, channel="reception")
    dl = case.deadlines["reply"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 10, "working", "running")
    assert "LTCD Điều 28 k1" in dl.legal_basis
    # the letter taken at the visit carries the same 10 WD from the same day of receipt
    letter = desk.open("letter", visit, channel="reception")
    dl = letter.deadlines["reply_visitor"]
    assert (dl.due_date, dl.amount, dl.unit) == (due, 10, "working")
    assert "LTCD Điều 28 k1" in dl.legal_basis


def test_l1_the_visitor_answered_on_the_last_day_is_in_time(desk: Desk) -> None:
    letter = desk.open("letter", at(2026, 4, 15, 9), channel="reception")
    letter = desk.fire(letter, "classify", at(2026, 4, 16), "clerk")
    desk.tick(at(2026, 5, 2, 9))  # Sat 02/05: due Mon 04/05 (counted above), nothing missed yet
    assert desk.engine.get(letter.id).deadlines["reply_visitor"].status == "running"
    letter = desk.fire(letter, "guide", at(2026, 5, 4, 16), "clerk")
    assert letter.deadlines["reply_visitor"].status == "met"


def test_l1_a_letter_by_post_has_no_visitor_to_reply_to(desk: Desk) -> None:
    letter = desk.open("letter", at(2026, 4, 15, 9), channel="post")
    assert "reply_visitor" not in letter.deadlines


# =============================================================== L2: letter processing, 10 (WD assumed)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Thu 12/02/2026: Fri 13 = 1 | 14-22/02 Tết | Mon 23 .. Fri 27 = 2..6 | Mon 02/03 .. Thu 05/03 = 7..10
        (at(2026, 2, 12, 10), D(2026, 3, 5)),
        # Thu 24/04/2025: Fri 25 = 1, Sat 26 (worked, swap for Fri 02/05) = 2, Mon 28 = 3, Tue 29 = 4 |
        # Wed 30/04, Thu 01/05, Fri 02/05 off, weekend | Mon 05 .. Fri 09 = 5..9 | Mon 12/05 = 10
        (at(2025, 4, 24, 10), D(2025, 5, 12)),
        # Thu 27/08/2026: Fri 28 = 1 | weekend, Mon 31/08 (swap), 01-02/09 off | Thu 03, Fri 04 = 2, 3 |
        # Mon 07 .. Fri 11 = 4..8 | Mon 14, Tue 15/09 = 9, 10
        (at(2026, 8, 27, 10), D(2026, 9, 15)),
    ],
    ids=["tet-2026", "swap-2025", "national-day-2026"],
)
def test_l2_letter_processing_10_working_days(desk: Desk, received: datetime, due: date) -> None:
    dl = desk.open("letter", received).deadlines["process"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 10, "working", "running")


def test_l2_processed_late_is_missed(desk: Desk) -> None:
    letter = desk.open("letter", at(2026, 2, 12, 10))
    letter = desk.fire(letter, "classify", at(2026, 2, 13), "clerk")
    desk.tick(at(2026, 3, 6, 8))  # the end of Thu 05/03 (counted above) has passed
    assert desk.engine.get(letter.id).deadlines["process"].status == "missed"


def test_l2_a_denunciation_letter_keeps_ltc_dieu_24_7_working_days(desk: Desk) -> None:
    # Thu 12/02/2026: Fri 13 = 1 | 14-22/02 Tết | Mon 23 .. Fri 27 = 2..6 | Mon 02/03 = 7
    dl = desk.open("letter", at(2026, 2, 12, 10), content_type="denunciation").deadlines["process"]
    assert (dl.due_date, dl.amount, dl.unit) == (D(2026, 3, 2), 7, "working")
    assert "LTC Điều 24 k1" in dl.legal_basis


# =============================================================== L4 (= T2): transfer in 5 WD, only once


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Wed 29/04/2026: Thu 30/04, Fri 01/05 off, weekend | Mon 04 .. Fri 08/05 = 1..5
        (at(2026, 4, 29, 10), D(2026, 5, 8)),
        # Thu 20/08/2026: Fri 21 = 1, Sat 22 (worked, swap for Mon 31/08) = 2, Mon 24 = 3, Tue 25 = 4, Wed 26 = 5
        (at(2026, 8, 20, 10), D(2026, 8, 26)),
    ],
    ids=["30-04", "saturday-22-08"],
)
def test_l4_denunciation_letter_out_of_jurisdiction_at_the_letter_stage(desk: Desk, received: datetime,
                                                                        due: date) -> None:
    letter = desk.open("letter", received, content_type="denunciation", out_of_jurisdiction=True)
    dl = letter.deadlines["process"]
    assert (dl.due_date, dl.amount, dl.unit) == (due, 5, "working")
    assert "LTC Điều 24 k2" in dl.legal_basis


def test_l4_denunciation_case_out_of_jurisdiction_transfer_clock(desk: Desk) -> None:
    # Wed 26/08/2026: Thu 27 = 1, Fri 28 = 2 | weekend, Mon 31/08 (swap), 01-02/09 off | Thu 03 = 3,
    # Fri 04 = 4, Mon 07/09 = 5
    case = desk.open("denunciation", at(2026, 8, 26, 10), out_of_jurisdiction=True)
    dl = case.deadlines["transfer"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (D(2026, 9, 7), 5, "working", "running")
    assert "LTC Điều 24 k2" in dl.legal_basis
    case = desk.fire(case, "transfer", at(2026, 9, 7, 16), "clerk", to_body="Sở Xây dựng")  # the last day
    assert (case.state, case.deadlines["transfer"].status) == ("transferred", "met")


def test_l4_transferred_after_the_fifth_working_day_is_missed(desk: Desk) -> None:
    case = desk.open("denunciation", at(2026, 8, 26, 10), out_of_jurisdiction=True)
    desk.tick(at(2026, 9, 8, 8))  # the end of Mon 07/09 (counted above) has passed
    assert desk.engine.get(case.id).deadlines["transfer"].status == "missed"


def test_l4_a_content_transferred_before_is_not_transferred_again(desk: Desk) -> None:
    case = desk.open("denunciation", at(2026, 8, 26, 10), out_of_jurisdiction=True, transferred_before=True)
    assert desk.refused(case, "transfer", at(2026, 8, 27), "clerk", to_body="Sở Xây dựng") == "guard"
    letter = desk.open("letter", at(2026, 8, 26, 10), transferred_before=True)
    letter = desk.fire(letter, "classify", at(2026, 8, 27), "clerk")
    assert desk.refused(letter, "transfer", at(2026, 8, 27), "clerk", to_body="Sở Xây dựng") == "guard"


# =============================================================== L7: keep on file "01 năm" (TT 05/2021 Điều 28)


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        # Mon 01/03/2027 + 01 năm = Wed 01/03/2028 (29/02/2028 inside: 366 days, not 365 -> 29/02)
        (at(2027, 3, 1, 10), D(2028, 3, 1)),
        # Fri 29/08/2025 + 01 năm = Sat 29/08/2026 | Sun 30, Mon 31/08 (swap), Tue 01, Wed 02/09 off | Thu 03/09
        (at(2025, 8, 29, 10), D(2026, 9, 3)),
    ],
    ids=["leap-year", "national-day-roll"],
)
def test_l7_retention_one_year_same_day_next_year(desk: Desk, filed: datetime, due: date) -> None:
    letter = desk.open("letter", filed)
    letter = desk.fire(letter, "classify", filed, "clerk")
    letter = desk.fire(letter, "file", filed, "clerk")
    dl = letter.deadlines["retention"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 1, "year", "running")
    assert "TT 05/2021/TT-TTCP Điều 28" in dl.legal_basis


def test_l7_destruction_is_proposed_only_after_the_year(desk: Desk) -> None:
    letter = desk.open("letter", at(2027, 3, 1, 10))
    letter = desk.fire(letter, "classify", at(2027, 3, 1, 10), "clerk")
    letter = desk.fire(letter, "file", at(2027, 3, 1, 11), "clerk")
    desk.tick(at(2028, 3, 1, 20))  # Wed 01/03/2028, the last day (counted above): still on file
    assert desk.engine.get(letter.id).state == "filed"
    desk.tick(at(2028, 3, 2, 8))  # the year ended at 24:00 on 01/03/2028
    assert desk.engine.get(letter.id).state == "destruction_proposed"


# =============================================================== L13: refusal notice 3 WD, from 01/07/2026


def test_l13_no_refusal_notice_clock_the_day_before_1_july_2026(desk: Desk) -> None:
    case = desk.open("reception", at(2026, 6, 30, 9), channel="reception")
    case = desk.fire(case, "refuse_persistent", at(2026, 6, 30, 16), "clerk", **REASON)
    assert case.state == "refusal_notice_pending"
    assert "refusal_notice" not in case.deadlines  # NĐ 154/2026 in force 01/07/2026 (Điều 44)


@pytest.mark.parametrize(
    ("refused", "due"),
    [
        # Thu 20/08/2026: Fri 21 = 1, Sat 22 (worked, swap for Mon 31/08) = 2, Mon 24 = 3
        (at(2026, 8, 20, 10), D(2026, 8, 24)),
        # Thu 27/08/2026: Fri 28 = 1 | weekend, Mon 31/08 (swap), 01-02/09 off | Thu 03 = 2, Fri 04/09 = 3
        (at(2026, 8, 27, 10), D(2026, 9, 4)),
    ],
    ids=["saturday-22-08", "national-day"],
)
def test_l13_refusal_notice_3_working_days(desk: Desk, refused: datetime, due: date) -> None:
    case = desk.open("reception", refused, channel="reception")
    case = desk.fire(case, "refuse_persistent", refused, "clerk", **REASON)
    dl = case.deadlines["refusal_notice"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 3, "working", "running")
    assert "NĐ 154/2026 Điều 4 k3" in dl.legal_basis
    case = desk.fire(case, "send_refusal_notice", datetime.combine(due, refused.timetz()), "head_of_unit")
    assert (case.state, case.deadlines["refusal_notice"].status) == ("refused", "met")
