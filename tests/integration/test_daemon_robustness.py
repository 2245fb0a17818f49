"""The daemon under bad items and changing rungs, over the memory, SQLite and PostgreSQL stores.

A complaint received Monday 2 March 2026, 09:00 has its ``acceptance`` clock of 10 working days
(the day of receipt not counted: 03, 04, 05, 06, 09, 10, 11, 12, 13, 16 March):
- warning at 50% = 5 WD -> end of Mon 09/03 (10/03 00:00);
- warning at 80% = 8 WD -> end of Thu 12/03 (13/03 00:00);
- a warning at 30% = 3 WD -> end of Thu 05/03; at 90% = 9 WD -> end of Fri 13/03 (14/03 00:00);
- due: end of Mon 16/03 (17/03 00:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine import Daily, Emit, Enqueue, JobRun, Reaction
from engine.maintenance import failures, reproject
from engine.model import NewEvent, OutboxMessage
from engine.outbox import Channel, dispatch, list_messages, requeue
from engine.reactors import Effect, Reactor
from engine.runtime import Retry
from engine.service import Engine
from engine.testing import ManualClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def variant(engine: Engine, *, reactors: Mapping[str, Sequence[Reactor]] | None = None, jobs: Iterable[Any] = (),
            extra_warn_at: tuple[float, ...] = (), retry: Retry | None = None) -> Engine:
    """An engine over the same store, workflows, calendar and clock, configured otherwise."""
    rt = engine.runtime
    return Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock, reactors=reactors,
                  jobs=jobs, extra_warn_at=extra_warn_at, retry=retry)


def open_complaint(engine: Engine, clock: ManualClock) -> str:
    return engine.open_case("complaint", received_at=clock.now(), petitioners=[{"name": "Lê Văn C"}],
                            respondent="UBND xã", subject="Đất đai").id


def rungs_of(engine: Engine, case_id: str) -> list[int]:
    return [e.data["rung"] for e in engine.events(limit=10_000)
            if e.case_id == case_id and e.type in ("deadline.warning", "deadline.overdue")]


# ----------------------------------------------------------------------------- poison items


def test_one_rung_that_always_raises_never_stalls_the_others(engine: Engine, clock: ManualClock) -> None:
    """100 cases due with one whose rung always raises: the 100 fire in one tick, the bad one is retried, then dead."""
    bad = open_complaint(engine, clock)
    good = [open_complaint(engine, clock) for _ in range(100)]

    def explode(reaction: Reaction) -> Iterable[Effect]:
        if reaction.event.case_id == bad:
            raise RuntimeError("escalation target unreachable")
        return ()

    eng = variant(engine, reactors={"deadline.warning": [explode]}, retry=Retry(max_attempts=3, base_seconds=60))
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=TZ))  # past the 50% warning (10/03 00:00), before 80%
    report = eng.tick()
    assert (report.fired, report.failed, report.dead) == (100, 1, 0)
    assert all(rungs_of(eng, c) == [500] for c in good) and rungs_of(eng, bad) == []
    [failing] = failures(eng.runtime)
    assert (failing.subject, failing.attempts, failing.dead) == (f"{bad} acceptance", 1, False)
    assert failing.last_error == ("ReactionError: reactor 'explode' failed on deadline.warning of case "
                                  f"{bad}: RuntimeError: escalation target unreachable; nothing was written")
    assert eng.tick().failed == 0  # put off: the retry is due in 60 s, not now
    clock.advance(timedelta(seconds=60))
    assert (eng.tick().failed, failures(eng.runtime)[0].attempts) == (1, 2)  # next try in 120 s
    clock.advance(timedelta(seconds=120))
    last = eng.tick()
    assert (last.failed, last.dead) == (1, 1)
    assert failures(eng.runtime)[0].dead
    clock.advance(timedelta(days=1))
    assert eng.tick().fired == 0 and rungs_of(eng, bad) == []  # dead: no longer tried
    assert variant(engine).tick().fired == 0  # even without the bad reactor, until someone re-projects it


def test_a_rung_that_raised_once_fires_when_the_cause_is_gone(engine: Engine, clock: ManualClock) -> None:
    """A failure that outlasts the tick is retried with a backoff; the rung then fires once, its attempts cleared."""
    case = open_complaint(engine, clock)
    calls: list[str] = []

    def flaky(reaction: Reaction) -> Iterable[Effect]:
        calls.append(reaction.event.type)
        if len(calls) <= 2:  # the batch's try and the row's own try in the same tick
            raise ConnectionError("mail server down")
        return ()

    eng = variant(engine, reactors={"deadline.warning": [flaky]})
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=TZ))
    assert eng.tick().failed == 1
    clock.advance(timedelta(minutes=1))
    assert eng.tick().fired == 1
    assert rungs_of(eng, case) == [500] and failures(eng.runtime) == []


# ----------------------------------------------------------------------------- stable rung identity


def test_adding_a_warning_rung_to_a_running_deadline_fires_none_twice_and_loses_none(
        engine: Engine, clock: ManualClock) -> None:
    """A 30% and a 90% warning added after the 50% one fired: 500 is not repeated, 800, 900 and 1000 follow."""
    case = open_complaint(engine, clock)
    clock.set(datetime(2026, 3, 11, 8, 0, tzinfo=TZ))  # after the 50% warning (10/03 00:00)
    assert engine.tick().fired == 1
    period = variant(engine, extra_warn_at=(0.3, 0.9))
    reproject(period.runtime)
    warnings = period.get(case).deadlines["acceptance"].warn_at
    assert [w.date() for w in warnings] == [date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 13),
                                            date(2026, 3, 14)]  # ends of 05/03, 09/03, 12/03, 13/03
    clock.set(datetime(2026, 3, 18, 8, 0, tzinfo=TZ))
    assert period.tick().fired == 3
    assert rungs_of(period, case) == [500, 800, 900, 1000]  # 300 lay behind the last fired rung: not fired late
    assert period.tick().fired == 0 and engine.tick().fired == 0


def test_a_warning_added_before_any_fired_fires_in_its_place(engine: Engine, clock: ManualClock) -> None:
    """A 30% warning added while nothing has fired yet fires first, then the others in order."""
    case = open_complaint(engine, clock)
    period = variant(engine, extra_warn_at=(0.3,))
    reproject(period.runtime)
    clock.set(datetime(2026, 3, 18, 8, 0, tzinfo=TZ))
    assert period.tick().fired == 4
    assert rungs_of(period, case) == [300, 500, 800, 1000]


# ----------------------------------------------------------------------------- scheduled jobs


def report_job(first_day: date, runs: list[str]) -> Daily:
    """A daily report at 07:00 that emits ``report.generated`` for its day."""
    def action(job: JobRun) -> Iterable[Effect]:
        runs.append(job.slot.slot)
        yield Emit(NewEvent("report.generated", None, job.now, {"day": job.slot.slot}))
    return Daily(kind="daily_report", action=action, at=time(7, 0), first_day=first_day)


def test_a_daily_job_runs_once_per_day_whatever_the_number_of_daemons(engine: Engine, clock: ManualClock) -> None:
    """Two daemons ticking at the same moments run each day's slot once; a day missed is caught up."""
    runs: list[str] = []
    first, second = (variant(engine, jobs=[report_job(date(2026, 3, 2), runs)]) for _ in range(2))
    clock.set(datetime(2026, 3, 2, 6, 59, tzinfo=TZ))
    assert first.tick().jobs == 0  # 07:00 not yet
    clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=TZ))
    assert (first.tick().jobs, second.tick().jobs) == (1, 0)
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=TZ))  # the daemons were down on 03/03
    assert second.tick().jobs + first.tick().jobs == 2
    assert runs == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert [e.data["day"] for e in first.events() if e.type == "report.generated"] == runs


