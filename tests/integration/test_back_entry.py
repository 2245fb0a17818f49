"""Back-entry of a dated act (DESIGN.md §4, issue 10 item 5): ``fire(..., occurred_at=...)``, on every store.

An officer records on Thursday a decision signed on Monday: the clocks the act starts count from
Monday, the clocks it stops are met or missed by Monday, and the history keeps both moments.
The bounds (aware, not in the future, not before receipt nor the case's previous act by a
person, not on a closed case) refuse with the field named and change nothing. Every test runs
over the memory, SQLite and PostgreSQL stores (the ``engine`` fixture). Dates are Hà Nội dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import NotAllowedError, ValidationError
from engine.model import GENESIS, Case, chain_hash
from engine.service import Engine
from engine.testing import ManualClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, month: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Hà Nội moment of 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def open_complaint(engine: Engine, received: datetime) -> Case:
    """A first-instance complaint received at ``received``."""
    return engine.open_case("complaint", received_at=received, petitioners=[{"name": "Nguyễn Văn A"}],
                            respondent="Phòng Tài nguyên và Môi trường", subject="Thu hồi đất", channel="post")


def fire(engine: Engine, case_id: str, event: str, role: str = "inspector",
         occurred_at: datetime | None = None, **payload: Any) -> Case:
    """Fire ``event`` as officer cb01 (``occurred_at``: back-dated)."""
    return engine.fire(case_id, event, actor="cb01", role=role, payload=payload, occurred_at=occurred_at)


def drafting(engine: Engine, clock: ManualClock) -> str:
    """A complaint received Mon 29/06/2026, accepted Wed 01/07, decision drafted Fri 10/07/2026."""
    clock.set(at(29, 6))
    case = open_complaint(engine, clock.now())
    clock.set(at(1, 7))
    fire(engine, case.id, "accept")
    clock.set(at(2, 7))
    fire(engine, case.id, "start_verification")
    clock.set(at(10, 7))
    fire(engine, case.id, "draft_decision")
    return case.id


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    """What a refused command must leave as it was: the case, its history, the feed."""
    return engine.get(case_id), engine.history(case_id), engine.events(after=0, limit=10_000)


def test_a_decision_signed_monday_and_entered_thursday_starts_its_clocks_on_monday(
        engine: Engine, clock: ManualClock) -> None:
    """The clocks `decide` starts count from the signing day; history and feed keep both moments."""
    case_id = drafting(engine, clock)
    signed, entered = at(13, 7, 15), at(16, 7, 10)  # Monday 13/07/2026 15:00, Thursday 16/07/2026 10:00
    clock.set(entered)
    case = fire(engine, case_id, "decide", role="head_of_unit", occurred_at=signed)
    assert (case.state, case.version) == ("decided", 5)
    # send_decision, 3 working days from Mon 13/07: Tue 14 (1), Wed 15 (2), Thu 16/07/2026 (3)
    assert case.deadlines["send_decision"].due_date == date(2026, 7, 16)
    assert case.deadlines["send_decision"].started_at == signed
    # legal_effect, 30 calendar days from Mon 13/07: 18 to 31/07, 12 in August = Wed 12/08/2026
    assert case.deadlines["legal_effect"].due_date == date(2026, 8, 12)
    # resolution (30 days from Wed 01/07, due Fri 31/07) is met, on the signing day
    assert case.deadlines["resolution"].status == "met"
    with engine.runtime.store.reader() as tx:
        resolution = next(d for d in tx.get_deadlines(case_id) if d.name == "resolution")
    assert resolution.closed_at == signed and resolution.closed_by == "decide"
    assert engine.get(case_id) == case

    last = engine.history(case_id)[-1]
    assert (last.event, last.at, last.occurred_at) == ("decide", entered, signed)
    assert str(last.at.tzinfo) == str(last.occurred_at.tzinfo) == "Asia/Ho_Chi_Minh"
    assert [h.occurred_at for h in engine.history(case_id)[:-1]] == [None, None, None, None]
    moved = [e for e in engine.events(after=0, limit=1000) if e.type == "case.transitioned"]
    assert moved[-1].at == entered and moved[-1].data["occurred_at"] == "2026-07-13T15:00:00+07:00"
    assert all("occurred_at" not in e.data for e in moved[:-1])
    assert engine.verify_audit().ok


def test_the_same_decision_entered_without_a_date_counts_from_thursday(engine: Engine, clock: ManualClock) -> None:
    """Without occurred_at the act happens when it is recorded (the default)."""
    case_id = drafting(engine, clock)
    clock.set(at(16, 7, 10))
    case = fire(engine, case_id, "decide", role="head_of_unit")
    # 3 working days from Thu 16/07: Fri 17 (1), Mon 20 (2), Tue 21/07/2026 (3)
    assert case.deadlines["send_decision"].due_date == date(2026, 7, 21)
    assert engine.history(case_id)[-1].occurred_at is None


def test_acceptance_entered_late_but_dated_before_its_due_date_reads_met(engine: Engine, clock: ManualClock) -> None:
    """The overdue notice already went out and stays in the feed; the deadline itself reads met."""
    clock.set(at(2, 3))  # Monday 02/03/2026 09:00
    case = open_complaint(engine, clock.now())
    # acceptance, 10 working days from Mon 02/03: 03-06/03 (4), 09-13/03 (9), Mon 16/03/2026 (10)
    assert case.deadlines["acceptance"].due_date == date(2026, 3, 16)
    clock.set(at(18, 3))  # Wednesday 18/03: the due rung (end of 16/03) has fired
    engine.tick()
    assert engine.get(case.id).deadlines["acceptance"].status == "missed"
    overdue = [e for e in engine.events(after=0, limit=1000) if e.type == "deadline.overdue"]
    assert [e.data["deadline"] for e in overdue] == ["acceptance"]

    accepted = fire(engine, case.id, "accept", occurred_at=at(13, 3, 10))  # decided Friday 13/03, entered 18/03
    assert accepted.deadlines["acceptance"].status == "met"
    # resolution, 30 calendar days from Fri 13/03: 18 to 31/03, 12 in April = Sun 12/04 -> Mon 13/04/2026
    assert accepted.deadlines["resolution"].due_date == date(2026, 4, 13)
    again = [e for e in engine.events(after=0, limit=1000) if e.type == "deadline.overdue"]
    assert again == overdue  # the feed never unsays: the rung stays fired
    clock.advance(timedelta(days=1))
    engine.tick()
    assert engine.get(case.id).deadlines["acceptance"].status == "met"


def test_acceptance_dated_after_its_due_date_stays_missed(engine: Engine, clock: ManualClock) -> None:
    """Dated Tuesday 17/03, the day after the last day (Mon 16/03/2026): missed, as it was."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    clock.set(at(18, 3))
    engine.tick()
    accepted = fire(engine, case.id, "accept", occurred_at=at(17, 3, 8))
    assert accepted.deadlines["acceptance"].status == "missed"


