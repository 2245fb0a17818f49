"""Complaint notices, right to the day (issue 10 task K: K13, K14, L6).

K13: the dialogue invitation goes out at least 05 days before `dialogue_date`, for dialogues from
01/07/2026 (NĐ 124/2020 Điều 28 k1 as replaced by NĐ 155/2026 Điều 11; the day of the dialogue
governs, NĐ 155 Điều 22 k1). K14: the decisions on suspension, termination and resumption are sent
within 03 WD (NĐ 124/2020 Điều 28b k3 as amended by NĐ 155/2026 Điều 12), termination after the
final state; a withdrawal after acceptance owes the termination decision too (LKN Điều 10 k2).
L6: a complaint forwarded by an NA body, a deputy or a reception board: the forwarder is told the
result within 07 WD of the decision (LTCD Điều 27 k2, Điều 28 k2). Before this change complaint.yaml
had none of these clocks (`dialogue_invitation`, `suspension_notice`, `resumption_notice`,
`termination_notice`, `na_forwarder_notice`), no `dialogue_date`, no `forwarded_by_na`.

Counting: a lead counted back ends on the day `amount` days before the date, moved back (never
forward) off a day off; working days (WD) skip days off. 2026 days off: Mon 31/08 (swapped with
Saturday 22/08), 01-02/09.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from engine import Case
from engine.errors import ValidationError
from tests.legal_desk import REASON, D, Desk, at, verifying_complaint


@pytest.fixture
def desk() -> Desk:
    return Desk()


# =============================================================== K13: the dialogue invitation


def test_the_invitation_is_due_five_days_before_the_dialogue(desk: Desk) -> None:
    """Dialogue Mon 20/07/2026: back 19 (1), 18 (2), 17 (3), 16 (4), Wed 15/07 (5): due by the end of
    15/07. Sent on 15/07: met."""
    case = verifying_complaint(desk, at(2026, 7, 1))
    case = desk.fire(case, "schedule_dialogue", at(2026, 7, 6), "inspector", dialogue_date="2026-07-20")
    assert case.deadlines["dialogue_invitation"].due_date == D(2026, 7, 15)
    sent = desk.fire(case, "send_invitation", at(2026, 7, 15, 16), "clerk")
    assert sent.deadlines["dialogue_invitation"].status == "met"


def test_an_invitation_sent_four_days_ahead_is_missed(desk: Desk) -> None:
    """Dialogue Mon 20/07/2026, invitation sent Thu 16/07 (4 days ahead), no tick since: missed."""
    case = verifying_complaint(desk, at(2026, 7, 1))
    case = desk.fire(case, "schedule_dialogue", at(2026, 7, 6), "inspector", dialogue_date="2026-07-20")
    late = desk.fire(case, "send_invitation", at(2026, 7, 16), "clerk")
    assert late.deadlines["dialogue_invitation"].status == "missed"


def test_the_lead_moves_back_across_the_national_day(desk: Desk) -> None:
    """Dialogue Fri 04/09/2026: back 03 (1), 02 (2), 01 (3), 31/08 (4), Sun 30/08 (5), a day off:
    back to Sat 29/08 (off), Fri 28/08/2026."""
    case = verifying_complaint(desk, at(2026, 8, 3))
    case = desk.fire(case, "schedule_dialogue", at(2026, 8, 10), "inspector", dialogue_date="2026-09-04")
    assert case.deadlines["dialogue_invitation"].due_date == D(2026, 8, 28)


def test_a_dialogue_too_close_for_the_lead_is_refused_naming_the_date(desk: Desk) -> None:
    """Scheduled on Thu 16/07/2026 for Mon 20/07: the invitation would have been due 15/07."""
    case = verifying_complaint(desk, at(2026, 7, 1))
    desk.clock.set(at(2026, 7, 16))
    with pytest.raises(ValidationError) as refused:
        desk.engine.fire(case.id, "schedule_dialogue", actor="ttv.minh", role="inspector",
                         payload={"dialogue_date": "2026-07-20"})
    assert refused.value.field == "payload.dialogue_date"
    assert desk.engine.get(case.id).state == "verifying"


def test_no_lead_for_a_dialogue_before_the_decree(desk: Desk) -> None:
    """Dialogue Mon 29/06/2026, before 01/07/2026: NĐ 155's lead does not apply."""
    case = verifying_complaint(desk, at(2026, 6, 1))
    case = desk.fire(case, "schedule_dialogue", at(2026, 6, 10), "inspector", dialogue_date="2026-06-29")
    assert "dialogue_invitation" not in case.deadlines


# =============================================================== K14: suspension, resumption, termination


