"""YAML -> compiled workflow definitions; every error names ``file:line:column``.

The YAML is read with ruamel.yaml's round-trip parser, which builds only plain data (mappings,
lists, scalars) and keeps the line and column of every key, so that a pydantic error, a failed
cross check or an expression that does not compile can be reported where the operator wrote it.
Nothing is executed: no ``yaml.load``, no tags that construct objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from engine.definitions import WorkflowDefinition, check_definition
from engine.errors import DefinitionError, first_problem
from engine.machines import CompiledWorkflow, ExpressionProblem, compile_workflow

__all__ = ["load_directory", "load_file", "locate", "parse_definition", "read_yaml", "validate_located"]

M = TypeVar("M", bound=BaseModel)


def load_file(path: str | Path) -> CompiledWorkflow:
    """Load, check and compile one workflow file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"not UTF-8 text ({exc.reason})", source=str(path)) from None
    return parse_definition(text, source=str(path))


def load_directory(directory: str | Path) -> dict[str, CompiledWorkflow]:
    """Load every ``*.yaml`` / ``*.yml`` file of ``directory``, keyed by workflow name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DefinitionError("workflow directory does not exist", source=str(directory))
    return load_files(sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]))


def load_files(paths: Iterable[str | Path]) -> dict[str, CompiledWorkflow]:
    """Load several files; two files declaring the same workflow name is an error."""
    loaded: dict[str, CompiledWorkflow] = {}
    origin: dict[str, str] = {}
    for path in paths:
        workflow = load_file(path)
        if workflow.name in loaded:
            raise DefinitionError(f"workflow {workflow.name!r} is already defined in {origin[workflow.name]}",
                                  source=str(path), line=1, column=1)
        loaded[workflow.name], origin[workflow.name] = workflow, str(path)
    return loaded


class _Constructor(RoundTripConstructor):
    """Dates stay text here so that pydantic parses them and an impossible date gets a line number."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def read_yaml(text: str, *, source: str, what: str) -> CommentedMap:
    """Parse YAML into a line-aware mapping; raise DefinitionError at the broken spot."""
    # ruamel's round-trip parser builds plain mappings, lists and scalars only (no object tags)
    parser = YAML(typ="rt", pure=True)
    parser.Constructor = _Constructor
    try:
        document = parser.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise DefinitionError(f"broken YAML: {exc.problem or exc.context}", source=source,
                              line=line, column=column) from None
    if not isinstance(document, CommentedMap):
        raise DefinitionError(f"{what} is a YAML mapping", source=source, line=1, column=1)
    return document


def validate_located(model: type[M], document: CommentedMap, *, source: str) -> M:
    """Validate ``document`` with a pydantic ``model``; the error names file:line:column."""
    try:
        return model.model_validate(plain(document))
    except PydanticValidationError as exc:
        loc, message = first_problem(exc.errors(), unknown="unknown key")
        raise locate(document, loc, f"{'.'.join(map(str, loc)) or 'document'}: {message}", source) from None


def parse_definition(text: str, *, source: str = "<string>") -> CompiledWorkflow:
    """Parse YAML ``text`` into a compiled workflow, or raise :class:`DefinitionError`."""
    document = read_yaml(text, source=source, what="a workflow file (name:, states:, transitions:, ...)")
    definition = validate_located(WorkflowDefinition, document, source=source)
    problems = check_definition(definition)
    if problems:
        first = problems[0]
        raise locate(document, first.loc, first.message, source)
    try:
        return compile_workflow(definition)
    except ExpressionProblem as exc:
        raise locate(document, exc.loc, str(exc), source) from None


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
    return DefinitionError(message, source=source, line=line, column=column)
