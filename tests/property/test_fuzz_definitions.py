"""Mutated workflow YAML never gets past the loader as anything but a DefinitionError.

Each example starts from the text of a shipped workflow and breaks it: a value replaced by one of
the wrong type, a huge number, a long or odd unicode string, a deeply nested list; a key dropped,
renamed or duplicated; a BOM, a tab, a NUL, an alias cycle. Loading it (shape, cross checks,
expression compilation: :func:`engine.loader.parse_definition`, and :func:`validate_files`, which
collects every problem) either succeeds or raises :class:`DefinitionError`; a ``KeyError``,
``RecursionError``, ``TypeError``... is a loader bug.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DefinitionError
from engine.loader import MAX_DEPTH, parse_definition, plain, read_yaml, validate_files
from tests.fuzzing import NASTY, dump, mutate, paths

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "workflows").glob("*.yaml"))
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@cache
def shipped(name: str) -> Any:
    """A shipped workflow as plain data."""
    path = ROOT / "workflows" / name
    return plain(read_yaml(path.read_text(encoding="utf-8"), source=str(path), what="workflow"))


def only_definition_errors(text: str, *, from_file: bool = False) -> None:
    """Load ``text`` (and from a file: every problem); anything but success or DefinitionError fails the test.

    :func:`parse_definition` raises the first problem of the very list :func:`validate_files` returns.
    """
    try:
        parse_definition(text, source="fuzz.yaml")
    except DefinitionError as exc:
        assert str(exc).startswith("fuzz.yaml"), exc
        assert "\n" not in str(exc), "an error is one line"
    if not from_file:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        problems = validate_files([path])
    assert all(isinstance(p, DefinitionError) for p in problems)


@FUZZ
@given(name=st.sampled_from([p.name for p in SHIPPED]), data=st.data(),
       how=st.sampled_from(["replace", "replace", "replace", "drop", "wrap", "rename"]), value=NASTY)
def test_a_mutated_value_or_key_is_a_definition_error(name: str, data: st.DataObject, how: str, value: Any) -> None:
    document = shipped(name)
    path = data.draw(st.sampled_from(paths(document)), label="path")
    only_definition_errors(dump(mutate(document, path, how, value)))


@FUZZ
@given(name=st.sampled_from([p.name for p in SHIPPED]), data=st.data(), count=st.integers(1, 3))
def test_several_mutations_together_are_a_definition_error(name: str, data: st.DataObject, count: int) -> None:
    document = shipped(name)
    for _ in range(count):
        path = data.draw(st.sampled_from(paths(document)), label="path")
        document = mutate(document, path, "replace", data.draw(NASTY, label="value"))
    only_definition_errors(dump(document))


def _duplicate_top(text: str) -> str:
    return text + "\nname: twice\n"


def _duplicate_inner(text: str) -> str:
    first = next(line for line in text.splitlines() if line.startswith("  ") and ":" in line)
    return text.replace(first, f"{first}\n{first}", 1)


TEXT_MUTATIONS: dict[str, Callable[[str], str]] = {
    "bom": lambda t: "\ufeff" + t,
    "double bom": lambda t: "\ufeff\ufeff" + t,
    "tab indent": lambda t: t.replace("\n  ", "\n\t", 1),
    "nul": lambda t: t.replace("name:", "na\x00me:", 1),
    "bell": lambda t: t + "\nextra: \"\x07\"\n",
    "duplicate top key": _duplicate_top,
    "duplicate inner key": _duplicate_inner,
    "alias cycle list": lambda t: t.replace("\nstates:", "\nstates: &a [*a]\nstates_x:", 1),
    "alias cycle map": lambda t: t.replace("\nstates:", "\nstates: &a {s: *a}\nstates_x:", 1),
    "billion laughs": lambda t: t + "\n".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" if i else "l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"
        for i in range(8)) + "\n",
    "200 deep flow": lambda t: t + "\nextra: " + "[" * 200 + "]" * 200 + "\n",
    "300 deep map": lambda t: t + "\nextra: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    "huge int": lambda t: t + "\nversion_x: " + "9" * 5000 + "\n",
    "million chars": lambda t: t.replace("name: ", "name: " + "x" * 10**6, 1),
    "truncated": lambda t: t[: len(t) // 2],
    "unclosed quote": lambda t: t + '\nextra: "abc\n',
    "python tag": lambda t: t + "\nextra: !!python/object/apply:os.system [echo]\n",
    "merge of a scalar": lambda t: t + "\nextra: {<<: 1}\n",
    "empty": lambda t: "",
    "only a list": lambda t: "- 1\n- 2\n",
    "rtl and emoji": lambda t: t.replace("name: ", "name: \u202e😀", 1),
}


@pytest.mark.parametrize("mutation", sorted(TEXT_MUTATIONS))
@pytest.mark.parametrize("shipped_file", [SHIPPED[0], SHIPPED[-1]], ids=lambda p: p.name)
def test_a_broken_text_is_a_definition_error_at_a_line(shipped_file: Path, mutation: str) -> None:
    text = TEXT_MUTATIONS[mutation](shipped_file.read_text(encoding="utf-8"))
    only_definition_errors(text, from_file=True)


@pytest.mark.parametrize("text, line, words", [
    ("name: a\nname: b\n", 2, "duplicate key"),
    ("name: a\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", 2, "levels deep"),
    ("name: a\nx: \x00\n", 2, "not allowed"),
    ("name: a\n\nx: " + "1" * 5000 + "\n", 3, "too long"),
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"b{i}: &b{i} [{', '.join(['*a' if i == 0 else f'*b{i - 1}'] * 10)}]\n" for i in range(5)), 0, "values"),
])
def test_the_refusal_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        read_yaml(text, source="w.yaml", what="a workflow file")
    assert words in caught.value.reason
    if line:
        assert caught.value.line == line, caught.value


def test_a_bom_is_dropped_and_the_file_still_loads() -> None:
    text = SHIPPED[0].read_text(encoding="utf-8")
    assert parse_definition("\ufeff" + text).name == parse_definition(text).name