def test_a_job_that_raises_is_retried_then_dead(engine: Engine, clock: ManualClock) -> None:
    """A job slot whose run raises is put off with a backoff, and after the last attempt shown as dead."""
    def broken(job: JobRun) -> Iterable[Effect]:
        raise ValueError("no template")

    eng = variant(engine, jobs=[Daily("schedule_check", broken, first_day=date(2026, 3, 2))],
                  retry=Retry(max_attempts=2, base_seconds=60))
    clock.set(datetime(2026, 3, 2, 7, 30, tzinfo=TZ))
    assert (eng.tick().failed, eng.tick().failed) == (1, 0)  # the second tick is before the retry
    clock.advance(timedelta(minutes=1))
    report = eng.tick()
    assert (report.failed, report.dead) == (1, 1)
    [dead] = failures(eng.runtime)
    assert (dead.what, dead.subject, dead.dead, dead.last_error) == (
        "job", "schedule_check daily 2026-03-02", True, "ValueError: no template")
    clock.advance(timedelta(hours=1))
    assert eng.tick().failed == 0


# ----------------------------------------------------------------------------- outbox


def queue_notices(engine: Engine, clock: ManualClock, n: int) -> Engine:
    """An engine whose reactor queues a ``notice`` for ``mail`` per opened case; ``n`` cases opened with it."""
    def notify(reaction: Reaction) -> Iterable[Effect]:
        yield Enqueue("mail", "notice", reaction.event.case_id, {"kind": "complaint"})

    eng = variant(engine, reactors={"case.opened": [notify]})
    for _ in range(n):
        open_complaint(eng, clock)
    return eng