def test_a_back_dated_act_is_not_bounded_by_what_the_daemon_did(engine: Engine, clock: ManualClock) -> None:
    """The daemon's timed `become_effective` (end of Wed 12/08) does not bound an act dated before it."""
    case_id = drafting(engine, clock)
    clock.set(at(13, 7, 15))
    fire(engine, case_id, "decide", role="head_of_unit")  # legal_effect: 30 days -> Wed 12/08/2026
    clock.set(at(14, 8, 9))  # Friday 14/08: the daemon made the decision effective at 24:00 on 12/08
    engine.tick()
    assert engine.get(case_id).state == "legally_effective"
    assert engine.history(case_id)[-1].role == "system"
    enforced = fire(engine, case_id, "enforce", occurred_at=at(12, 8, 16))  # Wed 12/08 16:00, before it
    assert enforced.state == "enforcing"
    last = engine.history(case_id)[-1]
    assert (last.event, last.occurred_at) == ("enforce", at(12, 8, 16))
    assert engine.verify_audit().ok


def test_back_entries_keep_the_history_chain_verifiable(engine: Engine, clock: ManualClock) -> None:
    """Each back-dated row hashes its occurred_at with it; the chain checks row by row."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    clock.set(at(6, 3, 17))
    fire(engine, case.id, "accept", occurred_at=at(4, 3, 10))
    fire(engine, case.id, "start_verification", occurred_at=at(5, 3, 10))
    fire(engine, case.id, "mark_complex", reason="nhiều nội dung", criterion="multiple_contents")
    previous = GENESIS
    for entry in engine.history(case.id):
        assert entry.hash == chain_hash(previous, case.id, entry)
        previous = entry.hash
    history = engine.history(case.id)
    assert [h.occurred_at for h in history] == [None, at(4, 3, 10), at(5, 3, 10), None]
    # the same row without its occurred_at would not hash the same: the date is under the chain
    assert chain_hash(history[0].hash, case.id, replace(history[1], occurred_at=None)) != history[1].hash
    assert engine.verify_audit().ok


REFUSALS: dict[str, tuple[Callable[[ManualClock], object], str]] = {
    "naive": (lambda clock: datetime(2026, 3, 4, 10, 0), "naive"),
    "not a datetime": (lambda clock: "2026-03-04T10:00+07:00", "must be a datetime"),
    "in the future": (lambda clock: clock.now() + timedelta(hours=1), "in the future"),
    "before receipt": (lambda clock: at(1, 3, 16), "before the case was received"),
    "before the previous officer act": (lambda clock: at(4, 3, 9), "before the case's previous act by a person"),
}


@pytest.mark.parametrize("bad", REFUSALS, ids=list(REFUSALS))
def test_a_bad_occurred_at_is_refused_naming_it_and_changes_nothing(engine: Engine, clock: ManualClock,
                                                                      bad: str) -> None:
    """Received Mon 02/03 09:00, accepted (dated) Wed 04/03 10:00, now Fri 06/03 17:00."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    clock.set(at(6, 3, 17))
    fire(engine, case.id, "accept", occurred_at=at(4, 3, 10))
    before = snapshot(engine, case.id)
    value, rule = REFUSALS[bad]
    with pytest.raises(ValidationError) as refused:
        fire(engine, case.id, "start_verification", occurred_at=value(clock))  # type: ignore[arg-type]
    assert refused.value.field == "occurred_at" and rule in str(refused.value)
    assert snapshot(engine, case.id) == before


