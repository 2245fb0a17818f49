"""``kntc demo``: a simulated season around election day 15/03/2026 on SQLite.

Letters arrive (complaints, denunciations, petitions), officers act on most of them, some are
left to run late, the daemon ticks once a simulated hour; at the end a summary shows what the
engine kept: deadlines met and missed, warnings and overdue notices raised, the audit chain.
Everything goes through the public API (``build``, ``open_case``, ``fire``, ``tick``).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from adapters.bootstrap import build
from adapters.config import Settings
from engine.errors import NotAllowedError
from engine.model import Event
from engine.service import Engine
from engine.testing import ManualClock

__all__ = ["run_demo"]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 1, 19, 8, 0, tzinfo=TZ)  # about eight weeks before election day
DAYS = 90
# What an officer does next, in order of preference, among the events the case allows.
PATHS = {
    "complaint": ["accept", "start_verification", "draft_decision", "decide", "send_decision",
                  "confirm_delivery", "enforce", "close"],
    "denunciation": ["start_check", "accept", "notify_parties", "start_verification", "extend", "conclude",
                     "send_conclusion", "act", "close"],
    "petition": ["classify", "accept", "assign", "answer", "close"],
}
ROLES = ("inspector", "head_of_unit", "director", "clerk")


def run_demo(settings: Settings, *, database: Path, cases: int = 40, seed: int = 2026,
             console: Console | None = None) -> dict[str, int]:
    """Run the simulation into ``database`` (recreated) and print a summary; returns the counts."""
    console = console or Console()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    clock = ManualClock(START)
    eng = build(settings, database_url=f"sqlite:///{database.resolve()}", clock=clock)
    rng = random.Random(seed)
    arrivals = sorted(rng.randrange(0, DAYS - 40) * 24 + rng.randrange(8, 17) for _ in range(cases))
    plans: list[tuple[str, list[str], int]] = []  # case id, remaining events, officer's pace in days
    fired = Counter[str]()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=DAYS * 24)
        for hour in range(DAYS * 24):
            clock.set(START + timedelta(hours=hour))
            while arrivals and arrivals[0] <= hour:
                arrivals.pop(0)
                kind = rng.choice(list(PATHS))
                case = eng.open_case(kind, received_at=clock.now(), petitioners=[{"name": f"Công dân {hour}"}],
                                     respondent="Phòng Quản lý chuyên ngành", subject="Đơn thư mô phỏng",
                                     content="Nội dung mô phỏng.", channel=rng.choice(["post", "portal"]),
                                     fields={"remote_area": rng.random() < 0.2} if kind == "complaint" else {})
                path = [e for e in PATHS[kind] if e != "extend" or rng.random() < 0.4]
                plans.append((case.id, path, rng.choice([2, 4, 6, 9, 15])))
            if hour % 24 == 10:  # officers act each morning, at their own pace
                for case_id, remaining, pace in plans:
                    if remaining and (hour // 24) % pace == 0:
                        event = _act(eng, case_id, remaining)
                        if event:
                            fired[event] += 1
            eng.tick()
            progress.advance(task)
    counts = Counter(e.type for e in _all_events(eng))
    audit = eng.verify_audit()
    console.print(f"kntc demo: {cases} letters from {START:%d/%m/%Y}, {DAYS} days around election day 15/03/2026")
    table = Table(title="what the engine kept")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name in ("case.opened", "case.transitioned", "deadline.warning", "deadline.overdue", "deadline.extended"):
        table.add_row(name, str(counts.get(name, 0)))
    table.add_row("audit chain", "intact" if audit.ok else f"{len(audit.problems)} problems")
    console.print(table)
    console.print(f"database: {database}; look inside with: KNTC_DATABASE_URL=sqlite:///{database.resolve()} "
                  ".venv/bin/kntc events")
    return dict(counts)


def _act(eng: Engine, case_id: str, remaining: list[str]) -> str | None:
    """Fire the first planned event some role may fire now; drop the plan's steps it skipped."""
    for role in ROLES:
        allowed = eng.allowed_events(case_id, role=role)
        for index, event in enumerate(remaining):
            if event in allowed:
                del remaining[: index + 1]
                try:
                    eng.fire(case_id, event, actor="cb01", role=role, payload=_payload(eng, case_id, event))
                except NotAllowedError:
                    return None
                return event
    return None


def _payload(eng: Engine, case_id: str, event: str) -> dict[str, object]:
    """Plausible values for the payload fields the event requires."""
    case = eng.get(case_id)
    workflow = eng.runtime.workflow(case.kind)
    samples = {"str": "Mô phỏng", "int": 1, "bool": True, "list": [], "date": case.received_at.date().isoformat()}
    for transition in workflow.candidates(event, case.state, case.previous_state):
        return {name: (spec.choices[0] if spec.choices else samples[spec.type])
                for name, spec in transition.spec.payload.items() if spec.required}
    return {}


def _all_events(eng: Engine) -> list[Event]:
    out: list[Event] = []
    after = 0
    while True:
        batch = eng.events(after=after, limit=1000)
        if not batch:
            return out
        out.extend(batch)
        after = batch[-1].seq
