"""Tests for the shipped workflows/: they load, speak the DESIGN vocabulary, cite the law, and walk.

The walker below fires events the way the engine does (candidates, role, payload, CEL guard,
``@previous``, ``set``) without a store, so that the definitions can be checked before the
service exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import PREVIOUS
from engine.errors import DefinitionError, ValidationError
from engine.loader import load_directory, load_file
from engine.machines import CompiledWorkflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ROLES = {"clerk", "inspector", "head_of_unit", "director", "system"}
CASE_EVENTS = {"accept", "reject", "transfer", "suspend", "resume", "withdraw"}


@cache
def workflows() -> dict[str, CompiledWorkflow]:
    """Every shipped workflow, loaded once."""
    return load_directory(WORKFLOWS)


def wf(name: str) -> CompiledWorkflow:
    """One shipped workflow by name."""
    return workflows()[name]


# --------------------------------------------------------------------------- the walker


class Refused(Exception):
    """The walker refused an event: ``why`` is ``state``, ``role`` or ``guard``."""

    def __init__(self, why: str, event: str, state: str) -> None:
        self.why = why
        super().__init__(f"{event!r} refused in {state!r}: {why}")


class Walk:
    """A case reduced to what a transition reads and writes: state, previous state, fields."""

    def __init__(self, name: str, *, channel: str = "post", petitioner_count: int = 1,
                 **fields: Any) -> None:
        self.w = wf(name)
        self.state: str = self.w.definition.initial
        self.previous: str | None = None
        self.channel, self.petitioner_count = channel, petitioner_count
        self.fields = self.w.validate_fields(fields)
        self.trail = [self.state]

    def context(self, role: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The names a guard or condition may read."""
        return {"fields": self.fields, "payload": dict(payload), "role": role,
                "case": {"state": self.state, "channel": self.channel,
                         "petitioner_count": self.petitioner_count, "kind": self.w.name}}

    def fire(self, event: str, role: str, **payload: Any) -> Walk:
        """Take the first candidate whose role, payload and guard pass, or raise."""
        candidates = self.w.candidates(event, self.state, self.previous)
        if not candidates:
            raise Refused("state", event, self.state)
        candidates = [c for c in candidates if role in c.spec.roles]
        if not candidates:
            raise Refused("role", event, self.state)
        for c in candidates:
            data = c.validate_payload(payload)
            if c.guard is not None and not c.guard.evaluate(self.context(role, data)):
                continue
            target = self.previous if c.spec.to == PREVIOUS else c.spec.to
            assert target is not None
            updates = {
                key: data[value.removeprefix("$payload.")]
                if isinstance(value, str) and value.startswith("$payload.") else value
                for key, value in c.spec.set.items()
            }
            self.fields = self.w.validate_fields({**self.fields, **updates})
            self.previous, self.state = self.state, target
            self.trail.append(target)
            return self
        raise Refused("guard", event, self.state)

    def run(self, *steps: tuple[Any, ...]) -> Walk:
        """Fire ``(event, role[, payload])`` steps in order."""
        for event, role, *rest in steps:
            self.fire(event, role, **(rest[0] if rest else {}))
        return self

    def refused(self, event: str, role: str, **payload: Any) -> str:
        """Assert that ``event`` is refused and changes nothing; return why."""
        before = (self.state, self.previous, dict(self.fields))
        with pytest.raises(Refused) as info:
            self.fire(event, role, **payload)
        assert before == (self.state, self.previous, self.fields)
        return info.value.why

    @property
    def final(self) -> bool:
        """Whether the case is in a final state."""
        return self.w.definition.states[self.state].final


def condition(w: CompiledWorkflow, source: str, walk: Walk) -> bool:
    """Evaluate a deadline condition compiled by the loader against a walk's case."""
    return w.conditions[source].evaluate(walk.context("system", {}))


def budget_for(name: str, deadline: str, **fields: Any) -> tuple[int, str]:
    """The budget a deadline's variants choose for ``fields`` (first match wins)."""
    w = wf(name)
    spec = w.definition.deadlines[deadline]
    walk = Walk(name, **fields)
    for variant in spec.variants:
        if condition(w, variant.when, walk):
            return variant.budget.amount, variant.budget.unit
    return spec.budget.amount, spec.budget.unit


REASON = {"reason": "Quyết định số 12/QĐ"}


#: Final states a clock could reach unstopped if guards were ignored; the guard named here
#: requires the stopping event first (tested in the walks below).
GUARDED = {
    ("denunciation", "notify_acceptance"): {"closed", "referred_criminal"},  # conclude: parties_notified
    ("denunciation", "send_conclusion"): {"closed"},  # close: conclusion_sent
}


