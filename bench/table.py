"""One results table for every benchmark: a figure, the reference measured in the same run, the ratio.

A benchmark adds :class:`Row` values to the :class:`Table` of the run; the table prints them all
at the end (rich on a terminal, Markdown for ``bench/RESULTS.md``). A new benchmark (hot-spot
detection on opening, notification dispatch, ...) adds rows: nothing else changes.

The ratio is always ``figure / reference``. A :class:`Target` says which way is good
(``>=`` for throughputs, ``<=`` for costs) and whether it applies to the ratio (the usual case:
the machine is shared and noisy, so only a ratio to a reference measured in the same run is
comparable between runs) or to the figure itself (e.g. bytes retained per idle case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Row", "Table", "Target", "fmt"]


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for a row: ``ratio >= 0.1``, ``figure <= 64`` and so on."""

    op: Literal[">=", "<="]
    value: float
    on: Literal["ratio", "figure"] = "ratio"

    def holds(self, row: Row) -> bool | None:
        got = row.ratio if self.on == "ratio" else row.figure
        if got is None or math.isnan(got):
            return None
        return got >= self.value if self.op == ">=" else got <= self.value

    def __str__(self) -> str:
        value = f"{self.value:g}x" if self.on == "ratio" else fmt(self.value)
        return f"{self.on} {self.op} {value}"


@dataclass(slots=True)
class Row:
    """One line of the table. ``figure is None`` means the row was skipped (see ``note``)."""

    bench: str
    name: str
    figure: float | None
    unit: str
    ref_name: str = ""
    ref: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or self.ref is None:
            return None
        if self.ref == 0:
            return math.inf if self.figure else 1.0
        return self.figure / self.ref

    @property
    def verdict(self) -> str:
        if self.figure is None:
            return "skipped"
        if self.target is None:
            return "info"
        held = self.target.holds(self)
        return "n/a" if held is None else ("holds" if held else "MISSES")


def fmt(value: float | None, unit: str = "") -> str:
    """A number for a human: thousands separators for big ones, 3 significant digits for small."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "inf"
    magnitude = abs(value)
    if float(value).is_integer() and magnitude < 1000:
        text = f"{value:.0f}"
    elif magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.01 or magnitude == 0:
        text = f"{value:.3g}" if magnitude < 1 else f"{value:.2f}"
    else:
        text = f"{value:.2e}"
    return f"{text} {unit}".strip()


def _ratio(row: Row) -> str:
    r = row.ratio
    if r is None:
        return "—"
    if math.isinf(r):
        return "inf"
    return f"{r:.3g}x" if r < 100 else f"{r:,.0f}x"


@dataclass
class Table:
    """The rows of one run, and free-form notes (query plans, statement counts) printed after."""

    rows: list[Row] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def note(self, title: str, text: str) -> None:
        self.notes.append((title, text.rstrip()))

    # -- output -------------------------------------------------------------------------------
    HEADER = ("bench", "figure", "value", "reference (same run)", "ref value", "ratio", "target", "verdict")

    def cells(self, row: Row) -> tuple[str, ...]:
        name = row.name + (f" [{row.note}]" if row.note else "")
        return (row.bench, name, fmt(row.figure, row.unit), row.ref_name or "—", fmt(row.ref, row.unit),
                _ratio(row), str(row.target) if row.target else "—", row.verdict)

    def print(self) -> None:
        """Print the table (rich) and the notes to stdout."""
        from rich.console import Console
        from rich.table import Table as RichTable

        console = Console(width=max(Console().width, 180))
        table = RichTable(title="kntc benchmarks (ratio = value / reference, both measured in this run)",
                          show_lines=False, expand=False)
        for i, title in enumerate(self.HEADER):
            table.add_column(title, justify="right" if i in (2, 4, 5) else "left",
                             overflow="fold", max_width=60 if i in (1, 3) else None)
        styles = {"holds": "green", "MISSES": "bold red", "skipped": "yellow"}
        for row in self.rows:
            cells = list(self.cells(row))
            style = styles.get(row.verdict)
            if style:
                cells[-1] = f"[{style}]{cells[-1]}[/{style}]"
            table.add_row(*cells)
        console.print(table)
        for title, text in self.notes:
            console.rule(title, align="left")
            console.print(text, markup=False, highlight=False)

    def markdown(self) -> str:
        """The table and notes as Markdown (for bench/RESULTS.md)."""
        lines = ["| " + " | ".join(self.HEADER) + " |", "|" + "---|" * len(self.HEADER)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in self.cells(row)) + " |" for row in self.rows]
        for title, text in self.notes:
            lines += ["", f"**{title}**", "", "```", text, "```"]
        return "\n".join(lines) + "\n"
