"""L12 (DOMAIN §1.1; LEGAL-AUDIT §3.10): the head's reception schedule is posted at least 5 working days before.

workflows/reception_schedule.yaml: a deadline counted back from `reception_date` (`before:`); a day off moves the due
day back, never forward; a postponement re-projects it; a late posting is recorded missed.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine import Case, Engine, NotAllowedError, ValidationError
from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def scheduled(clock: ManualClock, reception: date) -> tuple[Engine, Case]:
    engine = memory_engine(clock)
    case = engine.open_case("reception_schedule", received_at=clock.now(), petitioners=[],
                            respondent="Sở Khoa học và Công nghệ", subject="Lịch tiếp công dân của Giám đốc Sở",
                            fields={"reception_date": reception.isoformat()})
    return engine, case


def test_a_reception_on_monday_7_september_2026_is_posted_by_wednesday_26_august() -> None:
    """Counting back 5 working days from Mon 07/09/2026 (the day itself not counted): Fri 04/09 (1), Thu 03/09 (2),
    02/09, 01/09, 31/08 off (Quốc khánh and its bridge day), Sat 29, Sun 30 off, Fri 28/08 (3), Thu 27/08 (4),
    Wed 26/08 (5): posted by the end of Wed 26/08."""
    clock = ManualClock(datetime(2026, 8, 17, 9, 0, tzinfo=TZ))
    engine, case = scheduled(clock, date(2026, 9, 7))
    assert case.deadlines["schedule_posting"].due_date == date(2026, 8, 26)
    clock.set(datetime(2026, 8, 26, 16, 0, tzinfo=TZ))
    posted = engine.fire(case.id, "post_schedule", actor="cb01", role="clerk")
    assert posted.deadlines["schedule_posting"].status == "met"


def test_posted_late_is_missed_and_a_postponement_counts_again() -> None:
    """Reception Mon 07/09 postponed (on Thu 20/08) to Mon 14/09: back 5 WD: Fri 11 (1), Thu 10 (2), Wed 09 (3),
    Tue 08 (4), Mon 07/09 (5) -> due end of Mon 07/09; posted Tue 08/09: missed."""
    clock = ManualClock(datetime(2026, 8, 17, 9, 0, tzinfo=TZ))
    engine, case = scheduled(clock, date(2026, 9, 7))
    clock.set(datetime(2026, 8, 20, 9, 0, tzinfo=TZ))
    case = engine.fire(case.id, "postpone", actor="tp01", role="head_of_unit",
                       payload={"reception_date": "2026-09-14", "reason": "Giám đốc đi công tác"})
    assert case.deadlines["schedule_posting"].due_date == date(2026, 9, 7)
    clock.set(datetime(2026, 9, 8, 9, 0, tzinfo=TZ))
    engine.tick()  # due end of Mon 07/09 passed unposted
    assert engine.get(case.id).deadlines["schedule_posting"].status == "missed"
    with pytest.raises(NotAllowedError, match="condition is false"):  # posting late is refused: postpone it
        engine.fire(case.id, "post_schedule", actor="cb01", role="clerk")



def test_a_reception_day_closer_than_the_lead_is_refused_naming_the_field() -> None:
    """Scheduled on Tue 01/09/2026 for Fri 04/09: fewer than 5 working days ahead: refused, nothing opened."""
    clock = ManualClock(datetime(2026, 9, 1, 9, 0, tzinfo=TZ))
    with pytest.raises(ValidationError, match="reception_date"):
        scheduled(clock, date(2026, 9, 4))
