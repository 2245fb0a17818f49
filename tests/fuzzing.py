"""Helpers of the fuzz tests (tests/property/test_fuzz_*.py): nasty values and mutations of YAML data."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

__all__ = ["NASTY", "ODD_TEXT", "dump", "mutate", "nested", "paths"]


def dump(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="rt", pure=True).dump(data, out)
    return out.getvalue()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60) | st.sampled_from(
    ["\u202eevil\u202c", "Đơn khiếu nại 😀", "\u200b", "a\x00b", "x" * 10_000, "${{}}", "fields.x and",
     "((((" * 50, "not not not " * 200, "2026-02-30", "P1D", "-", "~", "*", "!!python/object:os.system"])
NASTY: st.SearchStrategy[Any] = st.one_of(
    ODD_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**63, 10**300, 1e308, float("inf"), float("nan"), True, False, None]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(ODD_TEXT, st.integers() | ODD_TEXT, max_size=3),
    st.just(nested(200)),
    st.just({}),
    st.just([]),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``node`` (mapping keys and list indexes)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def mutate(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    """``data`` with the node at ``path`` replaced, dropped, renamed or wrapped (a deep copy on the way)."""
    if not path:
        return value if how == "replace" else data
    head, rest = path[0], path[1:]
    copy: Any = dict(data) if isinstance(data, dict) else list(data)
    if rest:
        copy[head] = mutate(data[head], rest, how, value)
    elif how == "replace":
        copy[head] = value
    elif how == "drop":
        del copy[head]
    elif how == "wrap":
        copy[head] = [data[head]]
    elif how == "rename" and isinstance(copy, dict):
        copy[f"{head}_x" if not isinstance(value, str) or not value else value] = copy.pop(head)
    return copy
