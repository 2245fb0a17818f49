"""``start_from``: a clock started by a later event counts from the case's receipt or a date field
(issue 10 task K item 3; B6, K1), walked on tests/unit/schema_workflows/late_duties.yaml.
Dates are Hà Nội local dates on 2026's calendar (Tết 14-22/02 off).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.service import Engine
from engine.testing import ManualClock, memory_engine
from tests.unit.broken_copy import broken_copy

HN = ZoneInfo("Asia/Ho_Chi_Minh")
FOLDER = Path(__file__).parent / "schema_workflows"
GOOD = FOLDER / "late_duties.yaml"


def at(day: int, month: int, year: int = 2026, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=HN)


def opened(on: datetime, **fields: Any) -> tuple[Engine, ManualClock, str]:
    clock = ManualClock(on)
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("late_duties", received_at=on, petitioners=[{"name": "Người khiếu nại"}],
                            respondent="UBND huyện", subject="Thu hồi đất", fields=fields)
    return engine, clock, case.id


def test_a_transfer_found_after_opening_counts_from_receipt() -> None:
    """Received Thu 12/02/2026; lack of jurisdiction found Tue 24/02 after Tết. 5 WD from receipt:
    Fri 13/02 (1), Tết 14-22/02 off, Mon 23 (2), Tue 24 (3), Wed 25 (4), Thu 26/02 (5) -> due Thu 26/02
    (counted from the finding it would be Tue 03/03)."""
    engine, clock, case_id = opened(at(12, 2))
    engine.fire(case_id, "accept", actor="cb01", role="clerk")
    clock.set(at(24, 2))
    case = engine.fire(case_id, "out_of_jurisdiction", actor="cb01", role="clerk")
    transfer = case.deadlines["transfer"]
    assert (transfer.status, transfer.due_date) == ("running", date(2026, 2, 26))
    clock.set(at(27, 2))
    late = engine.fire(case_id, "transfer", actor="cb01", role="clerk")
    assert late.deadlines["transfer"].status == "missed"  # Fri 27/02 is past the end of 26/02


def test_a_clock_from_a_date_field_counts_from_that_date() -> None:
    """Known on Mon 01/12/2025, received Mon 02/02/2026: 90 CD from 01/12 = 31/12 (30), 31/01 (61),
    28/02 (89), Sun 01/03 (90), a day off -> due Mon 02/03/2026."""
    engine, _, case_id = opened(at(2, 2), known_on="2025-12-01")
    limitation = engine.get(case_id).deadlines["limitation"]
    assert limitation.due_date == date(2026, 3, 2)


def test_an_empty_date_field_counts_from_the_event() -> None:
    """No known_on: the limitation counts from the event (the receipt, Mon 02/02/2026)."""
    engine, _, case_id = opened(at(2, 2))
    # 02/02 + 90 CD: 28/02 (26), 31/03 (57), 30/04 (87), Sun 03/05 (90) -> Mon 04/05/2026
    assert engine.get(case_id).deadlines["limitation"].due_date == date(2026, 5, 4)


def _broken(tmp_path: Path, old: str, new: str) -> str:
    return broken_copy(GOOD, tmp_path, old, new)


def test_start_from_names_a_date_field(tmp_path: Path) -> None:
    assert "field 'known_at' is not declared" in _broken(tmp_path, "start_from: {field: known_on}",
                                                         "start_from: {field: known_at}")


def test_start_from_takes_received_or_a_field(tmp_path: Path) -> None:
    assert "start_from" in _broken(tmp_path, "start_from: received", "start_from: opened")
