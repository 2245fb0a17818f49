"""The names guards and deadline conditions see outside a command: the tick, the listing, the view.

Follow-ups of the schema features (issue 10 item 6) that back-entry builds on: a deadline variant
reading ``now`` or ``deadlines.<name>.status`` is evaluated by the tick with the tick's moment and
the case's clocks (not the case's last change and no clocks); ``allowed_events`` checks a guard
reading a clock; ``Case.previous_state`` is where ``@previous`` returns (the top of the stack).
And guards of a back-dated act see its date as ``now``. Dates are Hà Nội dates.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.errors import NotAllowedError
from engine.service import Engine
from engine.testing import ManualClock, memory_engine

HN = ZoneInfo("Asia/Ho_Chi_Minh")
DETOURS = Path(__file__).parent / "schema_workflows"
PEOPLE = [{"name": "Người khiếu nại"}]
CLOCKS = """
name: clocks
label: "Thử nghiệm điều kiện đọc ngày và thời hạn"
initial: received
states:
  received: {label: "Đã tiếp nhận"}
  working: {label: "Đang giải quyết"}
  done: {label: "Xong", final: true}
transitions:
  - {event: accept, from: received, to: working, roles: [clerk]}
  - {event: finish, from: working, to: done, roles: [clerk]}
  - event: late_note
    from: working
    roles: [clerk]
    guard: "now >= date('2026-07-10')"
deadlines:
  # longer when counted from 10/07/2026 on: the variant reads the moment it is evaluated
  notice:
    starts_on: [accept]
    stops_on: [finish]
    budget: {amount: 10, unit: calendar}
    variants:
      - when: "now >= date('2026-07-10')"
        budget: {amount: 20, unit: calendar}
    warn_at: []
    legal_basis: "thử nghiệm"
  reply:
    starts_on: [accept]
    stops_on: [finish]
    budget: {amount: 2, unit: calendar}
    warn_at: []
    legal_basis: "thử nghiệm"
  # longer once the reply was missed: the variant reads another clock
  report:
    starts_on: [accept]
    stops_on: [finish]
    budget: {amount: 5, unit: calendar}
    variants:
      - when: "deadlines.reply.status == 'missed'"
        budget: {amount: 15, unit: calendar}
    warn_at: []
    legal_basis: "thử nghiệm"
