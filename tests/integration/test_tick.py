"""Time travel with ManualClock: the daemon's tick over the memory, SQLite and PostgreSQL stores.

The complaint workflow's clocks used here (DESIGN.md §3, workflows/complaint.yaml):
- ``acceptance``: 10 working days from the day of receipt (before 01/07/2026), warnings at 50% and
  80%: for a letter received on Monday 2 March 2026, warnings at the end of 9 and 12 March, due at
  the end of 16 March;
- ``resolution``: 30 calendar days from ``accept``, paused in ``suspended`` (pause policy exclude);
- ``legal_effect``: 30 calendar days from ``decide``, ``on_due: become_effective``.

Rungs are keyed by what they are: 500 and 800 (the warnings at 50% and 80%, in per-mille) and 1000
(overdue); each event's ``data`` carries ``deadline`` and ``rung``. The probe tests at the end pin
two catch-up bugs found while writing these tests (fixed in 2599358: rungs of different deadlines
fired per claimed row instead of in due order, and a stale claimed ledger written back over one a
timed event had closed) with a minimal workflow of their own, on the memory and SQLite stores and
with a full and a one-row batch. They build their own engines, since the workflow is not a shipped
one; the tick code they pin is store-independent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters import bootstrap
from adapters.config import Settings
from engine.model import Case, Event
from engine.service import Engine
from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE_EVENTS = ("deadline.warning", "deadline.overdue")
RUNGS = (500, 800, 1000)  # the keys of the complaint clocks' rungs: warnings at 50% and 80%, then due
# ----------------------------------------------------------------------------- helpers


def open_complaint(engine: Engine, clock: ManualClock, **fields: Any) -> Case:
    """Open a first-instance complaint received now."""
    return engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Trần Thị B"}],
                            respondent="UBND xã", subject="Cấp giấy chứng nhận", fields=fields)


def fire(engine: Engine, case: Case, *steps: tuple[str, str]) -> Case:
    """Fire (event, role) steps in turn, with expected versions."""
    for event, role in steps:
        payload = {"reason": "căn cứ"} if event in ("suspend", "reject") else {}
        case = engine.fire(case.id, event, actor="cb01", role=role, payload=payload, expected_version=case.version)
    return case


def rung_moments(case: Case, name: str) -> list[datetime]:
    """A running deadline's rung moments: its warnings, then its due moment."""
    deadline = case.deadlines[name]
    assert deadline.due_at is not None
    return [*deadline.warn_at, deadline.due_at]


def deadline_events(engine: Engine) -> list[Event]:
    """The feed's warning and overdue events, in feed order."""
    return [e for e in engine.events(after=0, limit=10_000) if e.type in DEADLINE_EVENTS]


def fired(engine: Engine) -> list[tuple[str | None, str, int]]:
    """(case, deadline, rung) of every warning or overdue event, in feed order."""
    return [(e.case_id, e.data["deadline"], e.data["rung"]) for e in deadline_events(engine)]


# ----------------------------------------------------------------------------- rungs


def test_each_rung_fires_once_at_its_moment(engine: Engine, clock: ManualClock) -> None:
    """The 50% and 80% warnings and the overdue notice each fire exactly once, at their moment and not before."""
    case = open_complaint(engine, clock)
    moments = rung_moments(case, "acceptance")
    assert moments == [datetime(2026, 3, 10, tzinfo=TZ), datetime(2026, 3, 13, tzinfo=TZ),
                       datetime(2026, 3, 17, tzinfo=TZ)]
    for rung, moment in zip(RUNGS, moments, strict=True):
        clock.set(moment - timedelta(microseconds=1))
        assert engine.tick().fired == 0
        clock.set(moment)
        report = engine.tick()
        assert (report.claimed, report.fired, report.events) == (1, 1, 1)
        assert fired(engine)[-1] == (case.id, "acceptance", rung)
    events = deadline_events(engine)
    assert [e.type for e in events] == ["deadline.warning", "deadline.warning", "deadline.overdue"]
    assert [e.data.get("fraction") for e in events] == [0.5, 0.8, None]
    assert engine.get(case.id).deadlines["acceptance"].status == "missed"


def test_ticking_again_at_the_same_moment_fires_nothing(engine: Engine, clock: ManualClock) -> None:
    """A second tick at the same moment claims nothing and adds nothing to the feed."""
    for _ in range(2):
        open_complaint(engine, clock)
    clock.advance(timedelta(days=30))
    first = engine.tick()
    assert first.fired == first.events == 6
    feed = engine.events(after=0, limit=10_000)
    again = engine.tick()
    assert (again.claimed, again.fired, again.skipped, again.events) == (0, 0, 0, 0)
    assert engine.events(after=0, limit=10_000) == feed


