"""A workflow's state graph as Mermaid or Graphviz dot text, for documentation and review."""

from __future__ import annotations

import json
from collections.abc import Iterator

from engine.definitions import PREVIOUS, WorkflowDefinition

__all__ = ["to_dot", "to_mermaid"]


def _edges(defn: WorkflowDefinition) -> Iterator[tuple[str, str, str]]:
    """(source, target, label) once per distinct edge; ``@previous`` drawn as one dashed return."""
    seen: set[tuple[str, str, str]] = set()
    for t in defn.transitions:
        for source in defn.sources(t):
            edge = (source, t.to, t.event)
            if edge not in seen:
                seen.add(edge)
                yield edge


def to_mermaid(defn: WorkflowDefinition) -> str:
    """A Mermaid ``stateDiagram-v2`` of the workflow (labels in Vietnamese)."""
    lines = ["stateDiagram-v2", f"    %% {defn.name}: {defn.label}", f"    [*] --> {defn.initial}"]
    for name, state in defn.states.items():
        lines.append(f"    {name}: {state.label.replace(':', ' -')}")
    for source, target, event in _edges(defn):
        if target == PREVIOUS:
            lines.append(f"    {source} --> {source}: {event} (về trạng thái trước)")
        else:
            lines.append(f"    {source} --> {target}: {event}")
    lines.extend(f"    {name} --> [*]" for name, state in defn.states.items() if state.final)
    return "\n".join(lines) + "\n"


def to_dot(defn: WorkflowDefinition) -> str:
    """A Graphviz ``digraph`` of the workflow."""
    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [f"digraph {defn.name} {{", "    rankdir=LR;", f"    label={q(defn.label)};",
             '    __start [shape=point];', f"    __start -> {defn.initial};"]
    for name, state in defn.states.items():
        shape = "doublecircle" if state.final else "box"
        label = q(name + "\n" + state.label)
        lines.append(f"    {name} [shape={shape}, label={label}];")
    for source, target, event in _edges(defn):
        if target == PREVIOUS:
            lines.append(f"    {source} -> {source} [label={q(event)}, style=dashed];")
        else:
            lines.append(f"    {source} -> {target} [label={q(event)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