def final_states_reached(w: CompiledWorkflow, starts_on: list[str], stops_on: list[str]) -> set[str]:
    """Final states reachable from where a clock starts without any of its stopping events."""
    initial = (w.definition.initial, None)

    def steps(pair: tuple[str, str | None], skip: list[str]) -> list[tuple[str, tuple[str, str | None]]]:
        state, previous = pair
        return [(event, (previous if c.spec.to == PREVIOUS else c.spec.to, state))
                for event in w.events_from(state) if event not in skip
                for c in w.candidates(event, state, previous)]

    reachable, frontier = {initial}, [initial]
    starts = {initial} if "opened" in starts_on else set()
    while frontier:
        for event, pair in steps(frontier.pop(), []):
            if event in starts_on:
                starts.add(pair)
            if pair not in reachable:
                reachable.add(pair)
                frontier.append(pair)
    seen, frontier, ends = set(starts), list(starts), set()
    while frontier:
        pair = frontier.pop()
        if w.definition.states[pair[0]].final:
            ends.add(pair[0])
            continue
        for _, nxt in steps(pair, stops_on):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return ends


# --------------------------------------------------------------------------- loading


class TestLoading:
    def test_every_file_loads_under_its_own_name(self) -> None:
        """Each workflows/*.yaml loads and declares the workflow named like the file."""
        files = sorted(p.stem for p in WORKFLOWS.iterdir() if p.suffix in {".yaml", ".yml"})
        assert files == sorted(workflows())
        assert {"letter", "complaint", "denunciation", "petition", "reception"} == set(workflows())
        for stem in files:
            assert stem == load_file(WORKFLOWS / f"{stem}.yaml").name

    @pytest.mark.parametrize(
        ("name", "events", "deadlines"),
        [
            ("complaint", {*CASE_EVENTS, "decide", "extend"}, {"acceptance", "resolution"}),
            ("denunciation", {*CASE_EVENTS, "conclude", "extend"}, {"acceptance", "resolution"}),
            ("petition", {*CASE_EVENTS, "answer"}, {"resolution"}),
            ("letter", {"accept", "guide", "transfer", "file", "merge", "split", "no_action",
                        "route_election", "inspect_only"}, {"process", "reply_visitor"}),
            ("reception", {"verify_identity", "hear", "request_representatives", "take_letter",
                           "guide", "refuse", "close"}, {"reply"}),
        ],
    )
    def test_design_vocabulary(self, name: str, events: set[str], deadlines: set[str]) -> None:
        """The minimum events and deadline names of DESIGN.md §3 are present."""
        definition = wf(name).definition
        assert events <= set(definition.events())
        assert deadlines <= set(definition.deadlines)

    @pytest.mark.parametrize("name", ["complaint", "denunciation"])
    def test_extend_requires_a_reason(self, name: str) -> None:
        """Every `extend` transition requires a `reason` payload."""
        extends = [t for t in wf(name).definition.transitions if t.event == "extend"]
        assert extends
        assert all(t.payload["reason"].required for t in extends)

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception"])
    def test_every_deadline_cites_an_article(self, name: str) -> None:
        """Each deadline, rule and variant names its legal basis down to an article (Điều)."""
        for deadline, spec in wf(name).definition.deadlines.items():
            assert "Điều" in spec.legal_basis, deadline
            for rule in spec.rules:
                assert "Điều" in rule.legal_basis, deadline
            for variant in spec.variants:
                assert variant.legal_basis and "Điều" in variant.legal_basis, deadline

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception"])
    def test_labels_and_roles(self, name: str) -> None:
        """States and transitions carry Vietnamese labels; only the five known roles appear."""
        definition = wf(name).definition
        assert all(t.label for t in definition.transitions)
        assert definition.roles() <= ROLES
        assert any(spec.final for spec in definition.states.values())

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception"])
    def test_every_state_can_end(self, name: str) -> None:
        """From every state some path of transitions reaches a final state."""
        w = wf(name)
        states = w.definition.states
        ending = {s for s, spec in states.items() if spec.final}
        changed = True
        while changed:
            changed = False
            for state in set(states) - ending:
                out = {t.dest for e in w.events_from(state) for t in w.machine.get_transitions(e, state)}
                if out & ending:
                    ending.add(state)
                    changed = True
        assert set(states) == ending

    def test_system_events_are_timed(self) -> None:
        """Only timers fire as `system`, and their deadlines do not warn."""
        effect = wf("complaint").definition.deadlines["legal_effect"]
        assert effect.on_due == "become_effective"
        assert effect.warn_at == []
        assert {"appeal", "sue"} <= set(effect.stops_on)
        for name, w in workflows().items():
            timed = {d.on_due for d in w.definition.deadlines.values() if d.on_due}
            for t in w.definition.transitions:
                if "system" in t.roles:
                    assert t.roles == ["system"], (name, t.event)
                    assert t.event in timed, (name, t.event)

    def test_denunciation_hides_the_denouncer(self) -> None:
        """Denunciations keep parties confidential, revealed to heads only."""
        definition = wf("denunciation").definition
        assert definition.confidential_parties
        assert set(definition.reveal_roles) == {"head_of_unit", "director"}


