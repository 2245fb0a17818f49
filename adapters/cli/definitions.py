"""``kntc validate``, ``kntc graph`` and ``kntc schema``: the operator's checks and aids for workflow files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.common import app, settings
from engine.errors import ConfigError, DefinitionError, KntcError, ValidationError

if TYPE_CHECKING:
    from adapters.config import Settings
    from engine.machines import CompiledWorkflow

__all__ = ["graph", "is_config_file", "schema", "validate"]


def is_config_file(path: Path) -> bool:
    """A file named ``config*.yaml`` / ``config*.yml`` is configuration; any other YAML is a workflow."""
    return path.name.startswith("config") and path.suffix in (".yaml", ".yml")


@app.command()
def validate(paths: Annotated[list[Path] | None, typer.Argument(
        help="Workflow files and/or a config.yaml (default: the configured config and its workflows).")] = None,
             ) -> None:
    """Check config.yaml and workflow files together: every problem, each with file:line:column.

    A ``config*.yaml`` argument is checked as configuration, and its workflows with it; other
    files are checked as workflows, against the given (or the configured) config.yaml.
    """
    from adapters.config import load_settings
    from adapters.definition_cache import workflow_paths
    configs = [p for p in paths or [] if is_config_file(p)]
    files = [p for p in paths or [] if not is_config_file(p)]
    problems: list[str] = []
    checked: Settings | None = None
    for path in configs:
        try:
            checked = load_settings(path)
        except KntcError as exc:
            problems.append(str(exc))
            continue
        org, cal = checked.organisation, checked.calendar
        typer.echo(f"ok config {path}: {len(org.roles)} roles, {len(org.units)} units, "
                   f"{len(cal.days_off) + len(cal.working_days)} calendar overrides")
    if not problems:
        checked = checked or settings()
        try:
            files = files or workflow_paths(checked.workflows_path())
        except DefinitionError as exc:
            problems.append(str(exc))
        else:
            problems += [str(p) for p in _check_workflows(files, checked)]
    for problem in problems:
        typer.echo(f"kntc: error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)


def _check_workflows(files: Sequence[Path], checked: Settings) -> list[DefinitionError]:
    """Every problem of ``files`` (shape, cross checks, expressions, duplicates, undeclared roles)."""
    from adapters.config import role_problems
    from adapters.definition_cache import load_file
    from engine import loader
    collect = getattr(loader, "validate_files", None)  # every problem of every file, where the loader has it
    problems: list[DefinitionError] = list(collect(list(files))) if collect is not None else []
    loaded: dict[str, CompiledWorkflow] = {}
    origins: dict[str, str | Path] = {}
    for path in files:
        try:
            workflow = load_file(path)
        except DefinitionError as exc:
            problems += [] if collect is not None else [exc]
            continue
        if workflow.name in loaded:
            if collect is None:
                problems.append(DefinitionError(f"workflow {workflow.name!r} is already defined in "
                                                f"{origins[workflow.name]}", source=str(path), line=1, column=1))
            continue
        loaded[workflow.name], origins[workflow.name] = workflow, path
    problems += role_problems(checked, loaded, origins)
    wrong = {p.source for p in problems}
    for name, workflow in loaded.items():
        d = workflow.definition
        if str(origins[name]) not in wrong:
            typer.echo(f"ok {name}: {len(d.states)} states, {len(d.events())} events, "
                       f"{len(d.deadlines)} deadlines ({workflow.content_hash[:12]})")
    return problems


@app.command()
def graph(workflow: str, fmt: Annotated[str, typer.Option("--format", help="mermaid or dot")] = "mermaid") -> None:
    """Print a workflow's state graph."""
    from adapters.bootstrap import load_workflows
    from engine.graph import to_dot, to_mermaid
    if fmt not in ("mermaid", "dot"):
        raise ValidationError("--format", f"{fmt!r} is not one of mermaid, dot")
    try:
        workflows = load_workflows(settings())
    except ConfigError:  # an undeclared role does not stop a drawing
        from adapters.definition_cache import load_directory
        workflows = load_directory(settings().workflows_path())
    if workflow not in workflows:
        raise ValidationError("workflow", f"unknown workflow {workflow!r} (known: {', '.join(sorted(workflows))})")
    definition = workflows[workflow].definition
    typer.echo(to_mermaid(definition) if fmt == "mermaid" else to_dot(definition), nl=False)


@app.command()
def schema(out: Annotated[Path | None, typer.Option(
        "--out", help="Write the schema to this file instead of printing it.")] = None) -> None:
    """Print the JSON Schema of a workflow file, for editors.

    Put ``# yaml-language-server: $schema=<path of the schema>`` at the top of a workflow file
    and an editor with the YAML language server checks keys and values as you type.
    """
    import json

    from engine.definitions import json_schema
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError("--out", f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"wrote {out}")
