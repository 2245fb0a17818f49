"""`kntc graph` draws what a case can do: `@previous` goes back to the states the case came from."""

from __future__ import annotations

from engine.graph import RETURN_LABEL, to_dot, to_mermaid
from tests.unit.workflow_walker import wf


def test_mermaid_draws_previous_as_edges_back_to_where_the_case_came_from() -> None:
    """`resume` out of a complaint's `suspended` is an edge to each state it can be suspended from."""
    lines = to_mermaid(wf("complaint").definition).splitlines()
    resumes = sorted(line.strip() for line in lines if ": resume" in line)
    assert resumes == [f"suspended --> {state}: resume ({RETURN_LABEL})" for state in
                       sorted(["accepted", "verifying", "dialogue_scheduled", "dialogue_held", "decision_drafting"])]
    assert not any("suspended --> suspended" in line for line in lines)


def test_dot_draws_previous_dashed_and_labelled() -> None:
    """In dot, each `@previous` edge is dashed and says "về trạng thái trước"; other edges are plain."""
    dot = to_dot(wf("petition").definition)
    assert f'suspended -> assigned [label="resume ({RETURN_LABEL})", style=dashed];' in dot
    assert f'suspended -> in_jurisdiction [label="resume ({RETURN_LABEL})", style=dashed];' in dot
    assert "suspended -> suspended" not in dot
    assert all("style=dashed" not in line for line in dot.splitlines() if "resume" not in line)
