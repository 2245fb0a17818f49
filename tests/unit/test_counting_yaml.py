"""A workflow file whose deadlines count in months and years (DESIGN.md §3 units), through the engine.

Hand counts (BLDS 2015 Điều 148): "01 năm" from Mon 01/03/2027 ends Wed 01/03/2028 (H13a; 365 days
would end Tue 29/02/2028); "01 tháng" from Sun 31/01/2027 ends on February's last day, Sun
28/02/2027, a day off, so Mon 01/03/2027; "03 tháng" from Mon 01/03/2027 ends Tue 01/06/2027.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine import Engine
from engine.testing import ManualClock, default_calendar, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
D = date

WORKFLOW = """\
name: keeping
label: "Lưu hồ sơ đơn"
initial: kept
states:
  kept: {label: "Đang lưu"}
  suspended: {label: "Tạm dừng"}
  closed: {label: "Đã hủy", final: true}
transitions:
  - {event: suspend, from: kept, to: suspended, roles: [clerk]}
  - {event: resume, from: suspended, to: kept, roles: [clerk]}
  - {event: extend, from: kept, to: kept, roles: [clerk]}
  - {event: close, from: kept, to: closed, roles: [clerk]}
deadlines:
  retention:
    starts_on: [opened]
    stops_on: [close]
    pauses_in: [suspended]
    budget: {amount: 1, unit: year}
    extensions: {event: extend, max_times: 1, amount: 1, unit: year}
    legal_basis: "BLDS 2015 Điều 148 (thời hạn 01 năm)"
  review:
    starts_on: [opened]
    stops_on: [close]
    budget: {amount: 1, unit: month}
    rules:
      - from: 2027-03-01
        budget: {amount: 3, unit: month}
        legal_basis: "03 tháng kể từ 01/03/2027"
    legal_basis: "01 tháng"
"""


def opened(tmp_path: Path, received: date) -> tuple[Engine, str]:
    (tmp_path / "keeping.yaml").write_text(WORKFLOW, encoding="utf-8")
    clock = ManualClock(datetime(received.year, received.month, received.day, 9, tzinfo=TZ))
    engine = memory_engine(clock, tmp_path, calendar=default_calendar())
    case = engine.open_case("keeping", received_at=clock.now(), petitioners=[], respondent="UBND xã",
                            subject="Lưu hồ sơ đơn")
    return engine, case.id


def test_a_year_and_months_from_a_workflow_file(tmp_path: Path) -> None:
    engine, case_id = opened(tmp_path, D(2027, 3, 1))
    case = engine.get(case_id)
    retention, review = case.deadlines["retention"], case.deadlines["review"]
    assert (retention.amount, retention.unit, retention.due_date) == (1, "year", D(2028, 3, 1))
    assert (review.amount, review.unit, review.due_date) == (3, "month", D(2027, 6, 1))
    # extended by a year, in years: 01/03/2029 (Thu)
    fired = engine.fire(case_id, "extend", actor="cb.lan", role="clerk")
    assert (fired.deadlines["retention"].amount, fired.deadlines["retention"].due_date) == (2, D(2029, 3, 1))


def test_a_month_ending_on_a_missing_day(tmp_path: Path) -> None:
    engine, case_id = opened(tmp_path, D(2027, 1, 31))
    review = engine.get(case_id).deadlines["review"]
    assert (review.amount, review.unit, review.due_date) == (1, "month", D(2027, 3, 1))
