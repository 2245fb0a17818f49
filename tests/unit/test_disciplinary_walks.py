"""Walks through the main paths of the disciplinary complaint (LKN Chương IV), and its refusals."""

from __future__ import annotations

import pytest

from tests.unit.workflow_walker import REASON, Walk, budget_for

KIND = "disciplinary_complaint"
HEARD = (("accept", "inspector"), ("start_verification", "inspector"), ("schedule_dialogue", "inspector"),
         ("hold_dialogue", "inspector"), ("draft_decision", "inspector"))


class TestDisciplinaryWalks:
    def test_first_instance_with_its_dialogue_then_a_second_complaint(self) -> None:
        """Accepted, verified, heard in a dialogue, decided, delivered; the official appeals."""
        walk = Walk(KIND).run(*HEARD, ("decide", "director"), ("send_decision", "clerk"),
                              ("confirm_delivery", "clerk"), ("appeal", "clerk"))
        assert walk.trail == ["intake_check", "accepted", "verifying", "dialogue_scheduled", "dialogue_held",
                              "decision_drafting", "decided", "decision_sent", "appeal_window",
                              "escalated_second_instance"]
        assert walk.final

    def test_the_dialogue_cannot_be_skipped(self) -> None:
        """No shortcut from verification to a draft decision (LKN Điều 53, Điều 55 k3)."""
        walk = Walk(KIND).run(("accept", "inspector"), ("start_verification", "inspector"))
        assert walk.refused("draft_decision", "inspector") == "state"
        assert walk.refused("decide", "director") == "state"

    def test_second_instance_ends_closed_no_third_complaint(self) -> None:
        """A second-instance case is decided and closed; a further complaint is refused."""
        walk = Walk(KIND, instance=2, parent_case_id="KL-2026-001").run(
            *HEARD, ("decide", "director"), ("send_decision", "clerk"))
        assert walk.refused("appeal", "clerk") == "guard"
        assert walk.refused("sue", "clerk") == "guard"  # not a dismissal
        walk.run(("close", "inspector"))
        assert (walk.state, walk.final) == ("closed", True)

    def test_a_dismissal_may_go_to_court(self) -> None:
        """A dismissal (buộc thôi việc) may be taken to court after the first decision."""
        walk = Walk(KIND, dismissal=True).run(*HEARD, ("decide", "head_of_unit"), ("send_decision", "clerk"),
                                              ("sue", "clerk"), ("close", "inspector"))
        assert walk.trail[-3:] == ["decision_sent", "in_court", "closed"]

    def test_the_first_case_is_not_closed_while_the_window_runs(self) -> None:
        """Delivered the day of the walk: the 10-day window runs, so `close` is refused."""
        walk = Walk(KIND).run(*HEARD, ("decide", "director"), ("send_decision", "clerk"),
                              ("confirm_delivery", "clerk"))
        assert walk.refused("close", "inspector") == "guard"
        walk.run(("window_expired", "system"))
        assert walk.state == "appeal_window"

    def test_reject_transfer_withdraw(self) -> None:
        """The intake's ways out, and a withdrawal at any working step (LKN Điều 10)."""
        assert Walk(KIND).run(("reject", "inspector", REASON)).state == "rejected"
        assert Walk(KIND).run(("transfer", "clerk", {"to_body": "Sở Nội vụ"})).state == "transferred"
        assert Walk(KIND).run(*HEARD[:3], ("withdraw", "clerk")).state == "terminated"
        assert Walk(KIND).run(*HEARD, ("decide", "director")).refused("withdraw", "clerk") == "state"

    @pytest.mark.parametrize("event", ["mark_complex", "extend"])
    def test_complex_sets_the_longer_budget_once(self, event: str) -> None:
        """`mark_complex` / `extend` set `complex` (45 days, LKN Điều 50), once, as head of unit."""
        walk = Walk(KIND).run(("accept", "inspector"), ("start_verification", "inspector"))
        assert budget_for(KIND, "resolution", **walk.fields) == (30, "calendar")
        walk.run((event, "head_of_unit", REASON))
        assert (walk.state, walk.fields["complex"]) == ("verifying", True)
        assert budget_for(KIND, "resolution", **walk.fields) == (45, "calendar")
        assert walk.refused(event, "head_of_unit", **REASON) == "guard"

    @pytest.mark.parametrize(
        ("fields", "days"),
        [({}, 15), ({"instance": 2}, 10), ({"instance": 2, "dismissal": True}, 30), ({"dismissal": True}, 15)],
    )
    def test_limitation_budgets(self, fields: dict[str, object], days: int) -> None:
        """LKN Điều 48: 15 days (first), 10 days (second), 30 days (second, dismissal)."""
        assert budget_for(KIND, "limitation", **fields) == (days, "calendar")

    def test_only_officers_decide(self) -> None:
        """A clerk does not accept or decide."""
        walk = Walk(KIND)
        assert walk.refused("accept", "clerk") == "role"
        walk.run(*HEARD)
        assert walk.refused("decide", "inspector") == "role"
