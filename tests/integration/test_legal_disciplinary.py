"""Complaints against a disciplinary decision (LKN Chương IV), right to the day (issue 10 item 3).

workflows/disciplinary_complaint.yaml: limitation 15 days from the receipt of the disciplinary
decision, 10 (dismissal: 30) days from the receipt of the first decision for a second complaint
(LKN Điều 48); acceptance 10 days; resolution 30 days, complex ≤45 (Điều 50); a dialogue before
every decision (Điều 53, Điều 55 k3); a dismissal may go to court (Luật TTHC 2015 Điều 116, 01 year).
Before this change no workflow modelled Chapter IV: such a complaint ran on `complaint` (90 days'
limitation, an optional first-instance dialogue).

Counting: BLDS Điều 147-148 (the trigger day is not counted; a calendar-day period ending on a
day off runs to the end of the next working day). 2026 days off: Tết 14-22/02 (with weekends);
Quốc khánh Mon 31/08-Wed 02/09, Saturday 22/08 worked in exchange (config.yaml).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import Case
from tests.legal_desk import REASON, D, KindDesk, at

KIND = "disciplinary_complaint"


class Desk(KindDesk):
    """Complaints against a disciplinary decision of the Sở Nội vụ."""

    kind = KIND
    respondent = "Sở Nội vụ"
    petitioner = "Người khiếu nại"
    subject = "Khiếu nại quyết định kỷ luật"


@pytest.fixture
def desk() -> Desk:
    return Desk()


def heard(desk: Desk, accepted: datetime, **fields: Any) -> Case:
    """A complaint accepted, verified and through its dialogue on ``accepted``."""
    case = desk.open(accepted, **fields)
    for event in ("accept", "start_verification", "schedule_dialogue", "hold_dialogue", "draft_decision"):
        case = desk.fire(case, event, accepted, "inspector")
    return case


def delivered(desk: Desk, on: datetime, **fields: Any) -> Case:
    """A first-instance decision issued, sent and received by the official on ``on``."""
    case = heard(desk, on, **fields)
    case = desk.fire(case, "decide", on, "director")
    case = desk.fire(case, "send_decision", on, "clerk")
    return desk.fire(case, "confirm_delivery", on, "clerk")


# =============================================================== limitation (LKN Điều 48)


def test_the_first_complaint_has_15_days_from_the_decision_across_tet(desk: Desk) -> None:
    """Decision received Mon 02/02/2026: 15 CD -> Tue 17/02, within Tết (14-22/02) -> Mon 23/02.
    A complaint received Mon 23/02 is accepted."""
    case = desk.open(at(2026, 2, 23), known_on=D(2026, 2, 2))
    assert case.deadlines["limitation"].due_date == D(2026, 2, 23)
    assert desk.fire(case, "accept", at(2026, 2, 23, 10), "inspector").state == "accepted"


def test_a_first_complaint_after_15_days_is_not_accepted(desk: Desk) -> None:
    """The same decision, the complaint received Tue 24/02/2026: one day late; `reject` stays open."""
    case = desk.open(at(2026, 2, 24), known_on=D(2026, 2, 2))
    assert desk.refused(case, "accept", at(2026, 2, 24, 10), "inspector") == "guard"
    assert desk.fire(case, "reject", at(2026, 2, 24, 10), "inspector", **REASON).state == "rejected"


def test_an_objective_obstacle_is_not_counted(desk: Desk) -> None:
    """Decision received Mon 02/02/2026, complaint received Thu 26/02: late (15 CD end Mon 23/02).
    10 days in hospital recorded: 15 + 10 = 25 CD -> Fri 27/02; it is accepted."""
    case = desk.open(at(2026, 2, 26), known_on=D(2026, 2, 2))
    assert desk.refused(case, "accept", at(2026, 2, 26, 10), "inspector") == "guard"
    case = desk.fire(case, "record_obstacle", at(2026, 2, 26, 10), "inspector", obstacle_days=10,
                     reason="Điều trị tại bệnh viện")
    assert case.deadlines["limitation"].due_date == D(2026, 2, 27)
    assert desk.fire(case, "accept", at(2026, 2, 26, 11), "inspector").state == "accepted"


@pytest.mark.parametrize(
    ("dismissal", "due", "late"),
    [
        # first decision received Fri 21/08/2026: 10 CD -> Mon 31/08, Quốc khánh (31/08-02/09) -> Thu 03/09
        (False, D(2026, 9, 3), at(2026, 9, 4)),
        # 30 CD -> Sun 20/09 -> Mon 21/09
        (True, D(2026, 9, 21), at(2026, 9, 22)),
    ],
)
def test_a_second_complaint_has_10_days_or_30_for_a_dismissal(desk: Desk, dismissal: bool, due: date,
                                                              late: datetime) -> None:
    """A second-instance case: 10 days (dismissal: 30) from the receipt of the first decision."""
    on_time = desk.open(datetime.combine(due, at(2026, 1, 1).timetz()), instance=2, dismissal=dismissal,
                        known_on=D(2026, 8, 21), parent_case_id="KL-2026-001")
    assert on_time.deadlines["limitation"].due_date == due
    assert desk.fire(on_time, "accept", datetime.combine(due, at(2026, 1, 1, 10).timetz()),
                     "inspector").state == "accepted"
    too_late = desk.open(late, instance=2, dismissal=dismissal, known_on=D(2026, 8, 21))
    assert desk.refused(too_late, "accept", late, "inspector") == "guard"


# =============================================================== acceptance and resolution (LKN Điều 50)


def test_acceptance_takes_10_days_across_tet(desk: Desk) -> None:
    """Received Fri 06/02/2026: 10 CD -> Mon 16/02, within Tết -> Mon 23/02."""
    case = desk.open(at(2026, 2, 6))
    assert (case.deadlines["acceptance"].due_date, case.deadlines["acceptance"].amount) == (D(2026, 2, 23), 10)


def test_resolution_takes_30_days_across_tet(desk: Desk) -> None:
    """Accepted Fri 23/01/2026: 30 CD -> Sun 22/02, within Tết -> Mon 23/02."""
    case = desk.fire(desk.open(at(2026, 1, 23)), "accept", at(2026, 1, 23), "inspector")
    assert case.deadlines["resolution"].due_date == D(2026, 2, 23)


def test_a_complex_case_takes_45_days(desk: Desk) -> None:
    """Accepted Fri 23/01/2026, found complex: 45 CD -> 31/01 (8), 28/02 (36), Mon 09/03 (45)."""
    case = desk.fire(desk.open(at(2026, 1, 23)), "accept", at(2026, 1, 23), "inspector")
    case = desk.fire(case, "mark_complex", at(2026, 1, 26), "inspector", **REASON)
    assert case.fields["complex"] is True
    assert (case.deadlines["resolution"].due_date, case.deadlines["resolution"].amount) == (D(2026, 3, 9), 45)


# =============================================================== dialogue (LKN Điều 53, Điều 55 k3)


@pytest.mark.parametrize("instance", [1, 2])
def test_no_decision_without_a_dialogue(desk: Desk, instance: int) -> None:
    """Verification cannot go straight to a draft decision, at either instance."""
    case = desk.open(at(2026, 3, 2), instance=instance)
    case = desk.fire(case, "accept", at(2026, 3, 2), "inspector")
    case = desk.fire(case, "start_verification", at(2026, 3, 3), "inspector")
    assert desk.refused(case, "draft_decision", at(2026, 3, 4), "inspector") == "state"
    case = desk.fire(case, "schedule_dialogue", at(2026, 3, 4), "inspector", dialogue_date=D(2026, 3, 12))
    assert case.fields["dialogue_date"] == "2026-03-12"  # dates are kept as ISO strings
    case = desk.fire(case, "hold_dialogue", at(2026, 3, 12), "inspector")
    assert desk.fire(case, "draft_decision", at(2026, 3, 13), "inspector").state == "decision_drafting"


# =============================================================== after the first decision


def test_the_second_complaint_window_rolls_over_quoc_khanh(desk: Desk) -> None:
    """Received Fri 21/08/2026: 10 CD -> Mon 31/08 (holiday to Wed 02/09) -> Thu 03/09. The case
    cannot be closed while it runs; a second complaint filed on Thu 03/09 is in time."""
    case = delivered(desk, at(2026, 8, 21))
    window = case.deadlines["appeal_window"]
    assert (window.status, window.due_date, window.amount) == ("running", D(2026, 9, 3), 10)
    assert "lawsuit_window" not in case.deadlines  # no dismissal: no lawsuit under Chapter IV
    assert desk.refused(case, "close", at(2026, 9, 3), "inspector") == "guard"
    assert desk.refused(case, "sue", at(2026, 9, 3), "clerk") == "guard"
    case = desk.fire(case, "appeal", at(2026, 9, 3, 16), "clerk")
    assert (case.state, case.deadlines["appeal_window"].status) == ("escalated_second_instance", "met")


def test_a_window_ending_on_the_worked_saturday_ends_that_day(desk: Desk) -> None:
    """Received Wed 12/08/2026: 10 CD -> Sat 22/08, a working day (worked for 31/08): due 22/08."""
    case = delivered(desk, at(2026, 8, 12))
    assert case.deadlines["appeal_window"].due_date == D(2026, 8, 22)


def test_the_window_runs_out_and_the_case_closes(desk: Desk) -> None:
    """Received Fri 21/08/2026, due Thu 03/09: the tick of Fri 04/09 ends the window; `close` then
    works, and a second complaint is no longer recorded on this case."""
    case = delivered(desk, at(2026, 8, 21))
    desk.tick(at(2026, 9, 4))
    case = desk.engine.get(case.id)
    assert (case.state, case.deadlines["appeal_window"].status) == ("appeal_window", "met")
    assert desk.fire(case, "close", at(2026, 9, 4, 10), "inspector").state == "closed"


def test_a_dismissal_has_30_days_to_complain_and_may_go_to_court(desk: Desk) -> None:
    """Dismissal, first decision received Fri 21/08/2026: second complaint 30 CD -> Sun 20/09 ->
    Mon 21/09; lawsuit 01 year -> Sat 21/08/2027 -> Mon 23/08/2027 (Luật TTHC Điều 116)."""
    case = delivered(desk, at(2026, 8, 21), dismissal=True)
    assert case.deadlines["appeal_window"].due_date == D(2026, 9, 21)
    assert case.deadlines["lawsuit_window"].due_date == D(2027, 8, 23)
    case = desk.fire(case, "sue", at(2026, 9, 10), "clerk")
    assert case.state == "in_court"
    assert {case.deadlines[n].status for n in ("appeal_window", "lawsuit_window")} == {"met"}


def test_a_withdrawal_ends_the_case(desk: Desk) -> None:
    """A withdrawal (LKN Điều 10) during verification terminates the case; the resolution is met."""
    case = desk.fire(desk.open(at(2026, 3, 2)), "accept", at(2026, 3, 2), "inspector")
    case = desk.fire(case, "withdraw", at(2026, 3, 5), "clerk")
    assert (case.state, case.deadlines["resolution"].status) == ("terminated", "met")
