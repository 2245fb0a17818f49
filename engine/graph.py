"""A workflow's state graph as Mermaid or Graphviz dot text, for documentation and review.

A ``to: "@previous"`` transition is drawn as one edge to each state the case can go back to
(:meth:`WorkflowDefinition.came_from`), labelled "về trạng thái trước" and dashed in dot. A
``to: "@same"`` transition (or one without ``to``) is a loop on each of its source states.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from engine.definitions import PREVIOUS, WorkflowDefinition

__all__ = ["RETURN_LABEL", "to_dot", "to_mermaid"]

#: The label added to an edge drawn for ``@previous``: "back to the previous state".
RETURN_LABEL = "về trạng thái trước"


def _edges(defn: WorkflowDefinition) -> Iterator[tuple[str, str, str, bool]]:
    """(source, target, event, returns) once per distinct edge; ``returns`` marks an ``@previous`` edge."""
    seen: set[tuple[str, str, str]] = set()
    back = defn.came_from()
    order = list(defn.states)
    for t in defn.transitions:
        for source in defn.sources(t):
            dest = t.target(source)  # a state (itself for `@same`), or None for `@previous`
            targets = sorted(back.get(source, ()), key=order.index) if dest is None else [dest]
            for target in targets:
                if (source, target, t.event) not in seen:
                    seen.add((source, target, t.event))
                    yield source, target, t.event, t.to == PREVIOUS


def to_mermaid(defn: WorkflowDefinition) -> str:
    """A Mermaid ``stateDiagram-v2`` of the workflow (labels in Vietnamese)."""
    lines = ["stateDiagram-v2", f"    %% {defn.name}: {defn.label}", f"    [*] --> {defn.initial}"]
    for name, state in defn.states.items():
        lines.append(f"    {name}: {state.label.replace(':', ' -')}")
    for source, target, event, returns in _edges(defn):
        lines.append(f"    {source} --> {target}: {event}" + (f" ({RETURN_LABEL})" if returns else ""))
    lines.extend(f"    {name} --> [*]" for name, state in defn.states.items() if state.final)
    return "\n".join(lines) + "\n"


def to_dot(defn: WorkflowDefinition) -> str:
    """A Graphviz ``digraph`` of the workflow; ``@previous`` edges are dashed."""
    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [f"digraph {defn.name} {{", "    rankdir=LR;", f"    label={q(defn.label)};",
             '    __start [shape=point];', f"    __start -> {defn.initial};"]
    for name, state in defn.states.items():
        shape = "doublecircle" if state.final else "box"
        label = q(name + "\n" + state.label)
        lines.append(f"    {name} [shape={shape}, label={label}];")
    for source, target, event, returns in _edges(defn):
        if returns:
            lines.append(f"    {source} -> {target} [label={q(f'{event} ({RETURN_LABEL})')}, style=dashed];")
        else:
            lines.append(f"    {source} -> {target} [label={q(event)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