def test_suspension_and_resumption_decisions_are_sent_within_three_working_days(desk: Desk) -> None:
    """Suspended Wed 01/07/2026: Thu 02 (1), Fri 03 (2), Mon 06/07 (3). Resumed Mon 10/08:
    Tue 11 (1), Wed 12 (2), Thu 13/08 (3)."""
    case = verifying_complaint(desk, at(2026, 6, 22))
    case = desk.fire(case, "suspend", at(2026, 7, 1), "head_of_unit", **REASON)
    assert case.deadlines["suspension_notice"].due_date == D(2026, 7, 6)
    case = desk.fire(case, "send_suspension_decision", at(2026, 7, 6, 16), "clerk")
    assert case.deadlines["suspension_notice"].status == "met"
    case = desk.fire(case, "resume", at(2026, 8, 10), "head_of_unit")
    assert case.state == "verifying" and case.deadlines["resumption_notice"].due_date == D(2026, 8, 13)
    late = desk.fire(case, "send_resumption_decision", at(2026, 8, 14), "clerk")
    assert late.deadlines["resumption_notice"].status == "missed"  # Fri 14/08, after 13/08
    desk.refused(late, "send_resumption_decision", at(2026, 8, 14), "clerk")  # sent already


def test_the_termination_decision_is_due_after_the_case_closed(desk: Desk) -> None:
    """Terminated Fri 28/08/2026: Sat 29, Sun 30, 31/08-02/09 off: Thu 03/09 (1), Fri 04 (2),
    Mon 07/09/2026 (3). The tick of Tue 08/09 marks it overdue on the final case."""
    case = verifying_complaint(desk, at(2026, 8, 3))
    case = desk.fire(case, "terminate", at(2026, 8, 28), "director", **REASON)
    assert case.state == "terminated"
    notice = case.deadlines["termination_notice"]
    assert (notice.status, notice.due_date) == ("running", D(2026, 9, 7))
    desk.tick(at(2026, 9, 8))
    assert desk.engine.get(case.id).deadlines["termination_notice"].status == "missed"
    sent = desk.fire(case, "send_termination_decision", at(2026, 9, 8), "clerk")
    assert sent.state == "terminated" and sent.deadlines["termination_notice"].status == "missed"


def test_a_withdrawal_after_acceptance_owes_the_termination_decision(desk: Desk) -> None:
    """Withdrawn Fri 28/08/2026 after acceptance: due Mon 07/09/2026, as for a termination."""
    case = verifying_complaint(desk, at(2026, 8, 3))
    case = desk.fire(case, "withdraw", at(2026, 8, 28), "clerk")
    assert case.deadlines["termination_notice"].due_date == D(2026, 9, 7)
    sent = desk.fire(case, "send_termination_decision", at(2026, 9, 7), "clerk")
    assert sent.deadlines["termination_notice"].status == "met"


def test_no_termination_decision_for_a_withdrawal_before_acceptance_or_before_july(desk: Desk) -> None:
    """Withdrawn at intake (nothing was opened to terminate), or after acceptance on 15/06/2026."""
    early = desk.open("complaint", at(2026, 8, 3))
    early = desk.fire(early, "withdraw", at(2026, 8, 4), "clerk")
    assert "termination_notice" not in early.deadlines
    june = verifying_complaint(desk, at(2026, 6, 1))
    june = desk.fire(june, "withdraw", at(2026, 6, 15), "clerk")
    assert "termination_notice" not in june.deadlines
    desk.refused(june, "send_termination_decision", at(2026, 6, 16), "clerk")


# =============================================================== L6: the NA forwarder is told the result


def decided(desk: Desk, when: datetime, **fields: Any) -> Case:
    case = verifying_complaint(desk, at(2026, 8, 3), **fields)
    case = desk.fire(case, "draft_decision", when, "inspector")
    return desk.fire(case, "decide", when, "head_of_unit")


def test_the_na_forwarder_is_told_within_seven_working_days_even_after_an_appeal(desk: Desk) -> None:
    """Decided Fri 28/08/2026: 31/08-02/09 off: Thu 03/09 (1), Fri 04 (2), Mon 07 (3), Tue 08 (4),
    Wed 09 (5), Thu 10 (6), Fri 11/09/2026 (7). Appealed Thu 03/09 (final): still owed; told 11/09."""
    case = decided(desk, at(2026, 8, 28), forwarded_by_na=True)
    assert case.deadlines["na_forwarder_notice"].due_date == D(2026, 9, 11)
    case = desk.fire(case, "appeal", at(2026, 9, 3), "clerk")
    assert case.state == "escalated_second_instance"
    told = desk.fire(case, "notify_na_forwarder", at(2026, 9, 11, 16), "clerk")
    assert told.deadlines["na_forwarder_notice"].status == "met"
    desk.refused(told, "notify_na_forwarder", at(2026, 9, 11, 17), "clerk")


def test_no_notice_when_not_forwarded_by_the_na(desk: Desk) -> None:
    case = decided(desk, at(2026, 8, 28))
    assert "na_forwarder_notice" not in case.deadlines
    desk.refused(case, "notify_na_forwarder", at(2026, 9, 1), "clerk")
