"""YAML -> compiled workflow definitions; every error names ``file:line:column``.

The YAML is read with ruamel.yaml's round-trip parser, which builds only plain data (mappings,
lists, scalars) and keeps the line and column of every key, so that a pydantic error, a failed
cross check or an expression that does not compile can be reported where the operator wrote it.
Nothing is executed: no ``yaml.load``, no tags that construct objects.

Whatever the text, reading it raises :class:`DefinitionError` and nothing else: a duplicate key,
a character YAML does not allow (NUL), an integer of more digits than Python converts, nesting
deeper than :data:`MAX_DEPTH`, an alias that contains itself (``&a [*a]``) or more than
:data:`MAX_NODES` values once aliases are expanded (a "billion laughs") are each refused at their
line. A byte-order mark at the start is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from engine.definition_checks import check_definition
from engine.definitions import WorkflowDefinition
from engine.errors import DefinitionError
from engine.machines import CompiledWorkflow, ExpressionProblem, compile_expressions, compile_workflow
from engine.pydantic_errors import every_problem

__all__ = ["MAX_DEPTH", "MAX_NODES", "load_directory", "load_file", "load_files", "locate", "one_line",
           "parse_definition", "read_yaml", "validate_files", "validate_located", "workflow_files"]

M = TypeVar("M", bound=BaseModel)

#: mappings and lists nested deeper than this are refused (the deepest shipped file nests ~8)
MAX_DEPTH = 64
#: values (mapping entries and list items, aliases expanded) a file may hold
MAX_NODES = 200_000
#: Python converts integers of at most this many digits (``sys.get_int_max_str_digits``)
_INT_DIGITS = re.compile(r"[0-9_]{4300,}")


def load_file(path: str | Path) -> CompiledWorkflow:
    """Load, check and compile one workflow file; raise the first :class:`DefinitionError`."""
    return _raise_first(_check_file(Path(path)))


def load_directory(directory: str | Path) -> dict[str, CompiledWorkflow]:
    """Load every ``*.yaml`` / ``*.yml`` file of ``directory``, keyed by workflow name."""
    return load_files(workflow_files(directory))


def workflow_files(directory: str | Path) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files of ``directory`` in name order; raise if it is not a directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DefinitionError("workflow directory does not exist", source=str(directory))
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_files(paths: Iterable[str | Path]) -> dict[str, CompiledWorkflow]:
    """Load several files; two files declaring the same workflow name is an error."""
    loaded: dict[str, CompiledWorkflow] = {}
    for result in _check_files(paths):  # stops at the first broken file
        workflow = _raise_first(result)
        loaded[workflow.name] = workflow
    return loaded


def validate_files(paths: Iterable[str | Path]) -> list[DefinitionError]:
    """Every problem of every workflow file, each a :class:`DefinitionError` naming ``file:line:column``.

    Where loading stops at the first mistake, this reports them all: broken YAML (one per file,
    since the rest cannot be read), every shape error (a misspelt key as "unknown key"), every
    failed cross check (a ``@same`` transition from a final state included), every expression
    that does not compile, has a type error, names an undeclared field or deadline or holds a
    ``date('...')`` that is not a date, and a workflow name already declared by an earlier file.
    An empty list means every file loads.
    """
    return [problem for result in _check_files(paths) for problem in result.problems]


@dataclass(slots=True)
class _Checked:
    """One file checked: its definition if the shape is valid, its workflow if it compiles."""

    document: CommentedMap | None = None
    definition: WorkflowDefinition | None = None
    workflow: CompiledWorkflow | None = None
    problems: list[DefinitionError] = field(default_factory=list)


def _raise_first(result: _Checked) -> CompiledWorkflow:
    if result.problems:
        raise result.problems[0]
    assert result.workflow is not None
    return result.workflow


def _check_files(paths: Iterable[str | Path]) -> Iterator[_Checked]:
    origin: dict[str, str] = {}
    for path in map(Path, paths):
        result = _check_file(path)
        name = result.definition.name if result.definition is not None else None
        if name is not None and name in origin and result.document is not None:
            result.problems.append(locate(result.document, ("name",),
                                          f"workflow {name!r} is already defined in {origin[name]}", str(path)))
            result.workflow = None
        elif name is not None:
            origin[name] = str(path)
        yield result


def _check_file(path: Path) -> _Checked:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return _Checked(problems=[DefinitionError(f"cannot read: {exc.strerror}", source=str(path))])
    except UnicodeDecodeError as exc:
        return _Checked(problems=[DefinitionError(f"not UTF-8 text ({exc.reason})", source=str(path))])
    return _check_text(text, str(path))


def _check_text(text: str, source: str) -> _Checked:
    """Every problem of one workflow text, in the order loading meets them; the workflow if none."""
    try:
        document = read_yaml(text, source=source, what="a workflow file (name:, states:, transitions:, ...)")
    except DefinitionError as exc:
        return _Checked(problems=[exc])
    definition, problems = _validated(WorkflowDefinition, document, source)
    result = _Checked(document=document, definition=definition, problems=problems)
    if definition is None:
        return result
    problems.extend(locate(document, p.loc, p.message, source) for p in check_definition(definition))
    try:
        if problems:  # the machine cannot be built, but every expression can still be checked
            compile_expressions(definition, check_types=True)
        else:
            result.workflow = compile_workflow(definition, check_types=True)
    except ExpressionProblem as exc:
        problems.extend(locate(document, p.loc, str(p), source) for p in exc.problems)
    return result


class _Constructor(RoundTripConstructor):
    """Dates stay text here so that pydantic parses them and an impossible date gets a line number."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def read_yaml(text: str, *, source: str, what: str) -> CommentedMap:
    """Parse YAML into a line-aware mapping; raise DefinitionError at the broken spot (and nothing else)."""
    text = text.removeprefix("\ufeff")
    # ruamel's round-trip parser builds plain mappings, lists and scalars only (no object tags)
    parser = YAML(typ="rt", pure=True)
    parser.Constructor = _Constructor
    try:
        document = parser.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise DefinitionError(one_line(f"broken YAML: {exc.problem or exc.context}"), source=source,
                              line=line, column=column) from None
    except ReaderError as exc:
        line, column = _position(text, int(exc.position))
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        raise DefinitionError(f"broken YAML: character {code:#06x} is not allowed in YAML", source=source,
                              line=line, column=column) from None
    except RecursionError:
        raise DefinitionError(f"nested more than {MAX_DEPTH} levels deep", source=source,
                              line=_deepest_line(text), column=1) from None
    except (YAMLError, ValueError, OverflowError) as exc:  # e.g. an integer too long to convert
        found = _INT_DIGITS.search(text)
        line, column = _position(text, found.start()) if found else (1, 1)
        reason = "a number too long" if found else type(exc).__name__
        raise DefinitionError(f"broken YAML: {reason}", source=source, line=line, column=column) from None
    if not isinstance(document, CommentedMap):
        raise DefinitionError(f"{what} is a YAML mapping", source=source, line=1, column=1)
    _check_size(document, source)
    return document


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character ``offset`` of ``text``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _deepest_line(text: str) -> int:
    """The first line where flow brackets nest past :data:`MAX_DEPTH` (else where indentation does)."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        indent = (len(line) - len(line.lstrip(" "))) // 2
        for char in line:
            depth += (char in "[{") - (char in "]}")
            if depth > MAX_DEPTH or indent > MAX_DEPTH:
                return number
    return 1


def _check_size(document: CommentedMap, source: str) -> None:
    """Refuse nesting past :data:`MAX_DEPTH`, an alias inside itself, more than :data:`MAX_NODES` values."""
    count = 0
    path: set[int] = set()

    def walk(node: Any, depth: int, line: int) -> None:
        nonlocal count
        if not isinstance(node, CommentedMap | CommentedSeq):
            return
        lc = getattr(node, "lc", None)
        line = lc.line + 1 if lc is not None and isinstance(lc.line, int) else line
        if id(node) in path:
            raise DefinitionError("an alias refers to a node that contains it (a cycle)", source=source, line=line,
                                  column=1)
        if depth > MAX_DEPTH:
            raise DefinitionError(f"nested more than {MAX_DEPTH} levels deep", source=source, line=line, column=1)
        count += len(node)
        if count > MAX_NODES:
            raise DefinitionError(f"more than {MAX_NODES} values (aliases expanded)", source=source, line=line,
                                  column=1)
        path.add(id(node))
        for child in (node.values() if isinstance(node, CommentedMap) else node):
            walk(child, depth + 1, line)
        path.discard(id(node))

    walk(document, 1, 1)


def validate_located(model: type[M], document: CommentedMap, *, source: str) -> M:
    """Validate ``document`` with a pydantic ``model``; the first error names file:line:column."""
    value, problems = _validated(model, document, source)
    if value is None:
        raise problems[0]
    return value


def _validated(model: type[M], document: CommentedMap, source: str) -> tuple[M | None, list[DefinitionError]]:
    try:
        return model.model_validate(plain(document)), []
    except PydanticValidationError as exc:
        return None, [locate(document, loc, f"{'.'.join(map(str, loc)) or 'document'}: {message}", source)
                      for loc, message in every_problem(exc.errors(), unknown="unknown key")]


def parse_definition(text: str, *, source: str = "<string>") -> CompiledWorkflow:
    """Parse YAML ``text`` into a compiled workflow, or raise the first :class:`DefinitionError`."""
    return _raise_first(_check_text(text, source))


def plain(node: Any) -> Any:
    """ruamel's round-trip nodes as plain dicts, lists and scalars."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq | list):
        return [plain(v) for v in node]
    return node


def locate(document: CommentedMap, loc: tuple[Any, ...], message: str, source: str) -> DefinitionError:
    """An error at ``loc``: walk ``loc`` into the YAML tree as far as it goes and take that node's position."""
    line, column = 1, 1
    node: Any = document
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            with suppress(KeyError):  # a key brought in by a YAML merge (<<: *anchor) has no position
                line, column = node.lc.key(part)[0] + 1, node.lc.key(part)[1] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, column = node.lc.item(part)[0] + 1, node.lc.item(part)[1] + 1
            node = node[part]
        else:
            break
    return DefinitionError(one_line(message), source=source, line=line, column=column)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def one_line(message: str) -> str:
    """``message`` with line breaks and other control characters escaped: an error is one line."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], message)
