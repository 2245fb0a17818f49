"""H13a (LEGAL-AUDIT §2): a letter is kept "01 năm" (TT 05/2021/TT-TTCP Điều 28), counted as a year.

BLDS 2015 Điều 148 k4: a period in years ends on the same-numbered day of the last year; 365 days were one
day short across 29 February.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_letter_filed_on_1_march_2027_is_kept_until_1_march_2028() -> None:
    """Filed Mon 01/03/2027 -> one year -> Wed 01/03/2028 (2028 is a leap year: 365 days would end Tue 29/02);
    01/03/2028 is a working day, so no roll."""
    clock = ManualClock(datetime(2027, 3, 1, 9, 0, tzinfo=TZ))
    engine = memory_engine(clock=clock)
    case = engine.open_case("letter", received_at=clock.now(), petitioners=[{"name": "Lê Văn C"}],
                            respondent="UBND xã Xuân Nộn", subject="Đơn phản ánh", content="Nội dung đơn")
    case = engine.fire(case.id, "classify", actor="cb01", role="clerk")
    case = engine.fire(case.id, "file", actor="cb01", role="clerk")
    retention = case.deadlines["retention"]
    assert (retention.amount, retention.unit) == (1, "year")
    assert retention.due_date == date(2028, 3, 1)
