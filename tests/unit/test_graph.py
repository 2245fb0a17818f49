"""`kntc graph` draws what a case can do: `@previous` goes back to the states the case came from."""

from __future__ import annotations

from pathlib import Path

from engine.graph import RETURN_LABEL, to_dot, to_mermaid
from engine.loader import load_file
from tests.unit.workflow_walker import wf


def test_mermaid_draws_previous_as_edges_back_to_where_the_case_came_from() -> None:
    """`resume` out of a complaint's `suspended` is an edge to each state it can be suspended from."""
    lines = to_mermaid(wf("complaint").definition).splitlines()
    resumes = sorted(line.strip() for line in lines if ": resume" in line)
    assert resumes == [f"suspended --> {state}: resume ({RETURN_LABEL})" for state in
                       sorted(["accepted", "verifying", "dialogue_scheduled", "dialogue_held", "decision_drafting"])]
    assert not any("suspended --> suspended: resume" in line for line in lines)  # send_suspension_decision loops


def test_dot_draws_previous_dashed_and_labelled() -> None:
    """In dot, each `@previous` edge is dashed and says "về trạng thái trước"; other edges are plain."""
    dot = to_dot(wf("petition").definition)
    assert f'suspended -> assigned [label="resume ({RETURN_LABEL})", style=dashed];' in dot
    assert f'suspended -> in_jurisdiction [label="resume ({RETURN_LABEL})", style=dashed];' in dot
    assert "suspended -> suspended" not in dot
    assert all("style=dashed" not in line for line in dot.splitlines() if "resume" not in line)


def test_a_self_loop_declared_once_is_a_loop_on_each_source() -> None:
    """`mark_complex` (no `to`) and `schedule_dialogue` (`to: "@same"`) loop on each of their states."""
    definition = load_file(Path(__file__).parent / "schema_workflows" / "detours.yaml").definition
    lines = {line.strip() for line in to_mermaid(definition).splitlines()}
    for state in ("verifying", "clarifying", "suspended"):
        assert f"{state} --> {state}: mark_complex" in lines
    assert {"verifying --> verifying: schedule_dialogue", "clarifying --> clarifying: schedule_dialogue"} <= lines
    assert not any("@same" in line for line in lines)
    assert 'suspended -> suspended [label="mark_complex"];' in to_dot(definition)


def test_previous_out_of_a_nested_detour_goes_to_the_states_that_lead_into_it() -> None:
    """`resume` out of `suspended` returns to verifying or clarifying; `clarified` only to verifying."""
    definition = load_file(Path(__file__).parent / "schema_workflows" / "detours.yaml").definition
    lines = {line.strip() for line in to_mermaid(definition).splitlines()}
    assert {line for line in lines if ": resume" in line} == {
        f"suspended --> verifying: resume ({RETURN_LABEL})", f"suspended --> clarifying: resume ({RETURN_LABEL})"}
    clarified = {line for line in lines if ": clarified" in line}
    assert clarified == {f"clarifying --> verifying: clarified ({RETURN_LABEL})"}
