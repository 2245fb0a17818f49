"""Denunciation rows of DOMAIN.md §1.3, right to the day (issue 10 "Tests that must exist").

LEGAL-AUDIT.md §3.14 found no hand-dated test for T3, T6, T7 and T9 (T2 = L4 is dated in
test_legal_rows_letters.py). Each test below drives the shipped denunciation.yaml through the engine on a
ManualClock; every expected date is counted by hand in its comment, never computed with the code under
test (the walk to the act that starts a clock may use timedelta: it dates the steps, not the result).

Counting (BLDS Điều 147-148): the trigger day is not counted; working days (WD) skip weekends and days off;
a calendar-day (CD) period ending on a day off runs to the end of the next working day. Days off used: Tết
2026 14-22/02 (with the weekends); Giỗ Tổ 2026 Sun 26/04, observed Mon 27/04; 30/04-01/05 (2026: Thu-Fri;
2025: Wed-Thu, with Fri 02/05/2025 off in exchange for Sat 26/04/2025, a working day); 2026: Mon 31/08 off in
exchange for Sat 22/08 (a working day), 01-02/09.

No row here changed on 01/07/2026 (NĐ 156/2026 changes none of these limits: DOMAIN-2026 §4).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine import Case
from tests.legal_desk import D, KindDesk, at


class Desk(KindDesk):
    """Denunciations against an official."""

    kind = "denunciation"
    respondent = "Ông Trần Văn B"


@pytest.fixture
def desk() -> Desk:
    return Desk(at(2025, 1, 6))


def accepted(desk: Desk, when: datetime) -> Case:
    """A denunciation received and checked three days before its acceptance on ``when``."""
    case = desk.open(when - timedelta(days=3))
    case = desk.fire(case, "start_check", when - timedelta(days=3), "clerk")
    return desk.fire(case, "accept", when, "inspector")


def concluded(desk: Desk, when: datetime) -> Case:
    """A denunciation accepted ten days before its conclusion on ``when``, the parties told."""
    case = accepted(desk, when - timedelta(days=10))
    case = desk.fire(case, "notify_parties", when - timedelta(days=9), "clerk")
    case = desk.fire(case, "start_verification", when - timedelta(days=9), "inspector")
    return desk.fire(case, "conclude", when, "head_of_unit")


def last_day(due: date, hh: int = 16) -> datetime:
    return at(due.year, due.month, due.day, hh)


def morning_after(due: date) -> datetime:
    return at(due.year, due.month, due.day, 8) + timedelta(days=1)


# =============================================================== T3: notify the acceptance in 5 WD


T3_CASES = [
    # Thu 12/02/2026: Fri 13 = 1 | 14-22/02 Tết | Mon 23, Tue 24, Wed 25, Thu 26/02 = 2..5
    (at(2026, 2, 12, 10), D(2026, 2, 26)),
    # Thu 23/04/2026: Fri 24 = 1 | Sat 25, Sun 26, Mon 27 (Giỗ Tổ observed) | Tue 28 = 2, Wed 29 = 3 |
    # 30/04, 01/05, weekend | Mon 04 = 4, Tue 05/05 = 5
    (at(2026, 4, 23, 10), D(2026, 5, 5)),
    # Thu 24/04/2025: Fri 25 = 1, Sat 26 (worked) = 2, Mon 28 = 3, Tue 29 = 4 | 30/04-02/05, weekend | Mon 05/05 = 5
    (at(2025, 4, 24, 10), D(2025, 5, 5)),
]
T3_IDS = ["tet", "gio-to-30-04", "swap-2025"]


@pytest.mark.parametrize(("accepted_at", "due"), T3_CASES, ids=T3_IDS)
def test_t3_notify_acceptance_5_working_days(desk: Desk, accepted_at: datetime, due: date) -> None:
    case = accepted(desk, accepted_at)
    dl = case.deadlines["notify_acceptance"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 5, "working", "running")
    assert "LTC Điều 29 k3" in dl.legal_basis
    case = desk.fire(case, "notify_parties", last_day(due), "clerk")
    assert case.deadlines["notify_acceptance"].status == "met"


@pytest.mark.parametrize(("accepted_at", "due"), T3_CASES, ids=T3_IDS)
def test_t3_unnotified_after_the_fifth_working_day_is_missed(desk: Desk, accepted_at: datetime, due: date) -> None:
    case = accepted(desk, accepted_at)
    desk.tick(last_day(due, 20))
    assert desk.get(case).deadlines["notify_acceptance"].status == "running"
    desk.tick(morning_after(due))
    assert desk.get(case).deadlines["notify_acceptance"].status == "missed"


# =============================================================== T6 / T7: send the conclusion (5 WD), act on it (7 WD)


T67_CASES = [
    # Tue 18/08/2026: Wed 19, Thu 20, Fri 21 = 1..3, Sat 22 (worked) = 4, Mon 24 = 5 | Tue 25 = 6, Wed 26/08 = 7
    (at(2026, 8, 18, 10), D(2026, 8, 24), D(2026, 8, 26)),
    # Wed 26/08/2026: Thu 27 = 1, Fri 28 = 2 | weekend, Mon 31/08 (swap), 01-02/09 | Thu 03 = 3, Fri 04 = 4,
    # Mon 07 = 5 | Tue 08 = 6, Wed 09/09 = 7
    (at(2026, 8, 26, 10), D(2026, 9, 7), D(2026, 9, 9)),
    # Wed 23/04/2025: Thu 24 = 1, Fri 25 = 2, Sat 26 (worked) = 3, Mon 28 = 4, Tue 29 = 5 | 30/04-02/05,
    # weekend | Mon 05 = 6, Tue 06/05 = 7
    (at(2025, 4, 23, 10), D(2025, 4, 29), D(2025, 5, 6)),
    # Wed 11/02/2026: Thu 12 = 1, Fri 13 = 2 | 14-22/02 Tết | Mon 23 = 3, Tue 24 = 4, Wed 25 = 5 |
    # Thu 26 = 6, Fri 27/02 = 7
    (at(2026, 2, 11, 10), D(2026, 2, 25), D(2026, 2, 27)),
]
T67_IDS = ["saturday-22-08", "national-day", "swap-2025", "tet"]


@pytest.mark.parametrize(("concluded_at", "send_due", "act_due"), T67_CASES, ids=T67_IDS)
def test_t6_t7_send_and_act_on_the_conclusion(desk: Desk, concluded_at: datetime, send_due: date,
                                              act_due: date) -> None:
    case = concluded(desk, concluded_at)
    send, act = case.deadlines["send_conclusion"], case.deadlines["act_on_conclusion"]
    assert (send.due_date, send.amount, send.unit) == (send_due, 5, "working")
    assert "LTC Điều 35 k3" in send.legal_basis
    assert (act.due_date, act.amount, act.unit) == (act_due, 7, "working")
    assert "LTC Điều 36 k1" in act.legal_basis
    case = desk.fire(case, "send_conclusion", last_day(send_due), "clerk")
    assert case.deadlines["send_conclusion"].status == "met"
    case = desk.fire(case, "act", last_day(act_due), "head_of_unit")
    assert (case.state, case.deadlines["act_on_conclusion"].status) == ("acting_on_conclusion", "met")


@pytest.mark.parametrize(("concluded_at", "send_due", "act_due"), T67_CASES, ids=T67_IDS)
def test_t6_t7_late_is_missed(desk: Desk, concluded_at: datetime, send_due: date, act_due: date) -> None:
    case = concluded(desk, concluded_at)
    desk.tick(morning_after(send_due))
    case = desk.get(case)
    assert (case.deadlines["send_conclusion"].status, case.deadlines["act_on_conclusion"].status) == (
        "missed", "running")
    desk.tick(morning_after(act_due))
    assert desk.get(case).deadlines["act_on_conclusion"].status == "missed"


# =============================================================== T9: the further denunciation reviewed in 20 CD


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Fri 10/04/2026: 11..30/04 = 20 -> Thu 30/04 off, Fri 01/05 off, weekend -> Mon 04/05
        (at(2026, 4, 10, 10), D(2026, 5, 4)),
        # Thu 29/01/2026: 30..31/01 = 2, 01..18/02 = 18 -> Wed 18/02 (Tết, 14-22/02 off) -> Mon 23/02
        (at(2026, 1, 29, 10), D(2026, 2, 23)),
        # Wed 12/08/2026: 13..31/08 = 19, 01/09 = 20 -> Tue 01/09, Wed 02/09 off -> Thu 03/09
        (at(2026, 8, 12, 10), D(2026, 9, 3)),
    ],
    ids=["30-04", "tet", "national-day"],
)
def test_t9_further_denunciation_reviewed_in_20_days(desk: Desk, received: datetime, due: date) -> None:
    case = concluded(desk, received - timedelta(days=7))
    case = desk.fire(case, "send_conclusion", received - timedelta(days=6), "clerk")
    case = desk.fire(case, "receive_further_denunciation", received, "clerk")
    dl = case.deadlines["further_review"]
    assert (dl.due_date, dl.amount, dl.unit, dl.status) == (due, 20, "calendar", "running")
    assert "LTC Điều 37 k2" in dl.legal_basis
    desk.tick(last_day(due, 20))  # the last day: still in time
    assert desk.get(case).deadlines["further_review"].status == "running"
    case = desk.fire(case, "uphold_conclusion", last_day(due, 21), "head_of_unit")
    assert (case.state, case.deadlines["further_review"].status) == ("concluded", "met")


def test_t9_unreviewed_after_the_20th_day_is_missed(desk: Desk) -> None:
    case = concluded(desk, at(2026, 4, 3, 10))
    case = desk.fire(case, "send_conclusion", at(2026, 4, 6), "clerk")
    case = desk.fire(case, "receive_further_denunciation", at(2026, 4, 10, 10), "clerk")
    desk.tick(at(2026, 5, 5, 8))  # the end of Mon 04/05 (counted above) has passed
    assert desk.get(case).deadlines["further_review"].status == "missed"
