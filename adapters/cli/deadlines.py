"""``kntc deadlines``: every legal deadline of the workflows as a table a jurist can review.

One row per deadline of each workflow (the configured ``workflows_dir``, by default the shipped
workflows): its budget in words as the law writes it ("10 ngày làm việc", "30 ngày", "01 năm"),
the variants that change it, the effective-dated rules ("from 01/07/2026: 07 ngày làm việc"),
the events that start and stop its clock, the states that pause it, extensions, warnings, whose
time it is (``office``: the unit's duty; ``citizen``: the citizen's window, no overrun) and the
legal basis. Plain text by default, ``--markdown`` a GitHub table, ``--json`` one object per
line. ``--update-readme README.md`` writes the markdown table between the markers
``<!-- deadlines:start -->`` and ``<!-- deadlines:end -->`` of that file, so the README's table
is generated, never edited by hand (``tests/unit/test_deadline_table.py`` fails when it is stale).

The rendering functions are pure (definitions in, text out); only :func:`deadlines` reads files.
"""

from __future__ import annotations

import json
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.common import app, settings
from engine.errors import ValidationError

if TYPE_CHECKING:
    from engine.definitions import Budget, DeadlineRule, DeadlineSpec, DeadlineVariant, Extension, WorkflowDefinition

__all__ = ["COLUMNS", "END", "START", "Row", "budget_words", "deadlines", "json_lines", "markdown", "rows",
           "splice", "text_table"]

START = "<!-- deadlines:start -->"
END = "<!-- deadlines:end -->"
#: The table's columns, in order.
COLUMNS = ("Workflow", "Deadline", "Label", "Applies when", "Budget", "Variants", "Effective-dated rules",
           "Starts on", "Stops on", "Pauses in", "Extensions", "Warn at", "On due", "Owner", "Legal basis")
_UNITS = {"working": "ngày làm việc", "calendar": "ngày", "month": "tháng", "year": "năm"}
_PAUSE = {"exclude": "paused days not counted", "restart": "restarts after a pause"}
#: What the pseudo-event ``opened`` means: the clock starts on the day the letter was received.
_OPENED = "ngày tiếp nhận"
_NONE = "—"
_TEXT_WIDTH = 28  # widest cell of the plain text table before it wraps (legal basis: twice that)


@dataclass(frozen=True)
class Row:
    """One deadline of one workflow: each cell a list of lines (empty: nothing to say)."""

    workflow: str
    deadline: str
    cells: tuple[tuple[str, ...], ...]
    data: dict[str, Any]


def budget_words(amount: int, unit: str) -> str:
    """A budget as the law writes it: two digits at least, then the unit ("07 ngày làm việc", "01 năm")."""
    return f"{amount:02d} {_UNITS[unit]}"


def _budget(budget: Budget) -> str:
    return budget_words(budget.amount, budget.unit)


def _code(text: str) -> str:
    return f"`{text}`"


def _variant(variant: DeadlineVariant) -> str:
    basis = f" ({variant.legal_basis})" if variant.legal_basis else ""
    return f"{_code(variant.when)} → {_budget(variant.budget)}{basis}"


def _rule(rule: DeadlineRule, base: Budget) -> list[str]:
    day = rule.effective_from.strftime("%d/%m/%Y")
    lines = [f"from {day}: {_budget(rule.budget or base)} ({rule.legal_basis})"]
    if rule.variants is not None:
        lines += [f"from {day}: {_variant(v)}" for v in rule.variants] or [f"from {day}: no variants"]
    return lines


def _extension(ext: Extension, base: Budget) -> str:
    basis = f" ({ext.legal_basis})" if ext.legal_basis else ""
    times = "once" if ext.max_times == 1 else f"at most {ext.max_times} times"
    return f"+{budget_words(ext.amount, ext.unit or base.unit)} on {_code(ext.event)}, {times}{basis}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _event_labels(defn: WorkflowDefinition) -> dict[str, str]:
    labels: dict[str, str] = {}
    for t in defn.transitions:
        if t.label and t.event not in labels:
            labels[t.event] = t.label
    return labels


