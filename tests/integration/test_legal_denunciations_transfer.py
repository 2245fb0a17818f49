"""B6 (issue 10; LEGAL-AUDIT.md §2, rows L4/T2): a lack of jurisdiction found after a denunciation
was opened starts LTC Điều 24 k2's 5-working-day transfer clock from the day of receipt.

Before the fix `transfer` started only when `out_of_jurisdiction` was set at opening and no event set
it later: only `acceptance` ran, and no `find_out_of_jurisdiction` existed. A clock started by the
finding and counted from the finding's own day would be two working days late in the dates below.
Working days skip weekends and days off; Saturday 22/08/2026 is worked (swapped for Mon 31/08).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from engine import Case, NotAllowedError
from tests import legal_desk
from tests.legal_desk import D

FINDING: dict[str, Any] = {"reason": "Nội dung thuộc thẩm quyền của UBND tỉnh"}


def at(m: int, d: int, hh: int = 9) -> datetime:
    """An aware moment of 2026 in Asia/Ho_Chi_Minh."""
    return legal_desk.at(2026, m, d, hh)


class Desk(legal_desk.KindDesk):
    """Denunciations against the Phòng Tài nguyên; an act names its role only when it is not the inspector's."""

    kind = "denunciation"
    respondent = "Phòng Tài nguyên"
    petitioner = "Người tố cáo"

    def fire(self, case: Case, event: str, when: datetime, role: str = "inspector", *,
             occurred_at: datetime | None = None, **payload: Any) -> Case:
        return super().fire(case, event, when, role, occurred_at=occurred_at, **payload)


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_b6_lack_of_jurisdiction_found_later_counts_5_working_days_from_receipt(desk: Desk) -> None:
    case = desk.open(at(8, 19))  # Wed 19/08/2026
    assert "transfer" not in case.deadlines
    case = desk.fire(case, "start_check", at(8, 20), "clerk")
    case = desk.fire(case, "find_out_of_jurisdiction", at(8, 21, 15), **FINDING)  # found Fri 21/08
    dl = case.deadlines["transfer"]
    # 5 WD from receipt, Wed 19/08: Thu 20 (1), Fri 21 (2), Sat 22 (3, worked), Mon 24 (4), Tue 25 (5)
    # -> Tue 25/08 (from the finding, Fri 21/08, it would be Thu 27/08)
    assert (case.state, case.fields["out_of_jurisdiction"]) == ("intake_check", True)
    assert (dl.status, dl.due_date, dl.amount, dl.unit) == ("running", D(2026, 8, 25), 5, "working")
    assert dl.started_at.date() == D(2026, 8, 19)
    assert case.deadlines["acceptance"].status == "running"  # the intake clock goes on
    case = desk.fire(case, "transfer", at(8, 25, 16), "clerk", to_body="UBND tỉnh")
    assert (case.state, case.deadlines["transfer"].status) == ("transferred", "met")


def test_b6_a_late_finding_does_not_buy_time(desk: Desk) -> None:
    case = desk.open(at(8, 19))
    case = desk.fire(case, "find_out_of_jurisdiction", at(8, 24, 10), **FINDING)  # Mon 24/08, in `received`
    assert case.deadlines["transfer"].due_date == D(2026, 8, 25)  # still Tue 25/08, counted from receipt
    assert desk.ticked(case, at(8, 26, 8)).deadlines["transfer"].status == "missed"
    case = desk.fire(case, "transfer", at(8, 26, 10), "clerk", to_body="UBND tỉnh")
    assert (case.state, case.deadlines["transfer"].status) == ("transferred", "missed")


def test_b6_the_finding_is_recorded_once_and_transfer_stays_once_only(desk: Desk) -> None:
    case = desk.open(at(8, 19), transferred_before=True)
    case = desk.fire(case, "find_out_of_jurisdiction", at(8, 20), **FINDING)
    before = desk.engine.get(case.id).version
    for event, payload in (("find_out_of_jurisdiction", FINDING), ("transfer", {"to_body": "UBND tỉnh"})):
        with pytest.raises(NotAllowedError):  # found once; transferred once for the same content (TT 05 Điều 14 k1)
            desk.fire(case, event, at(8, 21), "clerk" if event == "transfer" else "inspector", **payload)
    assert desk.engine.get(case.id).version == before


def test_b6_known_at_opening_still_counts_from_receipt(desk: Desk) -> None:
    dl = desk.open(at(8, 19), out_of_jurisdiction=True).deadlines["transfer"]
    assert (dl.status, dl.due_date) == ("running", D(2026, 8, 25))
