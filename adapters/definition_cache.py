"""Compiled workflow definitions, cached by the sha256 of each file's text (DESIGN.md §2b).

Parsing the workflow YAML with ruamel's line-aware parser is most of what a CLI command used to
cost. Once a file has loaded cleanly, its validated definition is written as JSON (never pickle)
to the cache folder (``adapters/cache.py``: ``$KNTC_CACHE_DIR``, default
``~/.cache/kntc/definitions``) under a key made of the file's text and the source of kntc's
definition modules, so an edited file, or an upgraded kntc, is parsed again. A cached definition
is read back with :meth:`WorkflowDefinition.model_validate_json` and compiled; a cache that is
missing, unreadable, unwritable or corrupt is ignored silently and the file is parsed. Within one
process a compiled workflow is also kept in memory (compiled workflows are immutable and shared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from adapters.cache import CACHE_ENV, cache_dir, read_text, write_text
from engine.definitions import WorkflowDefinition
from engine.errors import DefinitionError
from engine.machines import CompiledWorkflow, compile_workflow

__all__ = ["CACHE_ENV", "cache_dir", "load_directory", "load_file", "load_files", "load_located", "workflow_paths"]

#: The engine modules whose source decides how a file becomes a definition (part of every key).
_KEYED_MODULES = ("definitions.py", "loader.py", "machines.py", "expressions.py")
_MEMORY: dict[str, CompiledWorkflow] = {}


@cache
def _salt() -> bytes:
    import engine
    folder = Path(engine.__file__).parent
    digest = hashlib.sha256(b"kntc-definition-cache-1")
    for name in _KEYED_MODULES:
        try:
            digest.update((folder / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.digest()


def _key(text: str) -> str:
    return hashlib.sha256(_salt() + text.encode("utf-8")).hexdigest()


def load_file(path: str | Path) -> CompiledWorkflow:
    """Load one workflow file, from the cache when its text is unchanged; errors name file:line:col."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"not UTF-8 text ({exc.reason})", source=str(path)) from None
    key = _key(text)
    compiled = _MEMORY.get(key) or _read_cached(key)
    if compiled is None:
        from engine.loader import parse_definition  # ruamel is imported only on a miss
        compiled = parse_definition(text, source=str(path))
        _write_cached(key, compiled.definition)
    _MEMORY[key] = compiled
    return compiled


def load_located(paths: Iterable[str | Path]) -> dict[str, tuple[CompiledWorkflow, Path]]:
    """Load several files, keyed by workflow name, each with the file that declares it.

    Two files declaring the same workflow name is an error.
    """
    loaded: dict[str, tuple[CompiledWorkflow, Path]] = {}
    for path in map(Path, paths):
        workflow = load_file(path)
        if workflow.name in loaded:
            raise DefinitionError(f"workflow {workflow.name!r} is already defined in {loaded[workflow.name][1]}",
                                  source=str(path), line=1, column=1)
        loaded[workflow.name] = (workflow, path)
    return loaded


def load_files(paths: Iterable[str | Path]) -> dict[str, CompiledWorkflow]:
    """Load several files, keyed by workflow name; two files declaring the same name is an error."""
    return {name: workflow for name, (workflow, _) in load_located(paths).items()}


def workflow_paths(directory: str | Path) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files of ``directory`` in name order; raise if it is not a directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DefinitionError("workflow directory does not exist", source=str(directory))
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_directory(directory: str | Path) -> dict[str, CompiledWorkflow]:
    """Load every workflow file of ``directory``, keyed by workflow name."""
    return load_files(workflow_paths(directory))


def _read_cached(key: str) -> CompiledWorkflow | None:
    body = read_text(f"{key}.json")
    if body is None:
        return None
    try:
        return compile_workflow(WorkflowDefinition.model_validate_json(body))
    except (PydanticValidationError, ValueError):
        return None


def _write_cached(key: str, definition: WorkflowDefinition) -> None:
    body = definition.model_dump_json(by_alias=True)
    try:  # only a definition that reads back as itself is worth caching
        if WorkflowDefinition.model_validate_json(body).content_hash() != definition.content_hash():
            return
    except (PydanticValidationError, ValueError):
        return
    write_text(f"{key}.json", body)
