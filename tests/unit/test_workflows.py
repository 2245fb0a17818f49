"""The shipped workflows/ load, speak the DESIGN vocabulary, cite the law, and fail loudly when broken."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from engine.definition_checks import check_definition
from engine.definitions import WorkflowDefinition
from engine.errors import DefinitionError
from engine.loader import load_directory, load_file
from tests.unit.workflow_walker import (
    CASE_EVENTS,
    GUARDED,
    ROLES,
    WORKFLOWS,
    Walk,
    budget_for,
    condition,
    final_states_reached,
    wf,
    workflows,
)

# --------------------------------------------------------------------------- loading


class TestLoading:
    def test_every_file_loads_under_its_own_name(self) -> None:
        """Each workflows/*.yaml loads and declares the workflow named like the file."""
        files = sorted(p.stem for p in WORKFLOWS.iterdir() if p.suffix in {".yaml", ".yml"})
        assert files == sorted(workflows())
        assert {"letter", "complaint", "denunciation", "petition", "reception",
                "disciplinary_complaint", "reception_schedule"} == set(workflows())
        for stem in files:
            assert stem == load_file(WORKFLOWS / f"{stem}.yaml").name

    @pytest.mark.parametrize(
        ("name", "events", "deadlines"),
        [
            ("complaint", {*CASE_EVENTS, "decide", "extend"}, {"acceptance", "resolution"}),
            ("denunciation", {*CASE_EVENTS, "conclude", "extend"}, {"acceptance", "resolution"}),
            ("disciplinary_complaint", {"accept", "reject", "transfer", "withdraw", "decide", "extend",
                                        "mark_complex"}, {"acceptance", "resolution"}),
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

    @pytest.mark.parametrize("name", ["complaint", "denunciation", "disciplinary_complaint"])
    def test_extend_requires_a_reason(self, name: str) -> None:
        """Every `extend` transition requires a `reason` payload."""
        extends = [t for t in wf(name).definition.transitions if t.event == "extend"]
        assert extends
        assert all(t.payload["reason"].required for t in extends)

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception",
                                      "disciplinary_complaint", "reception_schedule"])
    def test_every_deadline_cites_an_article(self, name: str) -> None:
        """Each deadline, rule and variant names its legal basis down to an article (Điều)."""
        for deadline, spec in wf(name).definition.deadlines.items():
            assert "Điều" in spec.legal_basis, deadline
            for rule in spec.rules:
                assert "Điều" in rule.legal_basis, deadline
            for variant in spec.variants:
                assert variant.legal_basis and "Điều" in variant.legal_basis, deadline

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception",
                                      "disciplinary_complaint", "reception_schedule"])
    def test_labels_and_roles(self, name: str) -> None:
        """States and transitions carry Vietnamese labels; only the five known roles appear."""
        definition = wf(name).definition
        assert all(t.label for t in definition.transitions)
        assert definition.roles() <= ROLES
        assert any(spec.final for spec in definition.states.values())

    def test_system_events_are_timed(self) -> None:
        """Only timers and intake reactors fire as `system`, and the timers' deadlines do not warn."""
        effect = wf("complaint").definition.deadlines["legal_effect"]
        assert effect.on_due == "become_effective"
        assert effect.warn_at == []
        assert {"appeal", "sue"} <= set(effect.stops_on)
        reacted = {("letter", "mark_election_matter")}  # engine/election_letters.py fires it on case.opened
        for name, w in workflows().items():
            timed = ({d.on_due for d in w.definition.deadlines.values() if d.on_due}
                     | {d.on_missed for d in w.definition.deadlines.values() if d.on_missed})
            for t in w.definition.transitions:
                if "system" in t.roles:
                    assert t.roles == ["system"], (name, t.event)
                    assert t.event in timed or (name, t.event) in reacted, (name, t.event)

    def test_denunciation_hides_the_denouncer(self) -> None:
        """Denunciations keep parties confidential, revealed to heads only."""
        definition = wf("denunciation").definition
        assert definition.confidential_parties
        assert set(definition.reveal_roles) == {"head_of_unit", "director"}


# --------------------------------------------------------------------------- ways out

#: A small workflow: ``open`` goes ``draft -> review``, ``suspend``/``resume`` detour through
#: ``held``, ``close`` ends it; each test appends one transition or state to it.
SMALL = """\
name: small
label: "Nhỏ"
initial: draft
states:
  draft: {label: "Nháp"}
  review: {label: "Xem xét"}
  held: {label: "Tạm dừng"}
  done: {label: "Xong", final: true}
transitions:
  - {event: open, from: draft, to: review, roles: [clerk]}
  - {event: suspend, from: [draft, review], to: held, roles: [clerk]}
  - {event: resume, from: held, to: "@previous", roles: [clerk]}
  - {event: close, from: review, to: done, roles: [clerk]}
"""


def problems_of(text: str) -> list[str]:
    """The messages of check_definition for a workflow written inline."""
    document = YAML(typ="safe", pure=True).load(text)
    return [p.message for p in check_definition(WorkflowDefinition.model_validate(document))]


class TestWaysOut:
    def test_the_small_workflow_is_sound(self) -> None:
        """A detour back through `@previous` to a state that can end is no problem."""
        assert problems_of(SMALL) == []

    def test_a_state_with_no_way_out_is_reported(self) -> None:
        """A non-final state that no transition leaves is a dead end, named as such."""
        text = SMALL.replace("  done:", "  stuck: {label: \"Kẹt\"}\n  done:").replace(
            "transitions:\n", "transitions:\n  - {event: jam, from: review, to: stuck, roles: [clerk]}\n")
        assert problems_of(text) == ["state 'stuck' is a dead end: it is not final and no transition leaves it"]

    def test_a_state_that_cannot_reach_a_final_state_is_reported(self) -> None:
        """States that only lead to each other, never to a final state, are each reported."""
        text = SMALL.replace("  done:", "  loop_a: {label: \"A\"}\n  loop_b: {label: \"B\"}\n  done:") + (
            "  - {event: spin, from: review, to: loop_a, roles: [clerk]}\n"
            "  - {event: spin, from: loop_a, to: loop_b, roles: [clerk]}\n"
            "  - {event: spin, from: loop_b, to: loop_a, roles: [clerk]}\n")
        assert problems_of(text) == ["no final state can be reached from state 'loop_a'",
                                     "no final state can be reached from state 'loop_b'"]

    def test_previous_returns_only_where_the_case_came_from(self) -> None:
        """`@previous` leads back only to the states that lead into the detour, not to any state."""
        text = SMALL.replace("  done:", "  side: {label: \"Phụ\"}\n  paused: {label: \"Dừng\"}\n  done:") + (
            "  - {event: aside, from: review, to: side, roles: [clerk]}\n"
            "  - {event: pause, from: side, to: paused, roles: [clerk]}\n"
            "  - {event: unpause, from: paused, to: \"@previous\", roles: [clerk]}\n")
        assert problems_of(text) == ["no final state can be reached from state 'side'",
                                     "no final state can be reached from state 'paused'"]
        way_back = text + "  - {event: back, from: side, to: review, roles: [clerk]}\n"
        assert problems_of(way_back) == []

    def test_a_workflow_without_a_final_state_is_reported(self) -> None:
        """A workflow in which no state is final is one problem, not one per state."""
        text = SMALL.replace(", final: true", "")
        assert problems_of(text) == ["no state is final: a case could never be closed"]

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception",
                                      "disciplinary_complaint", "reception_schedule"])
    def test_the_shipped_workflows_have_no_problems(self, name: str) -> None:
        """Every shipped workflow passes every cross check, ways out and paths to an end included."""
        assert check_definition(wf(name).definition) == []


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

    @pytest.mark.parametrize("name", ["letter", "complaint", "denunciation", "petition", "reception",
                                      "disciplinary_complaint", "reception_schedule"])
    def test_no_clock_outlives_its_case(self, name: str) -> None:
        """Every path from a clock's start to a final state passes one of its stopping events.

        A final state closes every running clock as met by whatever event ended the case; this
        keeps that a backstop, so that each clock is met by an event its law names (one of its
        `stops_on`), not just by the case ending. Paths are followed as (state, previous state) pairs so that
        `@previous` goes back where it came from; guards are ignored, except the two listed in
        GUARDED, where a guard makes the stopping event a precondition of the way out.
        """
        w = wf(name)
        for deadline, spec in w.definition.deadlines.items():
            if spec.on_due is None and not spec.outlives_final:  # a timer closes itself; outliving clocks: at load
                ends = final_states_reached(w, spec.starts_on, spec.stops_on)
                assert ends <= GUARDED.get((name, deadline), set()), deadline


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
            ("stops_on: [appeal, sue, decide, withdraw, terminate]",
             "stops_on: [appeal, sue, decide, withdraw, terminate, explode]",
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
