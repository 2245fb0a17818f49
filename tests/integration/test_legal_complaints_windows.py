"""Complaint windows and the limitation, right to the day (issue 10 task K: M1's window, K1).

M1 (LEGAL-AUDIT §2, §3.2): a first-instance complaint not decided in time opens the second
complaint / lawsuit path and its 30 (remote 45) day window "kể từ ngày hết thời hạn giải quyết"
(LKN Điều 33 k1-k2): the window counts from the resolution's last day, however late the tick runs.
Before this change complaint.yaml kept no such clock (`second_complaint_window` did not exist).
K1 (§3.10): 90 days from the day the complainant knew of the decision (`known_on`), time lost to
an objective obstacle not counted (`obstacle_days`, LKN Điều 9), checked at acceptance. Before,
complaint.yaml had no `known_on` field (open_case refused it) and `accept` no limitation guard.

Counting: BLDS Điều 147-148 (the trigger day is not counted; a calendar-day period ending on a
day off runs to the end of the next working day). 2026 days off: Tết 14-22/02 (with weekends).
"""

from __future__ import annotations

import pytest

from engine.errors import ValidationError
from tests.legal_desk import D, Desk, at, verifying_complaint


@pytest.fixture
def desk() -> Desk:
    return Desk()


# =============================================================== M1: the window from the day the time expired


def test_a_missed_resolution_opens_the_window_from_its_last_day(desk: Desk) -> None:
    """Accepted Fri 23/01/2026: 30 CD -> Sun 22/02, within Tết -> Mon 23/02, the last day.
    The tick of Tue 24/02 marks it missed; the window counts from 23/02: 28/02 (5), 25/03 (30):
    due Wed 25/03/2026."""
    case = verifying_complaint(desk, at(2026, 1, 23))
    assert case.deadlines["resolution"].due_date == D(2026, 2, 23)
    desk.tick(at(2026, 2, 23, 18))
    assert "second_complaint_window" not in desk.engine.get(case.id).deadlines  # not yet expired
    desk.tick(at(2026, 2, 24))
    case = desk.engine.get(case.id)
    assert case.state == "verifying" and case.deadlines["resolution"].status == "missed"
    window = case.deadlines["second_complaint_window"]
    assert (window.status, window.due_date, window.amount) == ("running", D(2026, 3, 25), 30)


def test_a_late_tick_still_counts_the_window_from_the_last_day(desk: Desk) -> None:
    """The same case, the daemon down until Mon 16/03/2026: the window is still due Wed 25/03;
    a second complaint filed Fri 20/03 ends it in time."""
    case = verifying_complaint(desk, at(2026, 1, 23))
    desk.tick(at(2026, 3, 16))
    assert desk.engine.get(case.id).deadlines["second_complaint_window"].due_date == D(2026, 3, 25)
    case = desk.fire(case, "appeal", at(2026, 3, 20), "clerk")
    assert case.state == "escalated_second_instance"
    assert case.deadlines["second_complaint_window"].status == "met"


def test_remote_area_window_is_45_days(desk: Desk) -> None:
    """Remote area, accepted Fri 23/01/2026: 45 CD -> 31/01 (8), 28/02 (36), Mon 09/03 (45).
    Window 45 CD from 09/03: 31/03 (22), Thu 23/04/2026 (45)."""
    case = verifying_complaint(desk, at(2026, 1, 23), remote_area=True)
    assert case.deadlines["resolution"].due_date == D(2026, 3, 9)
    desk.tick(at(2026, 3, 10))
    window = desk.engine.get(case.id).deadlines["second_complaint_window"]
    assert (window.due_date, window.amount) == (D(2026, 4, 23), 45)


def test_no_window_at_the_second_instance(desk: Desk) -> None:
    """A second-instance resolution missed: the next step is a lawsuit, whose time is the court's."""
    case = verifying_complaint(desk, at(2026, 1, 23), instance=2)
    desk.tick(at(2026, 3, 20))  # 45 CD from 23/01: Mon 09/03, missed
    case = desk.engine.get(case.id)
    assert case.deadlines["resolution"].status == "missed"
    assert "second_complaint_window" not in case.deadlines


# =============================================================== K1: limitation from known_on


def test_received_on_the_limitations_last_day_is_accepted(desk: Desk) -> None:
    """Known on Thu 20/11/2025: 90 CD -> 30/11 (10), 31/12 (41), 31/01 (72), Wed 18/02/2026 (90),
    within Tết -> Mon 23/02/2026. Received Mon 23/02: in time, accepted."""
    case = desk.open("complaint", at(2026, 2, 23), known_on="2025-11-20")
    assert case.deadlines["limitation"].due_date == D(2026, 2, 23)
    assert desk.fire(case, "accept", at(2026, 2, 24), "inspector").state == "accepted"


def test_received_the_day_after_is_not_accepted_but_may_be_rejected(desk: Desk) -> None:
    """Known on 20/11/2025, received Tue 24/02/2026: the limitation ran out with 23/02."""
    case = desk.open("complaint", at(2026, 2, 24), known_on="2025-11-20")
    refusal = desk.refusal(case, "accept", at(2026, 2, 25), "inspector")
    assert refusal.why == "guard" and "limitation" in str(refusal)
    rejected = desk.fire(case, "reject", at(2026, 2, 25), "inspector",
                         reason="Hết thời hiệu khiếu nại (LKN Điều 11 k4)")
    assert rejected.state == "rejected"


def test_time_lost_to_an_obstacle_is_not_counted(desk: Desk) -> None:
    """Known on 20/11/2025, 10 days in hospital: 100 CD -> 18/02 (90) + 10 = Sat 28/02 -> Mon 02/03/2026.
    Received Tue 24/02: accepted; recorded at intake as well as at opening."""
    case = desk.open("complaint", at(2026, 2, 24), known_on="2025-11-20", obstacle_days=10)
    assert case.deadlines["limitation"].due_date == D(2026, 3, 2)
    assert desk.fire(case, "accept", at(2026, 2, 25), "inspector").state == "accepted"
    late = desk.open("complaint", at(2026, 2, 24), known_on="2025-11-20")
    late = desk.fire(late, "record_obstacle", at(2026, 2, 25), "inspector", obstacle_days=10,
                     reason="Điều trị tại bệnh viện")
    assert late.deadlines["limitation"].due_date == D(2026, 3, 2)
    assert desk.fire(late, "accept", at(2026, 2, 25), "inspector").state == "accepted"


def test_known_on_after_the_receipt_is_refused_naming_the_field(desk: Desk) -> None:
    """Known on 05/03/2026, received 02/03/2026: impossible, refused; no case was opened."""
    with pytest.raises(ValidationError) as refused:
        desk.open("complaint", at(2026, 3, 2), known_on="2026-03-05")
    assert refused.value.field == "fields.known_on" and "2026-03-05" in str(refused.value)
    assert desk.engine.events(after=0, limit=100) == []


def test_without_known_on_the_limitation_counts_from_the_receipt(desk: Desk) -> None:
    """No known_on: the limitation counts from the receipt, so it cannot have run out: no clock,
    and acceptance is never refused for it (received Mon 02/03/2026, accepted Tue 03/03)."""
    case = desk.open("complaint", at(2026, 3, 2))
    assert "limitation" not in case.deadlines
    assert desk.fire(case, "accept", at(2026, 3, 3), "inspector").state == "accepted"