def test_a_sixty_day_jump_catches_up_every_rung_in_due_order(engine: Engine, clock: ManualClock) -> None:
    """After 60 days without a tick, one tick fires every missed rung once, each deadline's rungs in order."""
    waiting = open_complaint(engine, clock)                                         # acceptance runs
    accepted = fire(engine, open_complaint(engine, clock), ("accept", "inspector"))  # resolution: 30 days
    remote = fire(engine, open_complaint(engine, clock, remote_area=True), ("accept", "inspector"))  # 45 days
    expected = {(waiting.id, "acceptance"): rung_moments(waiting, "acceptance"),
                (accepted.id, "resolution"): rung_moments(accepted, "resolution"),
                (remote.id, "resolution"): rung_moments(remote, "resolution")}
    clock.advance(timedelta(days=60))
    assert all(m < clock.now() for moments in expected.values() for m in moments)
    report = engine.tick()
    # 9 rungs; each missed resolution also fires resolution_expired (on_missed: LKN Điều 33's window opens)
    assert (report.fired, report.events, report.skipped) == (9, 11, 0)
    assert report.max_lag_seconds > 0
    by_deadline: dict[tuple[str | None, str], list[Event]] = defaultdict(list)
    for e in deadline_events(engine):
        by_deadline[(e.case_id, e.data["deadline"])].append(e)
    assert set(by_deadline) == set(expected)
    for events in by_deadline.values():
        assert [e.data["rung"] for e in events] == list(RUNGS)
        assert [e.type for e in events] == ["deadline.warning", "deadline.warning", "deadline.overdue"]
        assert all(e.at == clock.now() for e in events)
    for case_id, name in expected:
        assert engine.get(case_id).deadlines[name].status == "missed"
    assert engine.tick().fired == 0


def test_suspension_pauses_the_clock_and_resumption_reprojects(engine: Engine, clock: ManualClock) -> None:
    """No rung fires while a case is suspended; resuming shifts every rung by the paused days and they fire then.

    Suspension of a complaint exists from 01/07/2026 (LKN Điều 11a, Luật 136/2025; NĐ 155/2026 Điều 22 k1),
    so the case is received and accepted on Monday 6 July 2026.
    """
    clock.set(datetime(2026, 7, 6, 9, 0, tzinfo=TZ))
    case = fire(engine, open_complaint(engine, clock), ("accept", "inspector"))
    before = rung_moments(case, "resolution")  # 30 CD from Mon 6 Jul: 15 -> end of 21 Jul, 24 -> 30 Jul, 30 -> 5 Aug
    assert before == [datetime(2026, 7, 22, tzinfo=TZ), datetime(2026, 7, 31, tzinfo=TZ),
                      datetime(2026, 8, 6, tzinfo=TZ)]
    clock.set(datetime(2026, 7, 9, 9, 0, tzinfo=TZ))
    case = fire(engine, case, ("suspend", "head_of_unit"), ("send_suspension_decision", "clerk"))  # K14: 3 WD
    paused = case.deadlines["resolution"]
    assert (paused.status, paused.due_at, paused.due_date) == ("paused", None, None)
    for moment in [*before, datetime(2026, 9, 10, 8, 0, tzinfo=TZ)]:
        clock.set(moment)
        assert engine.tick().fired == 0
    assert fired(engine) == []
    clock.set(datetime(2026, 9, 10, 9, 0, tzinfo=TZ))
    case = fire(engine, case, ("resume", "head_of_unit"), ("send_resumption_decision", "clerk"))
    assert case.state == "accepted" and case.deadlines["resolution"].status == "running"
    shift = date(2026, 9, 10) - date(2026, 7, 9)  # the pause: 9 Jul is counted, 10 Jul .. 10 Sep are not (63 days)
    after = rung_moments(case, "resolution")
    assert after == [m + shift for m in before]
    # 7, 8, 9 Jul = 3 days; 11..30 Sep = 20 (23), 1..7 Oct = 7 (30) -> Wednesday 7 October = 5 Aug + 63 days
    assert case.deadlines["resolution"].due_date == date(2026, 10, 7)
    assert engine.tick().fired == 0
    for rung, moment in zip(RUNGS, after, strict=True):
        clock.set(moment - timedelta(microseconds=1))
        assert engine.tick().fired == 0
        clock.set(moment)
        assert engine.tick().fired == 1
        assert fired(engine)[-1] == (case.id, "resolution", rung)
    assert engine.get(case.id).deadlines["resolution"].status == "missed"


