"""A portal's use of the public API, type-checked by mypy (strict) with the rest of the contract.

Not a test that runs: `make test` runs mypy over it, so a change to the API that would break a
portal's typed code breaks the build.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from adapters.bootstrap import build
from engine import Case, ConflictError, Deadline, Engine, Event, HistoryEntry, NotAllowedError, TickReport
from engine.testing import ManualClock


def portal(config: str) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    eng: Engine = build(config, database_url="sqlite:///portal.db", clock=clock)
    case: Case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Nguyễn Văn A"}],
                               respondent="Phòng A", subject="Đất đai", channel="portal",
                               fields={"remote_area": False})
    forwarded: Case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Nguyễn Văn B"}],
                                    respondent="UBND xã A", subject="Đất đai", channel="forwarded",
                                    forwarded_from={"body": "Thanh tra Chính phủ", "level": "central"})
    body: str | None = forwarded.forwarded_from["body"] if forwarded.forwarded_from else None
    flagged: list[tuple[str, datetime]] = [(f.type, f.since) for f in forwarded.flags]
    print(body, flagged)
    acceptance: Deadline = case.deadlines["acceptance"]
    due: date | None = acceptance.due_date
    allowed: list[str] = eng.allowed_events(case.id, role="inspector")
    try:
        case = eng.fire(case.id, allowed[0], actor="cb01", role="inspector", payload={},
                        expected_version=case.version)
    except (NotAllowedError, ConflictError) as refusal:
        print(refusal, due)
    case = eng.fire(case.id, "start_verification", actor="cb01", role="inspector",
                    occurred_at=datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    history: list[HistoryEntry] = eng.history(case.id)
    signed: datetime | None = history[-1].occurred_at
    recorded: datetime = history[-1].at
    print(signed or recorded)
    feed: list[Event] = eng.events(after=history[-1].seq, limit=100)
    report: TickReport = eng.tick()
    print(report.fired, [e.seq for e in feed])
    eng.close()