def _starts(events: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    from engine.definitions import OPENED
    out = []
    for event in events:
        label = _OPENED if event == OPENED else labels.get(event)
        out.append(f"{_code(event)} ({label})" if label else _code(event))
    return out


def _budget_cell(spec: DeadlineSpec) -> str:
    if spec.before is not None:  # counted back: the budget is the lead before a date field
        return f"{_budget(spec.budget)} before {_code(spec.before.field)}"
    text = _budget(spec.budget)
    if spec.plus_field is not None:  # K1: time lost to obstacles is not counted
        text += f" + {_code(spec.plus_field)}"
    if spec.start_from == "received":
        text += ", from the day of receipt"
    elif spec.start_from is not None:
        text += f", from {_code(spec.start_from.field)}"
    return text


def _stops(spec: DeadlineSpec) -> list[str]:
    lines = [", ".join(_code(e) for e in spec.stops_on)] if spec.stops_on else []
    if spec.outlives_final:
        lines.append("runs on after a final state")
    if spec.on_missed is not None:
        lines.append(f"when missed: {_code(spec.on_missed)}")
    return lines


def _json_budget(budget: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if budget is None:
        return None
    return {**budget, "text": budget_words(budget["amount"], budget["unit"])}


def _data(workflow: str, name: str, spec: DeadlineSpec) -> dict[str, Any]:
    dumped = spec.model_dump(mode="json", by_alias=True)
    for variant in dumped["variants"]:
        variant["budget"] = _json_budget(variant["budget"])
    for rule in dumped["rules"]:
        rule["budget"] = _json_budget(rule["budget"])
        for variant in rule["variants"] or []:
            variant["budget"] = _json_budget(variant["budget"])
    ext = dumped["extensions"]
    if ext is not None:
        ext["text"] = budget_words(ext["amount"], ext["unit"] or spec.budget.unit)
    return {"workflow": workflow, "deadline": name, **dumped, "budget": _json_budget(dumped["budget"])}


def rows(definitions: Sequence[WorkflowDefinition]) -> list[Row]:
    """One :class:`Row` per deadline, workflows in the given order, deadlines in declaration order."""
    out: list[Row] = []
    for defn in definitions:
        labels = _event_labels(defn)
        for name, spec in defn.deadlines.items():
            pauses = [f"{_code(s)} ({_PAUSE[spec.pause_policy]})" for s in spec.pauses_in]
            cells: list[list[str]] = [
                [_code(defn.name)], [_code(name)], [spec.label] if spec.label else [],
                [_code(spec.when)] if spec.when else [], [_budget_cell(spec)],
                [_variant(v) for v in spec.variants],
                [line for rule in spec.rules for line in _rule(rule, spec.budget)],
                _starts(spec.starts_on, labels), _stops(spec), pauses,
                [_extension(spec.extensions, spec.budget)] if spec.extensions else [],
                [", ".join(_percent(f) for f in spec.warn_at)] if spec.warn_at else [],
                [_code(spec.on_due)] if spec.on_due else [], [spec.owner], [spec.legal_basis]]
            out.append(Row(defn.name, name, tuple(tuple(_nfc(c) for c in cell) for cell in cells),
                           _data(defn.name, name, spec)))
    return out


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# -- renderers ----------------------------------------------------------------------------------
def _md_cell(lines: Sequence[str]) -> str:
    return "<br>".join(line.replace("|", "\\|") for line in lines) or _NONE


def markdown(table: Sequence[Row]) -> str:
    """A GitHub table: one line per deadline, several values in a cell joined by ``<br>``."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row.cells) + " |" for row in table]
    return "\n".join(lines) + "\n"


def json_lines(table: Sequence[Row]) -> str:
    """One JSON object per deadline and line: the definition's fields, each budget with its ``text``."""
    return "".join(json.dumps(row.data, ensure_ascii=False) + "\n" for row in table)


def _wrapped(lines: Sequence[str], width: int) -> list[str]:
    plain = [line.replace("`", "") for line in lines] or [_NONE]
    return [part for line in plain for part in textwrap.wrap(line, width) or [""]]


def text_table(table: Sequence[Row]) -> str:
    """Aligned columns for a terminal; a long cell wraps within its column, a blank line between rows."""
    caps = [2 * _TEXT_WIDTH if name == "Legal basis" else _TEXT_WIDTH for name in COLUMNS]
    cells = [[_wrapped(cell, cap) for cell, cap in zip(row.cells, caps, strict=True)] for row in table]
    widths = [max([len(name), *(len(line) for row in cells for line in row[i])]) for i, name in enumerate(COLUMNS)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(COLUMNS), line(["-" * w for w in widths])]
    for i, row in enumerate(cells):
        if i:
            out.append("")
        height = max(len(c) for c in row)
        out += [line([c[k] if k < len(c) else "" for c in row]) for k in range(height)]
    return "\n".join(out) + "\n"


def splice(text: str, table: str, source: str = "README.md") -> str:
    """``text`` with everything between its :data:`START` and :data:`END` marker lines replaced by ``table``.

    Raises :class:`~engine.errors.ValidationError` naming ``source`` when the markers are missing,
    repeated or out of order.
    """
    found = {marker: [i for i, ln in enumerate(text.splitlines()) if ln.strip() == marker] for marker in (START, END)}
    for marker, at in found.items():
        if len(at) != 1:
            where = f"found on lines {', '.join(str(i + 1) for i in at)}" if at else "not found"
            raise ValidationError("--update-readme", f"{source}: the line {marker} must occur once ({where})")
    start, end = found[START][0], found[END][0]
    if end < start:
        raise ValidationError("--update-readme", f"{source}:{end + 1}: {END} comes before {START} (line {start + 1})")
    lines = text.splitlines(keepends=True)
    return "".join(lines[:start + 1]) + table + "".join(lines[end:])


# -- the command ----------------------------------------------------------------------------------
def _definitions(names: Sequence[str]) -> list[WorkflowDefinition]:
    from adapters.definition_cache import load_directory
    workflows = load_directory(settings().workflows_path())
    for name in names:
        if name not in workflows:
            raise ValidationError("workflow", f"unknown workflow {name!r} (known: {', '.join(sorted(workflows))})")
    chosen = list(dict.fromkeys(names)) or sorted(workflows)
    return [workflows[name].definition for name in chosen]


@app.command()
def deadlines(
        workflows: Annotated[list[str] | None, typer.Argument(
            help="Workflow names (default: every configured workflow, by name).")] = None,
        as_markdown: Annotated[bool, typer.Option("--markdown", help="Print a GitHub markdown table.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per deadline and line.")] = False,
        update_readme: Annotated[Path | None, typer.Option(
            "--update-readme", help="Write the markdown table between the deadlines markers of this file.")] = None,
) -> None:
    """Every deadline of the workflows: budget, variants, dated rules, start/stop events, legal basis."""
    if as_markdown and as_json:
        raise ValidationError("--json", "choose one of --markdown and --json")
    if update_readme is not None and as_json:
        raise ValidationError("--update-readme", "writes the markdown table; drop --json")
    table = rows(_definitions(workflows or []))
    if update_readme is None:
        typer.echo(markdown(table) if as_markdown else json_lines(table) if as_json else text_table(table), nl=False)
        return
    try:
        before = update_readme.read_text(encoding="utf-8")
        after = splice(before, markdown(table), str(update_readme))
        if after != before:
            update_readme.write_text(after, encoding="utf-8")
    except OSError as exc:
        raise ValidationError("--update-readme", f"cannot rewrite {update_readme}: {exc.strerror}") from None
    typer.echo(f"{'updated' if after != before else 'up to date'}: {update_readme} ({len(table)} deadlines)")