def test_legal_effect_fires_become_effective_when_due(engine: Engine, clock: ManualClock) -> None:
    """When legal_effect falls due the daemon fires become_effective: new state, new version, a system history row."""
    case = fire(engine, open_complaint(engine, clock), ("accept", "inspector"), ("start_verification", "inspector"),
                ("draft_decision", "inspector"), ("decide", "head_of_unit"), ("send_decision", "clerk"))
    assert case.state == "decision_sent"
    due = case.deadlines["legal_effect"].due_at
    assert due == datetime(2026, 4, 2, tzinfo=TZ)  # 30 days from 2 March: the end of 1 April
    clock.set(due - timedelta(microseconds=1))
    assert engine.tick().fired == 0
    clock.set(due)
    report = engine.tick()
    assert report.fired == 1
    after = engine.get(case.id)
    assert (after.state, after.version) == ("legally_effective", case.version + 1)
    assert after.deadlines["legal_effect"].status == "met"
    last = engine.history(case.id)[-1]
    assert (last.event, last.source, last.target, last.role) == (
        "become_effective", "decision_sent", "legally_effective", "system")
    assert last.seq == after.version and last.at == due and last.actor
    transitioned = [e for e in engine.events(after=0, limit=10_000) if e.type == "case.transitioned"]
    assert transitioned[-1].data["event"] == "become_effective" and transitioned[-1].data["role"] == "system"
    assert engine.verify_audit().ok
    assert engine.tick().fired == 0


def test_catch_up_fires_an_earlier_overdue_rung_before_a_later_timed_event(engine: Engine, clock: ManualClock) -> None:
    """After 60 days of downtime, send_decision (due 5 Mar) is missed before legal_effect (1 Apr) takes effect."""
    case = fire(engine, open_complaint(engine, clock), ("accept", "inspector"), ("start_verification", "inspector"),
                ("draft_decision", "inspector"), ("decide", "head_of_unit"))
    assert case.deadlines["send_decision"].due_at < case.deadlines["legal_effect"].due_at  # type: ignore[operator]
    clock.advance(timedelta(days=60))
    report = engine.tick()
    assert report.fired == 4  # send_decision: two warnings and overdue; legal_effect: become_effective
    after = engine.get(case.id)
    assert after.state == "legally_effective"
    assert after.deadlines["send_decision"].status == "missed"
    assert after.deadlines["legal_effect"].status == "met"
    assert fired(engine) == [(case.id, "send_decision", 500), (case.id, "send_decision", 800),
                             (case.id, "send_decision", 1000)]
    feed = [e for e in engine.events(after=0, limit=10_000) if e.case_id == case.id]
    last_overdue = max(e.seq for e in feed if e.type == "deadline.overdue")
    effective = next(e.seq for e in feed if e.type == "case.transitioned" and e.data["event"] == "become_effective")
    assert last_overdue < effective


# ----------------------------------------------------------------------------- catch-up bugs

PROBE = """\
name: probe
label: "Catch-up probe"
initial: open
states:
  open: {label: "Open"}
  done: {label: "Done", final: true}
transitions:
  - event: finish
    from: open
    to: done
    roles: [system]
deadlines:
  reply:
    starts_on: [opened]
    stops_on: [finish]
    budget: {amount: %(reply)d, unit: calendar}
    warn_at: %(warn)s
    legal_basis: "probe"
  effect:
    starts_on: [opened]
    budget: {amount: 10, unit: calendar}
    warn_at: []
    on_due: finish
    legal_basis: "probe"
"""


