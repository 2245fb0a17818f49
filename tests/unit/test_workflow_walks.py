"""Walks through the main paths of every shipped workflow, and the refusals on the way."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import ValidationError
from tests.unit.workflow_walker import (
    JULY,
    REASON,
    Walk,
    budget_for,
    wf,
)

# --------------------------------------------------------------------------- complaint walks


class TestComplaintWalks:
    def test_first_instance_without_dialogue(self) -> None:
        """A first-instance complaint may go from verification to a decision, then take effect."""
        walk = Walk("complaint").run(
            ("accept", "inspector"), ("start_verification", "inspector"),
            ("draft_decision", "inspector"), ("decide", "head_of_unit"),
            ("send_decision", "clerk"), ("confirm_delivery", "clerk"),
            ("become_effective", "system"), ("enforce", "head_of_unit"), ("close", "inspector"),
        )
        assert walk.trail == ["intake_check", "accepted", "verifying", "decision_drafting", "decided",
                              "decision_sent", "appeal_window", "legally_effective", "enforcing", "closed"]
        assert walk.final

    def test_first_instance_with_dialogue_then_appeal(self) -> None:
        """After a dialogue and a decision the complainant appeals: the case escalates."""
        walk = Walk("complaint").run(
            ("accept", "head_of_unit"), ("start_verification", "inspector"),
            ("schedule_dialogue", "inspector"), ("hold_dialogue", "inspector"),
            ("draft_decision", "inspector"), ("decide", "director"), ("send_decision", "inspector"),
            ("appeal", "clerk"),
        )
        assert (walk.state, walk.final) == ("escalated_second_instance", True)

    def test_second_instance_must_hold_a_dialogue(self) -> None:
        """At the second instance the shortcut past the dialogue is refused (LKN Điều 39)."""
        walk = Walk("complaint", instance=2, parent_case_id="KN-2026-001").run(
            ("accept", "inspector"), ("start_verification", "inspector"))
        assert walk.refused("draft_decision", "inspector") == "guard"
        walk.run(("schedule_dialogue", "inspector"), ("hold_dialogue", "director"),
                 ("draft_decision", "inspector"))
        assert walk.refused("decide", "head_of_unit") == "guard"  # the Director decides (Điều 20)
        walk.run(("decide", "director"), ("send_decision", "clerk"))
        assert walk.refused("appeal", "clerk") == "guard"  # no third instance
        walk.run(("sue", "clerk"), ("close", "inspector"))
        assert walk.trail[-3:] == ["decision_sent", "in_court", "closed"]

    def test_decision_takes_effect_straight_from_decided(self) -> None:
        """The legal-effect timer may fire before the sending was recorded."""
        walk = Walk("complaint").run(
            ("accept", "inspector"), ("start_verification", "inspector"),
            ("draft_decision", "inspector"), ("decide", "head_of_unit"), ("become_effective", "system"))
        assert walk.state == "legally_effective"
        walk.run(("close", "head_of_unit"))
        assert walk.final

    @pytest.mark.parametrize("where", [["start_verification"],
                                       ["start_verification", "schedule_dialogue", "hold_dialogue"]])
    def test_suspend_resume_returns_to_previous(self, where: list[str]) -> None:
        """Resuming returns to the state the case was suspended in (from 01/07/2026: LKN Điều 11a)."""
        walk = Walk("complaint", at=JULY).run(("accept", "inspector"), *[(e, "inspector") for e in where])
        before = walk.state
        walk.run(("suspend", "head_of_unit", REASON))
        assert walk.state == "suspended"
        assert walk.refused("mark_complex", "inspector", **REASON) == "state"
        assert walk.refused("decide", "director") == "state"
        walk.run(("resume", "director"))
        assert before == walk.state

    def test_suspend_twice_still_resumes_to_work(self) -> None:
        """A second suspension after resuming again returns to the working state."""
        walk = Walk("complaint", at=JULY).run(("accept", "inspector"), ("start_verification", "inspector"),
                                     ("suspend", "head_of_unit", REASON), ("resume", "head_of_unit"),
                                     ("schedule_dialogue", "inspector"),
                                     ("suspend", "director", REASON), ("resume", "director"))
        assert walk.state == "dialogue_scheduled"

    @pytest.mark.parametrize("event", ["mark_complex", "extend"])
    def test_complexity_is_marked_once(self, event: str) -> None:
        """`mark_complex` and `extend` set `complex` and cannot be repeated."""
        walk = Walk("complaint").run(("accept", "inspector"), ("start_verification", "inspector"))
        walk.fire(event, "head_of_unit", **REASON)
        assert (walk.state, walk.fields["complex"]) == ("verifying", True)
        assert walk.refused("extend", "director", **REASON) == "guard"
        assert walk.refused("mark_complex", "inspector", **REASON) == "guard"
        assert budget_for("complaint", "resolution", **walk.fields) == (45, "calendar")

    def test_withdraw_and_terminate(self) -> None:
        """Withdrawal and termination both end in `terminated`; termination needs a reason."""
        assert Walk("complaint").run(("withdraw", "clerk")).state == "terminated"  # LKN Điều 10: any day
        walk = Walk("complaint", at=JULY).run(("accept", "inspector"))
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("terminate", "director")
        walk.run(("terminate", "director", REASON))
        assert walk.final
        # before 01/07/2026 (the walk's default day, 02/03/2026) there is no termination (NĐ 155/2026 Điều 22 k1)
        assert Walk("complaint").run(("accept", "inspector")).refused("terminate", "director", **REASON) == "guard"

    def test_refusals(self) -> None:
        """Wrong role, wrong state, missing payload: each refused without changing the case."""
        walk = Walk("complaint")
        assert walk.refused("accept", "clerk") == "role"
        assert walk.refused("decide", "director") == "state"
        assert walk.refused("resume", "director") == "state"
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("reject", "inspector")
        with pytest.raises(ValidationError, match=r"payload\.to_body"):
            walk.fire("transfer", "clerk")
        walk.run(("accept", "inspector"), ("start_verification", "inspector"),
                 ("draft_decision", "inspector"), ("decide", "head_of_unit"))
        assert walk.refused("become_effective", "head_of_unit") == "role"
        assert walk.refused("withdraw", "clerk") == "state"
        assert Walk("complaint").run(("reject", "inspector", REASON)).state == "rejected"

    def test_fields_are_validated(self) -> None:
        """An instance other than 1 or 2 is refused when the case is opened."""
        with pytest.raises(ValidationError, match=r"fields\.instance"):
            Walk("complaint", instance=3)


# --------------------------------------------------------------------------- denunciation walks


class TestDenunciationWalks:
    def accepted(self) -> Walk:
        """A denunciation accepted and under verification."""
        return Walk("denunciation").run(("start_check", "clerk"), ("accept", "inspector"),
                                        ("notify_parties", "clerk"), ("start_verification", "inspector"))

    def test_withdraw_override_then_conclude(self) -> None:
        """A withdrawal is overridden: the case resumes verifying and is concluded and closed."""
        walk = self.accepted().run(("withdraw", "clerk"))
        assert walk.state == "withdrawal_requested"
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("override_withdrawal", "director")
        assert walk.refused("override_withdrawal", "inspector", **REASON) == "role"
        walk.run(("override_withdrawal", "director", REASON))
        assert walk.state == "verifying"
        walk.run(("conclude", "director"), ("send_conclusion", "clerk"), ("act", "head_of_unit"),
                 ("close", "inspector"))
        assert (walk.state, walk.final) == ("closed", True)

    def test_withdraw_then_terminate(self) -> None:
        """A withdrawal that is accepted terminates the case."""
        walk = self.accepted().run(("withdraw", "inspector"), ("terminate", "head_of_unit", REASON))
        assert (walk.state, walk.final) == ("terminated", True)

    def test_withdrawal_while_suspended_is_decided_at_once(self) -> None:
        """A suspended case is terminated on withdrawal or stays suspended: no nested detour."""
        walk = self.accepted().run(("suspend", "director", REASON))
        assert walk.refused("withdraw", "clerk") == "state"
        walk.run(("resume", "director"))
        assert walk.state == "verifying"
        walk.run(("suspend", "director", REASON), ("terminate", "director", REASON))
        assert walk.final

    def test_extensions_at_most_twice(self) -> None:
        """`extend` needs a reason, works twice (complex, then especially complex), never thrice."""
        walk = self.accepted()
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("extend", "director")
        walk.run(("extend", "director", REASON))
        assert (walk.fields["complex"], walk.fields["especially_complex"]) == (True, False)
        walk.run(("extend", "head_of_unit", REASON))
        assert walk.fields["especially_complex"]
        assert walk.refused("extend", "director", **REASON) == "bound"  # LTC Điều 30: the count, before the guard
        assert walk.refused("extend", "inspector", **REASON) == "role"
        assert walk.state == "verifying"

    def test_intake_extension_once(self) -> None:
        """The intake check is extended at most once (7 + 3 working days)."""
        walk = Walk("denunciation").run(("start_check", "clerk"), ("extend_intake", "inspector", REASON))
        assert (walk.state, walk.fields["intake_extended"]) == ("intake_check", True)
        assert walk.refused("extend_intake", "inspector", **REASON) == "guard"

    def test_transfer_once_per_content(self) -> None:
        """A content already transferred once is not transferred again."""
        assert Walk("denunciation").run(
            ("transfer", "clerk", {"to_body": "Thanh tra tỉnh"})).state == "transferred"
        walk = Walk("denunciation", transferred_before=True)
        assert walk.refused("transfer", "clerk", to_body="Thanh tra tỉnh") == "guard"

    def test_not_accepted_needs_a_reason(self) -> None:
        """Rejecting a denunciation requires a reason and ends in `not_accepted`."""
        walk = Walk("denunciation").run(("start_check", "clerk"))
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("reject", "inspector")
        assert walk.run(("reject", "inspector", REASON)).state == "not_accepted"

    def test_criminal_referral_and_further_denunciation(self) -> None:
        """After a conclusion: a further denunciation can be upheld; criminal signs go to police."""
        walk = self.accepted().run(("conclude", "head_of_unit"))
        assert walk.refused("refer_police", "inspector") == "role"
        walk.run(("receive_further_denunciation", "clerk"))
        assert walk.state == "further_denunciation_review"
        walk.run(("uphold_conclusion", "director"))
        assert walk.state == "concluded"
        walk.run(("refer_police", "director"))
        assert (walk.state, walk.final) == ("referred_criminal", True)

    def test_further_denunciation_reopens_verification(self) -> None:
        """Re-resolution after a further denunciation goes back to verification."""
        walk = self.accepted().run(("conclude", "head_of_unit"), ("act", "director"),
                                   ("receive_further_denunciation", "clerk"),
                                   ("re_resolve", "director", REASON))
        assert walk.state == "verifying"

    def test_refusals(self) -> None:
        """Conclusion only from verification, by a head, once notified; closing only once sent."""
        walk = Walk("denunciation")
        assert walk.refused("conclude", "director") == "state"
        unnotified = Walk("denunciation").run(("start_check", "clerk"), ("accept", "inspector"),
                                              ("start_verification", "inspector"))
        assert unnotified.refused("conclude", "director") == "guard"  # LTC Điều 29 k3 first
        walk = self.accepted()
        assert walk.refused("conclude", "inspector") == "role"
        walk.run(("conclude", "director"))
        assert walk.refused("withdraw", "clerk") == "state"
        walk.run(("act", "director"))
        assert walk.refused("close", "inspector") == "guard"  # the conclusion is sent first
        walk.run(("send_conclusion", "clerk"), ("close", "inspector"))
        assert walk.final
        assert walk.refused("suspend", "director", **REASON) == "state"


# --------------------------------------------------------------------------- letter walks


class TestLetterWalks:
    @pytest.mark.parametrize(
        ("event", "payload", "target"),
        [
            ("accept", {"target_kind": "complaint"}, "proposed_accept"),
            ("accept", {"target_kind": "denunciation"}, "proposed_accept"),
            ("guide", {}, "guided"),
            ("transfer", {"to_body": "UBND xã An Phú"}, "transferred"),
            ("merge", {"target_case_id": "KN-2026-0042"}, "merged"),
            ("no_action", {}, "no_action"),
            ("route_election", {}, "routed_election"),
            ("inspect_only", {}, "inspect_only"),
            ("urge_lower_level", {}, "urging_lower_level"),
        ],
    )
    def test_each_final_outcome(self, event: str, payload: dict[str, Any], target: str) -> None:
        """Each classification outcome ends the letter in its state."""
        walk = Walk("letter").run(("classify", "clerk"), (event, "clerk", payload))
        assert (target, True) == (walk.state, walk.final)

    def test_file_then_retention_ends(self) -> None:
        """A filed letter is proposed for destruction by the retention timer only."""
        walk = Walk("letter").run(("classify", "clerk"), ("file", "clerk"))
        assert (walk.state, walk.final) == ("filed", False)
        assert walk.refused("propose_destruction", "head_of_unit") == "role"
        walk.run(("propose_destruction", "system"))
        assert walk.final
        assert wf("letter").definition.deadlines["retention"].on_due == "propose_destruction"

    def test_split(self) -> None:
        """A mixed letter waits for the split letters, or is filed."""
        walk = Walk("letter").run(("classify", "clerk"), ("split", "inspector"))
        assert walk.state == "split_pending"
        assert walk.run(("complete_split", "clerk")).state == "split_done"
        walk = Walk("letter").run(("classify", "clerk"), ("split", "inspector"), ("file", "clerk"))
        assert walk.state == "filed"

    def test_guidance_and_transfer_only_once(self) -> None:
        """Guidance and transfer happen once per content; an anonymous letter is not accepted."""
        walk = Walk("letter", guided_before=True, transferred_before=True, anonymous=True)
        walk.run(("classify", "clerk"))
        assert walk.refused("guide", "clerk") == "guard"
        assert walk.refused("transfer", "clerk", to_body="Sở Tài chính") == "guard"
        assert walk.refused("accept", "clerk", target_kind="denunciation") == "guard"
        assert walk.run(("inspect_only", "inspector")).state == "inspect_only"

    def test_refusals(self) -> None:
        """Outcomes need classification first, a known kind, a target case and the right role."""
        walk = Walk("letter")
        assert walk.refused("accept", "clerk", target_kind="complaint") == "state"
        walk.run(("classify", "clerk"))
        assert walk.refused("guide", "director") == "role"
        assert walk.refused("classify", "clerk") == "state"
        with pytest.raises(ValidationError, match=r"payload\.target_kind"):
            walk.fire("accept", "clerk", target_kind="lawsuit")
        with pytest.raises(ValidationError, match=r"payload\.target_kind"):
            walk.fire("accept", "clerk")
        with pytest.raises(ValidationError, match=r"payload\.target_case_id"):
            walk.fire("merge", "clerk")
        assert walk.state == "classifying"

    def test_process_deadline_stops_on_every_outcome(self) -> None:
        """Every outcome out of `classifying` meets the processing clock and the visitor reply."""
        w = wf("letter")
        outcomes = set(w.events_from("classifying"))
        deadlines = w.definition.deadlines
        assert outcomes == set(deadlines["process"].stops_on)
        assert outcomes == set(deadlines["reply_visitor"].stops_on)


# --------------------------------------------------------------------------- petition walks


class TestPetitionWalks:
    def test_answer_path(self) -> None:
        """Classified, accepted, assigned, answered, closed."""
        walk = Walk("petition").run(
            ("classify", "clerk"), ("accept", "inspector"),
            ("assign", "head_of_unit", {"unit": "Phòng Quản lý đất đai"}),
            ("answer", "inspector"), ("close", "clerk"))
        assert walk.trail == ["received", "classified", "in_jurisdiction", "assigned", "answered", "closed"]

    def test_transfer_path(self) -> None:
        """Transferred out of jurisdiction, feedback awaited, then closed."""
        walk = Walk("petition").run(
            ("classify", "clerk"), ("transfer", "clerk", {"to_body": "Sở Xây dựng"}),
            ("await_feedback", "clerk"), ("close", "inspector"))
        assert walk.trail == ["received", "classified", "transferred", "awaiting_feedback", "closed"]

    def test_suspend_resume_and_withdraw(self) -> None:
        """Suspension returns to the assigned unit; withdrawal ends the petition."""
        walk = Walk("petition").run(("classify", "clerk"), ("accept", "inspector"),
                                    ("assign", "director", {"unit": "Văn phòng"}),
                                    ("suspend", "director", REASON), ("resume", "head_of_unit"))
        assert walk.state == "assigned"
        assert walk.run(("withdraw", "clerk")).state == "withdrawn"

    def test_refusals(self) -> None:
        """Answering needs an assignment; assigning needs a unit and a head."""
        walk = Walk("petition").run(("classify", "clerk"), ("accept", "inspector"))
        assert walk.refused("answer", "inspector") == "state"
        assert walk.refused("assign", "clerk", unit="Văn phòng") == "role"
        with pytest.raises(ValidationError, match=r"payload\.unit"):
            walk.fire("assign", "director")


# --------------------------------------------------------------------------- reception walks


class TestReceptionWalks:
    def test_single_visitor(self) -> None:
        """One visitor: identity checked, heard, guided, closed; no representatives to ask for."""
        walk = Walk("reception")
        assert walk.refused("request_representatives", "clerk") == "guard"
        walk.run(("verify_identity", "clerk"), ("hear", "inspector"), ("guide", "inspector"),
                 ("close", "clerk"))
        assert walk.final

    def test_crowded_delegation(self) -> None:
        """A delegation of 12 appoints at most 5 representatives before being heard."""
        walk = Walk("reception", delegation_size=12, petitioner_count=12)
        assert walk.refused("verify_identity", "clerk") == "guard"
        walk.run(("request_representatives", "clerk"))
        assert walk.refused("appoint_representatives", "clerk", count=6) == "guard"
        assert walk.refused("appoint_representatives", "clerk", count=0) == "guard"
        walk.run(("appoint_representatives", "clerk", {"count": 5}), ("verify_identity", "clerk"),
                 ("hear", "head_of_unit"), ("take_letter", "clerk"), ("close", "clerk"))
        assert walk.trail == ["checked_in", "representatives_requested", "representatives_appointed",
                              "identity_verified", "heard", "letter_taken", "closed"]

    def test_small_delegation_has_at_most_two_representatives(self) -> None:
        """5 to 10 people appoint 1 or 2 representatives (LTCD Điều 29)."""
        walk = Walk("reception", delegation_size=7).run(("request_representatives", "inspector"))
        assert walk.refused("appoint_representatives", "clerk", count=3) == "guard"
        assert walk.run(
            ("appoint_representatives", "clerk", {"count": 2})).state == "representatives_appointed"

    def test_representatives_appointed_before_arrival(self) -> None:
        """A delegation that arrives with a written appointment goes straight to identity checks."""
        walk = Walk("reception", delegation_size=8, representatives=2)
        assert walk.run(("verify_identity", "clerk")).state == "identity_verified"

    def test_refusals(self) -> None:
        """Refusal needs a reason; the written refusal notice is issued by a head."""
        walk = Walk("reception")
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("refuse", "clerk")
        assert Walk("reception").run(("refuse", "clerk", REASON)).state == "refused"
        walk.run(("refuse_persistent", "clerk", REASON))
        assert walk.state == "refusal_notice_pending"
        assert walk.refused("send_refusal_notice", "clerk") == "role"
        assert walk.refused("close", "clerk") == "state"
        walk.run(("send_refusal_notice", "head_of_unit"), ("close", "clerk"))
        assert walk.final

