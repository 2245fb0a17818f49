"""A duty that outlives the case's final state (issue 10 item 3, B5; DESIGN.md §3), walked on
tests/unit/schema_workflows/terminations.yaml: the termination decision is sent within 3 working
days of `terminate`, which closes the case. Dates are Hà Nội local dates; the calendar is 2026's
(31/08-02/09 off for Quốc khánh, Saturday 22/08 worked in exchange for 31/08).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.errors import NotAllowedError
from engine.loader import validate_files
from engine.service import Engine
from engine.testing import ManualClock, memory_engine

HN = ZoneInfo("Asia/Ho_Chi_Minh")
FOLDER = Path(__file__).parent / "schema_workflows"
GOOD = FOLDER / "terminations.yaml"


def at(day: int, month: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=HN)


def terminated(on: datetime) -> tuple[Engine, ManualClock, str]:
    """A case accepted on 03/08/2026 (or at ``on`` if earlier) and terminated at ``on``."""
    received = min(on, at(3, 8, 9))
    clock = ManualClock(received)
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("terminations", received_at=received, petitioners=[{"name": "Người khiếu nại"}],
                            respondent="UBND huyện", subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    clock.set(on)
    engine.fire(case.id, "terminate", actor="gd01", role="director", payload={"reason": "rút khiếu nại"})
    return engine, clock, case.id


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    return engine.get(case_id), engine.history(case_id), engine.events(after=0, limit=10_000)


def test_the_notice_clock_keeps_running_after_the_case_is_terminated() -> None:
    """Terminated Fri 28/08/2026: 3 WD, skipping Sat 29, Sun 30 and 31/08-02/09 off:
    Thu 03/09 (1), Fri 04/09 (2), Mon 07/09 (3) -> due by the end of Mon 07/09/2026."""
    engine, _, case_id = terminated(at(28, 8))
    case = engine.get(case_id)
    assert case.state == "terminated"
    assert case.deadlines["resolution"].status == "met"  # stopped by terminate, as any clock in a final state
    notice = case.deadlines["termination_notice"]
    assert (notice.status, notice.due_date) == ("running", date(2026, 9, 7))


def test_the_stop_event_is_the_one_act_allowed_on_the_final_case_while_its_clock_runs() -> None:
    """`send_termination` (a self-loop from `terminated`) is listed and fires; afterwards nothing is allowed."""
    engine, clock, case_id = terminated(at(28, 8))
    assert engine.allowed_events(case_id) == ["send_termination"]
    assert engine.allowed_events(case_id, role="director") == []  # the clerk sends it
    clock.set(at(3, 9))
    sent = engine.fire(case_id, "send_termination", actor="cb01", role="clerk")
    assert sent.state == "terminated"
    assert sent.deadlines["termination_notice"].status == "met"
    assert engine.allowed_events(case_id) == []


def test_sending_it_twice_is_refused_and_changes_nothing() -> None:
    """Once the notice is sent its clock is closed, so the final case accepts no act any more."""
    engine, clock, case_id = terminated(at(28, 8))
    clock.set(at(3, 9))
    engine.fire(case_id, "send_termination", actor="cb01", role="clerk")
    before = snapshot(engine, case_id)
    with pytest.raises(NotAllowedError) as refused:
        engine.fire(case_id, "send_termination", actor="cb01", role="clerk")
    assert refused.value.why == "state" and "final state 'terminated'" in str(refused.value)
    assert "termination_notice" in str(refused.value)
    assert snapshot(engine, case_id) == before


def test_the_daemon_warns_and_marks_it_overdue_on_the_final_case() -> None:
    """0.5 of 3 WD is 1 WD: end of Thu 03/09; due at the end of Mon 07/09; sent Tue 08/09: missed."""
    engine, clock, case_id = terminated(at(28, 8))
    engine.tick(at(4, 9, 0))  # 00:00 Fri 04/09 = the end of Thu 03/09
    fired = [(e.type, e.data["deadline"]) for e in engine.events(after=0, limit=1000) if e.type.startswith("deadline")]
    assert fired == [("deadline.warning", "termination_notice")]
    engine.tick(at(8, 9, 0))  # 00:00 Tue 08/09 = the end of Mon 07/09
    overdue = [e for e in engine.events(after=0, limit=1000) if e.type == "deadline.overdue"]
    assert [(e.data["deadline"], e.data["state"]) for e in overdue] == [("termination_notice", "terminated")]
    assert engine.get(case_id).deadlines["termination_notice"].status == "missed"
    clock.set(at(8, 9))
    late = engine.fire(case_id, "send_termination", actor="cb01", role="clerk")  # the act is still recorded
    assert late.deadlines["termination_notice"].status == "missed"
    assert engine.allowed_events(case_id) == []


def test_a_notice_sent_on_time_and_entered_late_is_met() -> None:
    """Sent (dated) Mon 07/09, the last day, entered Wed 09/09 after the overdue rung: met by its date."""
    engine, clock, case_id = terminated(at(28, 8))
    engine.tick(at(8, 9, 0))
    clock.set(at(9, 9))
    sent = engine.fire(case_id, "send_termination", actor="cb01", role="clerk", occurred_at=at(7, 9, 16))
    assert sent.deadlines["termination_notice"].status == "met"
    assert engine.history(case_id)[-1].occurred_at == at(7, 9, 16)


def test_no_clock_no_act_on_a_case_terminated_before_the_law_of_2026() -> None:
    """Terminated Tue 30/06/2026: the 3 WD duty exists from 01/07/2026 (`when`), so nothing may be sent."""
    engine, _, case_id = terminated(at(30, 6))
    assert "termination_notice" not in engine.get(case_id).deadlines
    assert engine.allowed_events(case_id) == []
    with pytest.raises(NotAllowedError) as refused:
        engine.fire(case_id, "send_termination", actor="cb01", role="clerk")
    assert refused.value.why == "state"


def test_the_notice_cannot_be_sent_from_another_final_state() -> None:
    """A decided case never had the clock; `send_termination` has no transition from `decided`."""
    clock = ManualClock(at(3, 8, 9))
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("terminations", received_at=clock.now(), petitioners=[{"name": "Người khiếu nại"}],
                            respondent="UBND huyện", subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    engine.fire(case.id, "decide", actor="gd01", role="director")
    with pytest.raises(NotAllowedError) as refused:
        engine.fire(case.id, "send_termination", actor="cb01", role="clerk")
    assert refused.value.why == "state" and "cannot fire in this state" in str(refused.value)


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    # the stop event has no transition from the final state the clock runs in
    ('  - event: send_termination\n    from: terminated\n', '  - event: send_termination\n    from: resolving\n',
     "stops_on: [send_termination]",
     "event 'send_termination' cannot fire from final state 'terminated', where the clock keeps running: "
     'add `{event: send_termination, from: terminated, to: "@same"}`'),
    # it may fire there only to stay
    ('    from: terminated\n    to: "@same"\n', '    from: terminated\n    to: decided\n',
     "to: decided\n    roles: [clerk]",
     "state 'terminated' is final: 'send_termination' may fire there only to stay in it (`@same`)"),
    # without `outlives_final` a transition from a final state is refused, as before
    ("    outlives_final: true\n", "", "from: terminated",
     "state 'terminated' is final (a `@same` transition would keep the case in it)"),
])
def test_a_clock_that_outlives_the_final_state_is_checked_at_load(tmp_path: Path, old: str, new: str, needle: str,
                                                                   message: str) -> None:
    """Each mistake is reported at its file:line."""
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new)
    path = tmp_path / "terminations.yaml"
    path.write_text(broken, encoding="utf-8")
    found = [(p.line, str(p).split(": ", 1)[1]) for p in validate_files([path])]
    assert (line_of(broken, needle), message) in found


def test_the_test_workflows_validate() -> None:
    """The workflows of this feature and of the counted-back one are sound."""
    assert validate_files(sorted(FOLDER.glob("*.yaml"))) == []