def test_each_message_is_delivered_once_and_only_by_the_lease_holder(engine: Engine, clock: ManualClock) -> None:
    """While one daemon holds a channel's lease another delivers nothing; each message is sent once."""
    eng = queue_notices(engine, clock, 3)
    got: list[str] = []
    mail = Channel("mail", lambda m: got.append(m.key))
    with eng.runtime.store.transaction() as tx:  # daemon A holds the lease (delivering, say)
        assert tx.acquire_channel("mail", "daemon-a", clock.now(), clock.now() + timedelta(seconds=60))
    assert not dispatch(eng.runtime, mail, holder="daemon-b").leased and got == []
    clock.advance(timedelta(seconds=61))  # A died: its lease runs out
    report = dispatch(eng.runtime, mail, holder="daemon-b")
    assert (report.leased, report.delivered) == (True, 3)
    assert dispatch(eng.runtime, mail, holder="daemon-a").delivered == 0
    assert len(got) == len(set(got)) == 3
    assert [m.status for m in list_messages(eng.runtime)] == ["sent"] * 3


def test_a_failing_delivery_is_retried_then_dead_and_can_be_requeued(engine: Engine, clock: ManualClock) -> None:
    """A message whose delivery raises is retried with a backoff, dead after the last try, re-queued by id."""
    eng = variant(queue_notices(engine, clock, 2), retry=Retry(max_attempts=2, base_seconds=60))
    down = True
    sent: list[int] = []

    def deliver(message: OutboxMessage) -> None:
        if down and message.id == 1:
            raise TimeoutError("smtp timed out")
        sent.append(message.id)

    mail = Channel("mail", deliver)
    first = dispatch(eng.runtime, mail, holder="d")
    assert (first.delivered, first.failed, sent) == (1, 1, [2])
    assert dispatch(eng.runtime, mail, holder="d").failed == 0  # not due before its backoff
    clock.advance(timedelta(seconds=60))
    assert dispatch(eng.runtime, mail, holder="d").dead == 1
    [dead] = list_messages(eng.runtime, "dead")
    assert (dead.id, dead.attempts, dead.last_error) == (1, 2, "TimeoutError: smtp timed out")
    down = False
    requeue(eng.runtime, 1)
    assert dispatch(eng.runtime, mail, holder="d").delivered == 1 and sent == [2, 1]
    assert list_messages(eng.runtime, "dead") == []