# --------------------------------------------------------------------------- deadlines


class TestDeadlines:
    @pytest.mark.parametrize(
        ("instance", "remote", "complex_", "days"),
        [
            (1, False, False, 30), (1, False, True, 45), (1, True, False, 45), (1, True, True, 60),
            (2, False, False, 45), (2, False, True, 60), (2, True, False, 60), (2, True, True, 70),
        ],
    )
    def test_complaint_resolution_limits(self, instance: int, remote: bool, complex_: bool,
                                         days: int) -> None:
        """The resolution budget follows LKN Điều 28 and 37 for every combination."""
        fields = {"instance": instance, "remote_area": remote, "complex": complex_}
        assert (days, "calendar") == budget_for("complaint", "resolution", **fields)

    def test_complaint_resolution_pauses_and_resumes(self) -> None:
        """Suspension excludes time (NĐ 155/2026: "tiếp tục được tính"), not a restart."""
        spec = wf("complaint").definition.deadlines["resolution"]
        assert (spec.pauses_in, spec.pause_policy) == (["suspended"], "exclude")
        assert spec.starts_on == ["accept"]
        assert {"decide", "withdraw", "terminate"} <= set(spec.stops_on)

    def test_complaint_acceptance_changes_on_2026_07_01(self) -> None:
        """Acceptance is 10 working days, then 7 from 01/07/2026."""
        spec = wf("complaint").definition.deadlines["acceptance"]
        assert (spec.budget.amount, spec.budget.unit) == (10, "working")
        assert spec.starts_on == ["opened"]
        assert {"accept", "reject", "transfer"} <= set(spec.stops_on)
        [rule] = spec.rules
        assert rule.effective_from == date(2026, 7, 1)
        assert rule.budget is not None
        assert (rule.budget.amount, rule.budget.unit) == (7, "working")
        assert "NĐ 155/2026" in rule.legal_basis

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [({"instance": 1}, (3, "working")), ({"instance": 2}, (7, "calendar"))],
    )
    def test_complaint_decision_sending(self, fields: dict[str, Any], expected: tuple[int, str]) -> None:
        """The decision is sent within 3 working days (1st) or 7 days (2nd instance)."""
        assert expected == budget_for("complaint", "send_decision", **fields)

    @pytest.mark.parametrize(("remote", "days"), [(False, 30), (True, 45)])
    def test_complaint_legal_effect(self, remote: bool, days: int) -> None:
        """A decision takes legal effect 30 days (45 in remote areas) after issuance."""
        assert (days, "calendar") == budget_for("complaint", "legal_effect", remote_area=remote)

    def test_denunciation_limits_and_extensions(self) -> None:
        """Intake 7 WD (+3 once = 10), resolution 30 days (+30 at most twice), pausing when suspended."""
        deadlines = wf("denunciation").definition.deadlines
        intake, resolution = deadlines["acceptance"], deadlines["resolution"]
        assert intake.extensions is not None and resolution.extensions is not None
        ext_intake, ext_resolution = intake.extensions, resolution.extensions
        assert (intake.budget.amount, intake.budget.unit) == (7, "working")
        assert (ext_intake.event, ext_intake.max_times, ext_intake.amount) == ("extend_intake", 1, 3)
        assert (resolution.budget.amount, resolution.budget.unit) == (30, "calendar")
        assert (ext_resolution.event, ext_resolution.max_times, ext_resolution.amount) == ("extend", 2, 30)
        assert resolution.pauses_in == ["suspended"]
        assert {"act", "refer_police"} <= set(deadlines["act_on_conclusion"].stops_on)

    @pytest.mark.parametrize(
        ("name", "deadline", "walk_kwargs", "applies"),
        [
            ("letter", "reply_visitor", {"channel": "reception"}, True),
            ("letter", "reply_visitor", {"channel": "post"}, False),
            ("petition", "reply_citizen", {"channel": "reception"}, True),
            ("petition", "reply_citizen", {"channel": "portal"}, False),
            ("denunciation", "transfer", {"out_of_jurisdiction": True}, True),
            ("denunciation", "transfer", {}, False),
            ("complaint", "appeal_window", {"instance": 1}, True),
            ("complaint", "appeal_window", {"instance": 2}, False),
        ],
    )
    def test_conditional_deadlines(self, name: str, deadline: str, walk_kwargs: dict[str, Any],
                                   applies: bool) -> None:
        """A deadline with `when` applies only to the cases its condition describes."""
        w = wf(name)
        source = w.definition.deadlines[deadline].when
        assert source is not None
        assert applies == condition(w, source, Walk(name, **walk_kwargs))

    def test_petition_resolution_is_internal(self) -> None:
        """The petition SLA says plainly that no statute sets it."""
        spec = wf("petition").definition.deadlines["resolution"]
        assert "không có thời hạn luật định" in spec.legal_basis
        assert {"answer", "transfer", "withdraw"} <= set(spec.stops_on)

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception"])
    def test_no_clock_outlives_its_case(self, name: str) -> None:
        """Every path from a clock's start to a final state passes one of its stopping events.

        The engine does not close clocks when a case ends, so a clock left running would warn
        about a closed case. Paths are followed as (state, previous state) pairs so that
        `@previous` goes back where it came from; guards are ignored, except the two listed in
        GUARDED, where a guard makes the stopping event a precondition of the way out.
        """
        w = wf(name)
        for deadline, spec in w.definition.deadlines.items():
            if spec.on_due is None:  # an on_due timer closes itself when it fires
                ends = final_states_reached(w, spec.starts_on, spec.stops_on)
                assert ends <= GUARDED.get((name, deadline), set()), deadline


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
        """Resuming returns to the state the case was suspended in."""
        walk = Walk("complaint").run(("accept", "inspector"), *[(e, "inspector") for e in where])
        before = walk.state
        walk.run(("suspend", "head_of_unit", REASON))
        assert walk.state == "suspended"
        assert walk.refused("mark_complex", "inspector", **REASON) == "state"
        assert walk.refused("decide", "director") == "state"
        walk.run(("resume", "director"))
        assert before == walk.state

    def test_suspend_twice_still_resumes_to_work(self) -> None:
        """A second suspension after resuming again returns to the working state."""
        walk = Walk("complaint").run(("accept", "inspector"), ("start_verification", "inspector"),
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
        assert Walk("complaint").run(("withdraw", "clerk")).state == "terminated"
        walk = Walk("complaint").run(("accept", "inspector"))
        with pytest.raises(ValidationError, match=r"payload\.reason"):
            walk.fire("terminate", "director")
        walk.run(("terminate", "director", REASON))
        assert walk.final

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
        assert walk.refused("extend", "director", **REASON) == "guard"
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


# --------------------------------------------------------------------------- broken definitions


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """Write complaint.yaml with the first ``old`` replaced by ``new``; return path and line."""
    text = (WORKFLOWS / "complaint.yaml").read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path = tmp_path / "complaint.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, line


class TestBrokenComplaint:
    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ("stops_on: [decide, withdraw, terminate]", "stops_on: [decide, withdraw, terminate, explode]",
             "unknown event 'explode'"),
            ('guard: "fields.instance == 1"', 'guard: "fields.instanse == 1"', "instanse"),
            ('  verifying: {label: "Đang xác minh"}', ' verifying: {label: "Đang xác minh"}', "broken YAML"),
            ("    to: accepted\n", "      to: accepted\n", "broken YAML"),
            ("pauses_in: [suspended]", "pauses_in: [suspend]", "unknown state 'suspend'"),
            ("on_due: become_effective", "on_due: become_effectve", "unknown event 'become_effectve'"),
            ("    stops_on: [appeal, sue]\n", "    stop_on: [appeal, sue]\n", "unknown key"),
            ("budget: {amount: 30, unit: calendar}", "budget: {amount: 0, unit: calendar}", "greater than 0"),
            ("budget: {amount: 30, unit: calendar}", "budget: {amount: -5, unit: calendar}", "greater than 0"),
            ("warn_at: []  #", "warn_at: [0.5, 1.5]  #", "strictly between 0 and 1"),
        ],
    )
    def test_error_names_file_line_column(self, tmp_path: Path, old: str, new: str, message: str) -> None:
        """A broken copy fails to load with `path:LINE:COL:` pointing at the broken line."""
        path, line = broken(tmp_path, old, new)
        with pytest.raises(DefinitionError) as info:
            load_file(path)
        text = str(info.value)
        assert text.startswith(f"{path}:{line}:"), text
        column = text.removeprefix(f"{path}:{line}:").split(":", 1)[0]
        assert column.isdigit() and int(column) >= 1, text
        assert message in text
        assert (info.value.line, str(path)) == (line, info.value.source)

    def test_directory_with_a_broken_file_fails(self, tmp_path: Path) -> None:
        """Loading a directory stops at the broken file and names it."""
        path, _ = broken(tmp_path, "decide, withdraw, terminate]", "decide, withdraw, terminat]")
        with pytest.raises(DefinitionError, match=r"complaint\.yaml:\d+:\d+: unknown event 'terminat'"):
            load_directory(path.parent)