"""


def clocks_engine(tmp_path: Path, clock: ManualClock) -> Engine:
    """An engine on the test workflow above."""
    (tmp_path / "clocks.yaml").write_text(CLOCKS, encoding="utf-8")
    return memory_engine(clock, tmp_path)


def accepted_on_1_july(tmp_path: Path) -> tuple[Engine, ManualClock, str]:
    """A case received and accepted on Wednesday 01/07/2026 at 09:00."""
    clock = ManualClock(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
    engine = clocks_engine(tmp_path, clock)
    case = engine.open_case("clocks", received_at=clock.now(), petitioners=PEOPLE, respondent="UBND xã",
                            subject="Đất đai")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    return engine, clock, case.id


def overdue(engine: Engine) -> list[str]:
    """The deadlines whose overdue notice the feed carries, in order."""
    return [e.data["deadline"] for e in engine.events(after=0, limit=1000) if e.type == "deadline.overdue"]


def test_the_tick_evaluates_a_variant_reading_now_at_its_own_moment(tmp_path: Path) -> None:
    """notice: 10 days from 01/07 = Sat 11/07 -> Mon 13/07; on 14/07 the variant holds: 20 days."""
    engine, clock, case_id = accepted_on_1_july(tmp_path)
    # 10 calendar days from Wed 01/07: Sat 11/07/2026, a day off -> Mon 13/07/2026
    assert engine.get(case_id).deadlines["notice"].due_date == date(2026, 7, 13)
    clock.set(datetime(2026, 7, 14, 9, 0, tzinfo=HN))  # Tue 14/07: past the end of 13/07
    engine.tick()
    # the tick reads now = 14/07 >= 10/07: 20 calendar days from 01/07 = Tue 21/07/2026, not due yet
    assert "notice" not in overdue(engine)
    assert engine.get(case_id).deadlines["notice"].due_date == date(2026, 7, 21)
    assert engine.get(case_id).deadlines["notice"].status == "running"


def test_the_tick_evaluates_a_variant_reading_another_clock(tmp_path: Path) -> None:
    """reply (2 days) is missed first; report then reads it missed: 15 days, not 5."""
    engine, clock, case_id = accepted_on_1_july(tmp_path)
    # report, 5 calendar days from Wed 01/07: Mon 06/07/2026; reply, 2 days: Fri 03/07/2026
    assert engine.get(case_id).deadlines["report"].due_date == date(2026, 7, 6)
    clock.set(datetime(2026, 7, 7, 9, 0, tzinfo=HN))  # Tue 07/07: both due moments passed, one tick
    report = engine.tick()
    assert overdue(engine) == ["reply"] and (report.fired, report.failed) == (1, 0)
    with engine.runtime.store.reader() as tx:
        timer = next(d for d in tx.get_deadlines(case_id) if d.name == "report")
    assert timer.next_fire_at == datetime(2026, 7, 17, tzinfo=HN) and timer.attempts == 0  # end of 16/07
    # reply missed: report is 15 calendar days from 01/07 = Thu 16/07/2026
    case = engine.get(case_id)
    assert case.deadlines["reply"].status == "missed"
    assert case.deadlines["report"].due_date == date(2026, 7, 16) and case.deadlines["report"].status == "running"


def test_allowed_events_checks_a_guard_reading_a_clock(tmp_path: Path) -> None:
    """`appeal` reads deadlines.appeal_window: listed on the window's last day, not the day after."""
    clock = ManualClock(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
    engine = memory_engine(clock, DETOURS)
    case = engine.open_case("detours", received_at=clock.now(), petitioners=PEOPLE, respondent="UBND huyện",
                            subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    clock.set(datetime(2026, 7, 6, 10, 0, tzinfo=HN))
    engine.fire(case.id, "decide", actor="gd01", role="director")
    # appeal_window, 30 calendar days from Mon 06/07: 25 to 31/07, 5 in August = Wed 05/08/2026
    clock.set(datetime(2026, 8, 5, 16, 0, tzinfo=HN))
    assert "appeal" in engine.allowed_events(case.id, role="clerk")
    clock.set(datetime(2026, 8, 6, 8, 0, tzinfo=HN))
    assert "appeal" not in engine.allowed_events(case.id, role="clerk")


def test_case_previous_state_is_where_previous_returns(tmp_path: Path) -> None:
    """Suspended inside a clarification: the case shows `clarifying`, not the stored stack."""
    clock = ManualClock(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
    engine = memory_engine(clock, DETOURS)
    case = engine.open_case("detours", received_at=clock.now(), petitioners=PEOPLE, respondent="UBND huyện",
                            subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    engine.fire(case.id, "clarify", actor="cb01", role="inspector")
    suspended = engine.fire(case.id, "suspend", actor="cb01", role="inspector")
    assert suspended.previous_state == "clarifying" and engine.get(case.id).previous_state == "clarifying"


def test_guards_of_a_back_dated_act_see_its_date_as_now(tmp_path: Path) -> None:
    """`late_note` exists from 10/07/2026: entered on 11/07 but dated 09/07 it is refused, dated 10/07 allowed."""
    engine, clock, case_id = accepted_on_1_july(tmp_path)
    clock.set(datetime(2026, 7, 11, 9, 0, tzinfo=HN))
    with pytest.raises(NotAllowedError) as refused:
        engine.fire(case_id, "late_note", actor="cb01", role="clerk",
                    occurred_at=datetime(2026, 7, 9, 16, 0, tzinfo=HN))
    assert refused.value.why == "guard"
    note = engine.fire(case_id, "late_note", actor="cb01", role="clerk",
                       occurred_at=datetime(2026, 7, 10, 8, 0, tzinfo=HN))
    assert note.state == "working" and engine.history(case_id)[-1].occurred_at == datetime(2026, 7, 10, 8, 0,
                                                                                              tzinfo=HN)
