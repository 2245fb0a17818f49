"""The demo's summary, computed from the engine's feed (never from the script's own counters).

By kind: letters received (``case.opened``), resolved on time or late, overdue now, still open.
A case is resolved by the first of its kind's resolving acts (:data:`RESOLVING`: a decision, a
conclusion, an answer, a letter's outcome, the end of a visit); it is late when one of its
officers' deadlines ran out (``deadline.overdue``) before it was resolved, overdue now when it
is unresolved and one has. A deadline whose definition says ``owner: citizen`` (time to appeal,
to sue; the event's ``owner``) is no officer's: its end counts for neither.
Then hot spots by type (``hotspot.detected``), escalations by phase (``escalation.raised``, the
phase from ``period.phase_changed``), the phase changes with their dates and the roster gaps.
The same feed prints the same text: no ids, no wall-clock values.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from adapters.config import Settings
from engine.model import Event
from engine.service import Engine

__all__ = ["RESOLVING", "KindRow", "Summary", "all_events", "summarise", "write_feed"]

#: the acts that resolve a case of each kind (the first one counts)
RESOLVING: Mapping[str, frozenset[str]] = {
    "complaint": frozenset({"decide", "reject", "transfer", "withdraw", "terminate"}),
    "denunciation": frozenset({"conclude", "reject", "transfer", "terminate"}),
    "petition": frozenset({"answer", "reject", "transfer", "withdraw"}),
    "letter": frozenset({"accept", "guide", "transfer", "file", "merge", "split", "no_action", "route_election",
                         "inspect_only", "urge_lower_level"}),
    "reception": frozenset({"take_letter", "guide", "refuse", "refuse_persistent", "close"}),
}
KIND_LABELS = {"letter": "Đơn (xử lý đơn)", "complaint": "Khiếu nại", "denunciation": "Tố cáo",
               "petition": "Kiến nghị, phản ánh", "reception": "Tiếp công dân"}
PHASE_LABELS = {"before": "trước bầu cử", "during": "ngày bầu cử", "after": "sau bầu cử", "": "ngoài thời kỳ"}


@dataclass(frozen=True, slots=True)
class KindRow:
    """One kind's counts."""

    kind: str
    received: int
    on_time: int
    late: int
    overdue_now: int
    open: int


@dataclass
class Summary:
    """What the season left, as counts and dated lists (plain values, comparable between runs)."""

    first: date | None = None
    last: date | None = None
    kinds: list[KindRow] = field(default_factory=list)
    hot_spots: dict[str, int] = field(default_factory=dict)
    #: (phase, rule) -> count
    escalations: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (day, period, phase), in order
    phase_changes: list[tuple[date, str, str]] = field(default_factory=list)
    roster_gaps: list[date] = field(default_factory=list)
    events: int = 0

    @classmethod
    def empty(cls) -> Summary:
        """A summary of nothing."""
        return cls()

    def print(self, console: Console, *, files: Mapping[str, Path], database: Path, settings: Settings) -> None:
        """The tables, the files written and the commands to try next."""
        span = f"{self.first:%d/%m/%Y} – {self.last:%d/%m/%Y}" if self.first and self.last else "—"
        console.print(f"[bold]kntc demo[/bold]: mùa bầu cử 2026 ({span}), ngày bầu cử 15/03/2026; "
                      f"{self.events} sự kiện trong feed")
        console.print(self._kinds_table())
        spots = Table(title="Điểm nóng theo loại (hotspot.detected)")
        spots.add_column("loại")
        spots.add_column("số", justify="right")
        for kind, count in sorted(self.hot_spots.items()):
            spots.add_row(kind, str(count))
        console.print(spots)
        esc = Table(title="Cảnh báo (escalation.raised) theo giai đoạn")
        for name in ("giai đoạn", "quy tắc", "số"):
            esc.add_column(name, justify="right" if name == "số" else "left")
        for (phase, rule), count in sorted(self.escalations.items()):
            esc.add_row(PHASE_LABELS.get(phase, phase), rule, str(count))
        console.print(esc)
        for day, period, phase in self.phase_changes:
            console.print(f"chuyển giai đoạn: {day:%d/%m/%Y} {period} → {PHASE_LABELS.get(phase, phase)} ({phase})")
        gaps = ", ".join(f"{d:%d/%m/%Y}" for d in self.roster_gaps) or "không có"
        console.print(f"ngày thiếu người trực tiếp công dân (roster.gap): {gaps}")
        console.print("tệp đã ghi:")
        for name, path in files.items():
            console.print(f"  {name}: {path}", soft_wrap=True)
        url = f"sqlite:///{database.resolve()}"
        config = settings.source or "default"
        console.print("thử tiếp:", soft_wrap=True)
        for command in ("hotspots", "roster check --from 2026-03-01 --to 2026-03-15", "audit verify"):
            console.print(f"  KNTC_DATABASE_URL={url} .venv/bin/kntc --config {config} {command}", soft_wrap=True,
                          markup=False)

    def _kinds_table(self) -> Table:
        table = Table(title="Theo loại đơn")
        for name in ("loại", "tiếp nhận", "giải quyết đúng hạn", "quá hạn khi giải quyết", "đang quá hạn",
                     "đang giải quyết"):
            table.add_column(name, justify="left" if name == "loại" else "right")
        for row in self.kinds:
            table.add_row(KIND_LABELS.get(row.kind, row.kind), str(row.received), str(row.on_time), str(row.late),
                          str(row.overdue_now), str(row.open))
        return table