def test_a_feed_event_that_fails_never_holds_the_cursor_back(engine: Engine, clock: ManualClock) -> None:
    """A channel following the feed moves on past an event whose delivery raised; that one is retried alone."""
    for _ in range(4):
        open_complaint(engine, clock)
    tries: list[str] = []

    def deliver(message: OutboxMessage) -> None:
        tries.append(message.key)
        if message.data.get("seq") == 2 and tries.count(message.key) == 1:
            raise ConnectionError("webhook down")

    hook = Channel("hook", deliver, follows_feed=True)
    report = dispatch(engine.runtime, hook, holder="d")
    assert (report.delivered, report.failed) == (3, 1)
    with engine.runtime.store.reader() as tx:
        assert tx.outbox_cursor("hook") == 4
    clock.advance(timedelta(seconds=60))
    assert dispatch(engine.runtime, hook, holder="d").delivered == 1
    # the retry carries the first try's idempotency key, so a receiver that got it after all drops it
    assert tries == ["kntc-hook-feed-1", "kntc-hook-feed-2", "kntc-hook-feed-3", "kntc-hook-feed-4",
                     "kntc-hook-feed-2"]
    assert dispatch(engine.runtime, hook, holder="d").delivered == 0


@pytest.mark.parametrize("status", ["bogus"])
def test_listing_the_outbox_by_an_unknown_status_is_refused(engine: Engine, status: str) -> None:
    """``kntc outbox --status`` accepts pending, sent or dead only."""
    with pytest.raises(Exception, match="must be pending, sent or dead"):
        list_messages(engine.runtime, status)


def test_a_daemon_whose_lease_passed_on_stops_delivering(engine: Engine, clock: ManualClock) -> None:
    """A delivery that outlasts the lease lets another daemon take the channel; the first stops at once."""
    eng = queue_notices(engine, clock, 3)
    got: list[str] = []

    def slow(message: OutboxMessage) -> None:
        got.append(message.key)
        clock.advance(timedelta(seconds=61))  # longer than the 60 s lease: daemon B takes over meanwhile
        with eng.runtime.store.transaction() as tx:
            assert tx.acquire_channel("mail", "daemon-b", clock.now(), clock.now() + timedelta(seconds=60))

    report = dispatch(eng.runtime, Channel("mail", slow), holder="daemon-a")
    assert (report.delivered, got) == (1, ["kntc-mail-1"])
    assert [m.status for m in list_messages(eng.runtime)] == ["sent", "pending", "pending"]


def test_a_rung_already_claimed_is_not_fired_again_even_if_its_ledger_lags(engine: Engine, clock: ManualClock) -> None:
    """A claim found taken (a ledger behind the fired-rungs table) fires nothing; the other rungs of the tick fire."""
    lagging, other = open_complaint(engine, clock), open_complaint(engine, clock)
    with engine.runtime.store.transaction() as tx:  # the 50% warning of `lagging` was claimed, its ledger not moved
        assert tx.mark_fired(lagging, "acceptance", 0, 500, clock.now())
    clock.set(datetime(2026, 3, 11, 8, 0, tzinfo=TZ))  # past the 50% warning (10/03 00:00), before 80%
    report = engine.tick()
    assert (report.fired, report.failed) == (1, 0)
    assert rungs_of(engine, lagging) == [] and rungs_of(engine, other) == [500]
    clock.set(datetime(2026, 3, 13, 8, 0, tzinfo=TZ))  # past the 80% warning (13/03 00:00)
    assert engine.tick().fired == 2
    assert rungs_of(engine, lagging) == [800] and rungs_of(engine, other) == [500, 800]


def test_a_job_that_failed_once_then_ran_is_no_longer_listed(engine: Engine, clock: ManualClock) -> None:
    """A slot that raised and then succeeded on its retry runs once and leaves no failure behind."""
    runs: list[str] = []

    def flaky(job: JobRun) -> Iterable[Effect]:
        runs.append(job.slot.slot)
        if len(runs) == 1:
            raise ConnectionError("report store down")
        return ()

    eng = variant(engine, jobs=[Daily("daily_report", flaky, first_day=date(2026, 3, 2))])
    clock.set(datetime(2026, 3, 2, 7, 30, tzinfo=TZ))
    assert eng.tick().failed == 1
    clock.advance(timedelta(minutes=1))
    assert (eng.tick().jobs, eng.tick().jobs) == (1, 0)
    assert runs == ["2026-03-02", "2026-03-02"] and failures(eng.runtime) == []