def test_the_future_tolerance_is_the_one_of_received_at(engine: Engine, clock: ManualClock) -> None:
    """A portal's clock a minute ahead is not a future act (as for received_at: 5 minutes)."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    assert fire(engine, case.id, "accept", occurred_at=clock.now() + timedelta(minutes=1)).state == "accepted"


def test_an_occurred_at_in_another_zone_is_the_same_moment(engine: Engine, clock: ManualClock) -> None:
    """23:00 UTC on Tue 03/03 is 06:00 on Wed 04/03 in Hà Nội: the clock starts on the 4th."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    clock.set(at(6, 3, 17))
    accepted = fire(engine, case.id, "accept", occurred_at=datetime(2026, 3, 3, 23, 0, tzinfo=UTC))
    # resolution, 30 calendar days from Wed 04/03: 27 to 31/03, 3 in April = Fri 03/04/2026
    assert accepted.deadlines["resolution"].due_date == date(2026, 4, 3)
    assert engine.history(case.id)[-1].occurred_at == at(4, 3, 6)


def test_a_back_dated_act_on_a_closed_case_is_refused_naming_occurred_at(engine: Engine,
                                                                          clock: ManualClock) -> None:
    """A rejected complaint is final: nothing can be entered on it, back-dated or not."""
    clock.set(at(2, 3))
    case = open_complaint(engine, clock.now())
    fire(engine, case.id, "reject", reason="không đủ điều kiện thụ lý")
    clock.set(at(6, 3))
    before = snapshot(engine, case.id)
    with pytest.raises(NotAllowedError) as refused:
        fire(engine, case.id, "accept", occurred_at=at(3, 3))
    assert "occurred_at" in str(refused.value) and "final state 'rejected'" in str(refused.value)
    assert refused.value.why == "state"
    assert snapshot(engine, case.id) == before


def test_a_back_dated_suspension_pauses_from_its_date(engine: Engine, clock: ManualClock) -> None:
    """Suspended (dated) Mon 06/07, resumed Mon 13/07: the days 07/07..13/07 are not counted."""
    clock.set(at(29, 6))
    case = open_complaint(engine, clock.now())
    clock.set(at(1, 7))
    fire(engine, case.id, "accept")  # resolution: 30 days from Wed 01/07 -> Fri 31/07/2026
    clock.set(at(2, 7))
    fire(engine, case.id, "start_verification")
    clock.set(at(8, 7, 10))
    suspended = fire(engine, case.id, "suspend", role="head_of_unit", occurred_at=at(6, 7, 15),
                     reason="chờ kết quả giám định")
    assert suspended.state == "suspended"
    with engine.runtime.store.reader() as tx:
        resolution = next(d for d in tx.get_deadlines(case.id) if d.name == "resolution")
    assert resolution.pauses == [(date(2026, 7, 6), None)]
    clock.set(at(13, 7, 10))
    resumed = fire(engine, case.id, "resume", role="head_of_unit")
    # 01/07 + 5 counted days (02..06/07), 7 not counted (07..13/07), 25 more from 14/07 = Fri 07/08/2026
    assert resumed.deadlines["resolution"].due_date == date(2026, 8, 7)
