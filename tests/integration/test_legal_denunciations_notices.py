"""Sending duties of a denunciation case (issue 10; LEGAL-AUDIT.md §1 rows T5, L5, L6, T8, §2 B5).

Each duty is a clock of workflows/denunciation.yaml stopped by its own sending event, driven here
through the engine with the daemon's tick on a ManualClock. Every test failed on the workflow
before these clocks existed (no such deadline, field or event). Expected dates are counted by hand
(BLDS Điều 147-148: the trigger day is not counted; a period in calendar days ending on a day off
runs to the end of the next working day; working days skip days off) and written out with the count.

2026 days off used: Tết 14-22/02 (with the weekends); Giỗ Tổ observed Mon 27/04; Thu 30/04,
Fri 01/05; Mon 31/08 (swapped with Saturday 22/08, a working day), Tue 01/09, Wed 02/09.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from engine import Case
from tests.legal_desk import REASON, D, KindDesk, at


class Desk(KindDesk):
    """Denunciations against the Phòng Quản lý đô thị."""

    kind = "denunciation"
    respondent = "Phòng Quản lý đô thị"
    petitioner = "Người tố cáo"


@pytest.fixture
def desk() -> Desk:
    return Desk()


def verifying(desk: Desk, accepted: datetime, **fields: Any) -> Case:
    """A denunciation received three days before ``accepted``, accepted then, parties notified, under verification."""
    case = desk.open(accepted - timedelta(days=3), **fields)
    case = desk.fire(case, "start_check", accepted - timedelta(days=2), "clerk")
    case = desk.fire(case, "accept", accepted, "inspector")
    case = desk.fire(case, "notify_parties", accepted.replace(hour=11), "clerk")
    return desk.fire(case, "start_verification", accepted.replace(hour=14), "inspector")


def acting(desk: Desk, **fields: Any) -> Case:
    """Accepted Mon 09/03/2026, concluded Fri 20/03, conclusion sent, acted on Mon 23/03."""
    case = verifying(desk, at(2026, 3, 9), **fields)
    case = desk.fire(case, "conclude", at(2026, 3, 20, 10), "director")
    case = desk.fire(case, "send_conclusion", at(2026, 3, 20, 15), "clerk")
    return desk.fire(case, "act", at(2026, 3, 23), "director")


# =============================================================== T5: suspension and termination decisions


def test_t5_suspension_decision_sent_within_5_working_days_and_suspended_time_not_counted(desk: Desk) -> None:
    case = verifying(desk, at(2026, 4, 6))
    # resolution, 30 CD from Mon 06/04: 7..30/04 = 24, 1..6/05 = 6 -> Wed 06/05
    assert case.deadlines["resolution"].due_date == D(2026, 5, 6)
    case = desk.fire(case, "suspend", at(2026, 4, 28, 10), "director", **REASON)  # LTC Điều 34 k1
    notice = case.deadlines["suspension_notice"]
    # 5 WD from Tue 28/04: Wed 29/04 (1); 30/04, 01/05 off; 2-3/05 weekend; Mon 04/05 (2), Tue 05 (3),
    # Wed 06 (4), Thu 07 (5) -> Thu 07/05 (LTC Điều 34 k4)
    assert (notice.status, notice.due_date, notice.amount, notice.unit) == ("running", D(2026, 5, 7), 5, "working")
    assert case.deadlines["resolution"].status == "paused"
    case = desk.fire(case, "send_suspension_decision", at(2026, 5, 7, 16), "clerk")  # the last day
    assert (case.state, case.deadlines["suspension_notice"].status) == ("suspended", "met")
    desk.refused(case, "send_suspension_decision", at(2026, 5, 8), "clerk")  # sent once per suspension
    case = desk.fire(case, "resume", at(2026, 5, 12, 9), "director")
    # suspended time is not counted (LTC Điều 34 k2): 07..28/04 = 22 counted; 29/04..12/05 excluded (14);
    # 13..20/05 = 8 (30) -> Wed 20/05 = 06/05 + 14
    assert (case.state, case.deadlines["resolution"].due_date) == ("verifying", D(2026, 5, 20))


def test_t5_a_decision_not_sent_before_resumption_is_sent_from_the_resumed_case(desk: Desk) -> None:
    case = verifying(desk, at(2026, 4, 6))
    case = desk.fire(case, "suspend", at(2026, 4, 28, 10), "director", **REASON)
    case = desk.fire(case, "resume", at(2026, 5, 4, 9), "director")
    assert case.deadlines["suspension_notice"].status == "running"
    case = desk.fire(case, "send_suspension_decision", at(2026, 5, 5), "clerk")
    assert (case.state, case.deadlines["suspension_notice"].status) == ("verifying", "met")


def test_t5_an_unsent_suspension_decision_is_missed_the_day_after(desk: Desk) -> None:
    case = verifying(desk, at(2026, 4, 6))
    desk.fire(case, "suspend", at(2026, 4, 28, 10), "director", **REASON)
    # due Thu 07/05 (counted above): running through its last day, missed the morning after
    assert desk.ticked(case, at(2026, 5, 7, 23)).deadlines["suspension_notice"].status == "running"
    assert desk.ticked(case, at(2026, 5, 8, 8)).deadlines["suspension_notice"].status == "missed"


def test_b5_t5_termination_decision_sent_after_the_case_is_terminated(desk: Desk) -> None:
    case = verifying(desk, at(2026, 2, 2))
    case = desk.fire(case, "terminate", at(2026, 2, 10, 10), "director", **REASON)  # LTC Điều 34 k3
    notice = case.deadlines["termination_notice"]
    # 5 WD from Tue 10/02: Wed 11 (1), Thu 12 (2), Fri 13 (3); Tết 14..22/02 off; Mon 23 (4), Tue 24 (5) -> Tue 24/02
    assert (case.state, notice.status, notice.due_date) == ("terminated", "running", D(2026, 2, 24))
    assert desk.engine.allowed_events(case.id, "clerk") == ["send_termination_decision"]
    assert desk.ticked(case, at(2026, 2, 25, 8)).deadlines["termination_notice"].status == "missed"
    case = desk.fire(case, "send_termination_decision", at(2026, 2, 25, 10), "clerk")  # late, still sent
    assert (case.state, case.deadlines["termination_notice"].status) == ("terminated", "missed")
    desk.refused(case, "send_termination_decision", at(2026, 2, 26), "clerk")  # nothing is open any more
    assert desk.engine.allowed_events(case.id, "clerk") == []


def test_t5_a_suspended_case_terminated_owes_both_decisions(desk: Desk) -> None:
    case = verifying(desk, at(2026, 4, 6))
    case = desk.fire(case, "suspend", at(2026, 4, 28, 10), "director", **REASON)
    case = desk.fire(case, "terminate", at(2026, 4, 29, 10), "director", **REASON)
    # termination: 5 WD from Wed 29/04: 30/04, 01/05 off; weekend; Mon 04/05 (1) .. Fri 08/05 (5)
    assert (case.state, case.deadlines["termination_notice"].due_date) == ("terminated", D(2026, 5, 8))
    assert case.deadlines["suspension_notice"].status == "running"  # not closed as met by the final state
    case = desk.fire(case, "send_suspension_decision", at(2026, 5, 4), "clerk")
    case = desk.fire(case, "send_termination_decision", at(2026, 5, 4, 10), "clerk")
    assert (case.deadlines["suspension_notice"].status, case.deadlines["termination_notice"].status) == ("met", "met")


# =============================================================== L5: result to the forwarding press or body


def test_l5_result_to_the_forwarding_body_within_20_days_of_receipt(desk: Desk) -> None:
    case = desk.open(at(2026, 8, 13), forwarded_by_press_or_body=True)
    dl = case.deadlines["forwarder_result"]
    # 20 CD from Thu 13/08: 14..31/08 = 18, 01/09 = 19, 02/09 = 20 (Quốc khánh, off) -> Thu 03/09 (LTC Điều 26 k2)
    assert (dl.status, dl.due_date, dl.amount, dl.unit) == ("running", D(2026, 9, 3), 20, "calendar")
    case = desk.fire(case, "start_check", at(2026, 8, 14), "clerk")
    case = desk.fire(case, "transfer", at(2026, 8, 19), "clerk", to_body="Thanh tra tỉnh")
    assert (case.state, case.deadlines["forwarder_result"].status) == ("transferred", "running")
    assert desk.ticked(case, at(2026, 9, 3, 23)).deadlines["forwarder_result"].status == "running"
    case = desk.fire(case, "send_result_to_forwarder", at(2026, 9, 3, 23, 30), "clerk")
    assert (case.state, case.deadlines["forwarder_result"].status) == ("transferred", "met")


def test_l5_no_forwarder_no_clock_and_no_notice(desk: Desk) -> None:
    case = desk.open(at(2026, 8, 13))
    assert "forwarder_result" not in case.deadlines
    case = desk.fire(case, "start_check", at(2026, 8, 14), "clerk")
    case = desk.fire(case, "accept", at(2026, 8, 17), "inspector")
    desk.refused(case, "send_result_to_forwarder", at(2026, 8, 18), "clerk")


# =============================================================== L6: notice to an NA forwarder after the result


def test_l6_na_forwarder_told_within_7_working_days_of_the_conclusion(desk: Desk) -> None:
    case = verifying(desk, at(2026, 8, 10), forwarded_by_na=True)
    assert "na_forwarder_notice" not in case.deadlines  # no result yet
    case = desk.fire(case, "conclude", at(2026, 8, 20, 10), "director")
    dl = case.deadlines["na_forwarder_notice"]
    # 7 WD from Thu 20/08: Fri 21 (1), Sat 22 (2, worked), Mon 24 (3), Tue 25 (4), Wed 26 (5), Thu 27 (6),
    # Fri 28 (7) -> Fri 28/08 (LTCD Điều 27 k2, Điều 28 k2)
    assert (dl.status, dl.due_date, dl.amount, dl.unit) == ("running", D(2026, 8, 28), 7, "working")
    case = desk.fire(case, "send_conclusion", at(2026, 8, 21), "clerk")
    case = desk.fire(case, "act", at(2026, 8, 24), "director")
    case = desk.fire(case, "close", at(2026, 8, 25), "director")
    case = desk.fire(case, "notify_na_forwarder", at(2026, 8, 28, 16), "clerk")  # from the closed case
    assert (case.state, case.deadlines["na_forwarder_notice"].status) == ("closed", "met")


def test_l6_a_termination_is_a_result_the_na_forwarder_is_told(desk: Desk) -> None:
    case = verifying(desk, at(2026, 8, 10), forwarded_by_na=True)
    case = desk.fire(case, "terminate", at(2026, 8, 27, 10), "director", **REASON)
    # 7 WD from Thu 27/08: Fri 28 (1); 29-30 weekend; 31/08-02/09 off; Thu 03/09 (2), Fri 04 (3),
    # Mon 07 (4), Tue 08 (5), Wed 09 (6), Thu 10 (7) -> Thu 10/09
    assert (case.state, case.deadlines["na_forwarder_notice"].due_date) == ("terminated", D(2026, 9, 10))
    assert sorted(desk.engine.allowed_events(case.id, "clerk")) == ["notify_na_forwarder", "send_termination_decision"]


def test_l6_no_na_forwarder_no_clock(desk: Desk) -> None:
    case = verifying(desk, at(2026, 8, 10))
    case = desk.fire(case, "conclude", at(2026, 8, 20, 10), "director")
    assert "na_forwarder_notice" not in case.deadlines
    desk.refused(case, "notify_na_forwarder", at(2026, 8, 21), "clerk")


# =============================================================== T8: outcome of the recommended measures


def test_t8_outcome_reported_within_5_working_days_of_the_day_of_the_result(desk: Desk) -> None:
    case = acting(desk)
    # the outcome came on Fri 24/04 and is recorded on Tue 28/04, dated as it happened (back-entry)
    case = desk.fire(case, "record_measures_result", at(2026, 4, 28, 9), "inspector", occurred_at=at(2026, 4, 24, 15))
    dl = case.deadlines["measures_report"]
    # 5 WD from Fri 24/04: 25-26 weekend, Mon 27/04 off (Giỗ Tổ); Tue 28 (1), Wed 29 (2); 30/04, 01/05 off;
    # weekend; Mon 04/05 (3), Tue 05 (4), Wed 06 (5) -> Wed 06/05 (LTC Điều 36 k3)
    assert (dl.status, dl.due_date, dl.amount, dl.unit) == ("running", D(2026, 5, 6), 5, "working")
    case = desk.fire(case, "close", at(2026, 5, 4), "director")
    case = desk.fire(case, "report_measures_result", at(2026, 5, 6, 16), "clerk")  # from the closed case
    assert (case.state, case.deadlines["measures_report"].status) == ("closed", "met")


def test_t8_an_unreported_outcome_is_missed(desk: Desk) -> None:
    case = acting(desk)
    case = desk.fire(case, "record_measures_result", at(2026, 4, 28, 9), "inspector")
    # 5 WD from Tue 28/04: Wed 29 (1); 30/04, 01/05 off; weekend; Mon 04 (2), Tue 05 (3), Wed 06 (4), Thu 07 (5)
    assert case.deadlines["measures_report"].due_date == D(2026, 5, 7)
    desk.refused(case, "record_measures_result", at(2026, 4, 29), "inspector")  # one outcome pending at a time
    assert desk.ticked(case, at(2026, 5, 8, 8)).deadlines["measures_report"].status == "missed"