def probe_outcome(tmp_path: Path, settings: Settings, *, reply: int, warn: str, daily: bool,
                  store: str = "memory", batch: int = 500) -> tuple[Any, ...]:
    """Run the probe workflow for 30 days (one tick a day, or one tick at the end): state, statuses, rungs."""
    folder = tmp_path / ("daily" if daily else "once")
    folder.mkdir(parents=True)
    (folder / "probe.yaml").write_text(PROBE % {"reply": reply, "warn": warn}, encoding="utf-8")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    if store == "memory":
        engine = memory_engine(clock, workflows_dir=folder)
    else:
        engine = bootstrap.build(settings.model_copy(update={"workflows_dir": str(folder)}),
                                 database_url=f"sqlite:///{folder / 'kntc.db'}", clock=clock)
    engine.runtime.tick_batch = batch
    try:
        case = engine.open_case("probe", received_at=clock.now(), petitioners=[{"name": "A"}], respondent="R",
                                subject="S")
        for _ in range(30 if daily else 1):
            clock.advance(timedelta(days=1 if daily else 30))
            engine.tick()
        with engine.runtime.store.reader() as tx:
            ledgers = {d.name: (d.status, d.closed_at is not None) for d in tx.get_deadlines(case.id)}
        got = engine.get(case.id)
        return got.state, ledgers, sorted((name, rung) for _, name, rung in fired(engine))
    finally:
        pool = getattr(engine.runtime.store, "engine", None)
        if pool is not None:
            pool.dispose()


def test_probe_ticked_daily_meets_and_misses_as_the_law_reads(tmp_path: Path, settings: Settings) -> None:
    """Ticked on time, the probe's outcomes are the reference the catch-up test compares with.

    (``effect`` fires ``finish`` through on_due, which writes a case.transitioned event, not a
    deadline event, so only ``reply``'s rungs show in the list.)
    """
    # reply due day 4 (warning day 2) before effect (day 10): reply's rungs fire, it is missed, then finish
    assert probe_outcome(tmp_path / "a", settings, reply=4, warn="[0.5]", daily=True) == (
        "done", {"reply": ("missed", True), "effect": ("met", True)}, [("reply", 500), ("reply", 1000)])
    # reply due day 12, after effect (day 10) finished the case: reply is met, never fires
    assert probe_outcome(tmp_path / "b", settings, reply=12, warn="[]", daily=True) == (
        "done", {"reply": ("met", True), "effect": ("met", True)}, [])


@pytest.mark.parametrize(("reply", "warn"), [
    # an on_due event (effect, day 10) must not fire before another deadline's overdue rung (reply, day 4)
    pytest.param(4, "[0.5]", id="overdue-rung-kept"),
    # an on_due event that closes another deadline must not let a stale copy of it fire afterwards
    pytest.param(12, "[]", id="no-stale-ledger-overwrite"),
])
@pytest.mark.parametrize("batch", [500, 1])
@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_catching_up_after_downtime_matches_ticking_on_time(tmp_path: Path, settings: Settings, reply: int,
                                                            warn: str, batch: int, store: str) -> None:
    """One tick after 30 days of downtime leaves the same state, statuses and fired rungs as 30 daily ticks."""
    on_time = probe_outcome(tmp_path, settings, reply=reply, warn=warn, daily=True, store=store, batch=batch)
    assert probe_outcome(tmp_path, settings, reply=reply, warn=warn, daily=False, store=store, batch=batch) == on_time


def test_a_missed_deadline_stays_missed_through_a_suspension(engine: Engine, clock: ManualClock) -> None:
    """Suspending a case whose resolution deadline was missed does not turn the deadline back to running."""
    clock.set(datetime(2026, 7, 6, 9, 0, tzinfo=TZ))  # suspension exists from 01/07/2026 (NĐ 155/2026 Điều 22 k1)
    case = fire(engine, open_complaint(engine, clock), ("accept", "inspector"), ("start_verification", "inspector"))
    clock.advance(timedelta(days=40))
    engine.tick()
    assert engine.get(case.id).deadlines["resolution"].status == "missed"
    case = engine.fire(case.id, "suspend", actor="cb01", role="head_of_unit", payload={"reason": "căn cứ"})
    case = engine.fire(case.id, "send_suspension_decision", actor="cb02", role="clerk")  # K14: within 3 WD
    assert case.deadlines["resolution"].status == "missed"
    clock.advance(timedelta(days=3))
    case = engine.fire(case.id, "resume", actor="cb01", role="head_of_unit")
    case = engine.fire(case.id, "send_resumption_decision", actor="cb02", role="clerk")
    assert case.state == "verifying"
    assert case.deadlines["resolution"].status == "missed"
    clock.advance(timedelta(days=30))
    resolution_rungs = [f for f in fired(engine) if f[1] == "resolution"]
    engine.tick()  # (the second-complaint window opened by the expiry may fire its own rungs: LKN Điều 33)
    assert [f for f in fired(engine) if f[1] == "resolution"] == resolution_rungs  # its overdue fired once, before