def all_events(eng: Engine, *, page: int = 1000) -> Iterator[Event]:
    """Every event of the feed, in order."""
    after = 0
    while batch := eng.events(after=after, limit=page):
        yield from batch
        after = batch[-1].seq


def summarise(eng: Engine, tz: ZoneInfo) -> Summary:
    """The summary of everything in ``eng``'s feed."""
    kinds: dict[str, str] = {}
    resolved: dict[str, int] = {}  # case -> seq of its resolving act
    overdue: dict[str, list[int]] = {}  # case -> seqs of its officers' overdue deadlines
    out = Summary()
    spans: list[tuple[date, date, str]] = []
    pending_escalations: list[tuple[date, str]] = []
    for event in all_events(eng):
        out.events += 1
        day = event.at.astimezone(tz).date()
        out.first = out.first or day
        out.last = day
        case = event.case_id
        if event.type == "case.opened" and case:
            kinds[case] = str(event.data["kind"])
        elif event.type == "case.transitioned" and case and case not in resolved:
            if event.data.get("event") in RESOLVING.get(kinds.get(case, ""), frozenset()):
                resolved[case] = event.seq
        elif event.type == "deadline.overdue" and case and event.data.get("owner") != "citizen":
            overdue.setdefault(case, []).append(event.seq)
        elif event.type == "hotspot.detected":
            spot = str(event.data.get("type"))
            out.hot_spots[spot] = out.hot_spots.get(spot, 0) + 1
        elif event.type == "escalation.raised":
            pending_escalations.append((day, str(event.data.get("rule"))))
        elif event.type == "period.phase_changed":
            out.phase_changes.append((day, str(event.data["period"]), str(event.data["phase"])))
            spans.append((date.fromisoformat(str(event.data["from"])), date.fromisoformat(str(event.data["to"])),
                          str(event.data["phase"])))
        elif event.type == "roster.gap":
            out.roster_gaps.append(date.fromisoformat(str(event.data["day"])))
    for day, rule in pending_escalations:
        phase = next((name for start, end, name in spans if start <= day <= end), "")
        out.escalations[(phase, rule)] = out.escalations.get((phase, rule), 0) + 1
    out.kinds = _rows(kinds, resolved, overdue)
    return out


def _rows(kinds: Mapping[str, str], resolved: Mapping[str, int], overdue: Mapping[str, list[int]]) -> list[KindRow]:
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in RESOLVING}
    for case, kind in kinds.items():
        if kind not in counts:
            continue  # not a letter: the head's reception days (reception_schedule)
        tally = counts[kind]
        tally["received"] += 1
        late = overdue.get(case, [])
        if case in resolved:
            tally["late" if any(seq < resolved[case] for seq in late) else "on_time"] += 1
        else:
            tally["overdue_now" if late else "open"] += 1
    return [KindRow(kind, c["received"], c["on_time"], c["late"], c["overdue_now"], c["open"])
            for kind, c in counts.items()]


def write_feed(eng: Engine, path: Path) -> Path:
    """The whole feed as JSON lines (``seq``, ``type``, ``case_id``, ``at``, ``data``) to ``path``."""
    with path.open("w", encoding="utf-8") as out:
        for event in all_events(eng):
            out.write(json.dumps({"seq": event.seq, "type": event.type, "case_id": event.case_id,
                                  "at": event.at.isoformat(), "data": event.data},
                                 ensure_ascii=False, sort_keys=True, default=str) + "\n")
    return path
