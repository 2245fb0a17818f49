"""The tick: turn due timers (deadline rungs, scheduled jobs) into events, exactly once each.

Each open deadline row carries its next timer (``next_fire_at``). A tick claims due rows in
batches, earliest first, and for each one, in the same transaction: records the rung by its key
in the fired-rungs table (a unique key on case, deadline, cycle and rung: the claim *is* that
insert, so a second firing is impossible by construction), applies the effect through the
pipeline (``deadline.warning``, ``deadline.overdue`` or the definition's timed event, then the
reactors), advances the row to its next rung and commits. A crash before the commit leaves
nothing behind; the next tick claims the row again. Rungs missed during downtime fire on the
next tick, in due order.

One bad item never stalls the sweep: when a batch raises, it is rolled back and its rows are
fired one transaction each; a row that raises again is recorded on its ledger (attempts, last
error, next try with backoff) and the sweep goes on; after the last attempt its timer stops
(dead, listed by ``kntc outbox``) until a command on the case re-projects it.
Scheduled jobs (:mod:`engine.jobs`) follow the rungs, each slot claimed by its own key.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.commands import clock_names, context_names, decide
from engine.deadlines import DeadlineKeeper
from engine.errors import NotAllowedError
from engine.jobs import JobRun, JobSlot, ScheduledJob
from engine.logs import describe, get_logger
from engine.model import DAEMON, RUNG_DUE, SYSTEM, CaseRecord, DeadlineLedger, NewEvent, TickReport
from engine.pipeline import Committed, apply_effects, commit, react
from engine.ports import Transaction
from engine.runtime import Runtime

__all__ = ["case_names", "run_tick"]

log = get_logger("tick")
Batch = list[tuple[CaseRecord, DeadlineLedger]]


@dataclass(slots=True)
class _Count:
    claimed: int = 0
    fired: int = 0
    skipped: int = 0
    events: int = 0
    lag: float = 0.0
    failed: int = 0
    dead: int = 0
    jobs: int = 0

    def add(self, other: _Count) -> None:
        self.claimed += other.claimed
        self.fired += other.fired
        self.skipped += other.skipped
        self.events += other.events
        self.lag = max(self.lag, other.lag)
        self.failed += other.failed
        self.dead += other.dead
        self.jobs += other.jobs


def run_tick(rt: Runtime, now: datetime, *, max_rungs: int) -> TickReport:
    """Fire every rung due at ``now``, earliest first across all deadlines (at most ``max_rungs``), then the jobs."""
    total = _Count()
    while total.fired + total.skipped < max_rungs:
        limit = min(rt.tick_batch, max_rungs - total.fired - total.skipped)
        batch: Batch = []
        try:
            with rt.store.transaction() as tx:
                batch = tx.claim_due(now, limit)
                if not batch:
                    break
                count = _fire_batch(rt, tx, batch, now, horizon=now if len(batch) < limit else None)
                count.claimed = len(batch)
        except Exception:
            if not batch:  # the claim itself failed: the store is down, nothing to isolate
                raise
            count = _isolate(rt, batch, now)
        total.add(count)
    for job in rt.jobs:
        total.add(_run_job(rt, job, now))
    log.info("tick", now=now.astimezone(rt.calendar.timezone).isoformat(), claimed=total.claimed,
             fired=total.fired, skipped=total.skipped, events=total.events, failed=total.failed,
             dead=total.dead, jobs=total.jobs, lag_s=round(total.lag, 3))
    return TickReport(now=now, claimed=total.claimed, fired=total.fired, skipped=total.skipped, events=total.events,
                      max_lag_seconds=total.lag, failed=total.failed, dead=total.dead, jobs=total.jobs)


def _fire_batch(rt: Runtime, tx: Transaction, batch: Batch, now: datetime, *, horizon: datetime | None) -> _Count:
    """Fire the claimed rows' rungs in due order; a row's later rungs up to ``horizon`` follow in turn.

    ``horizon`` bounds the rungs fired again from this batch: rows not claimed (the batch was full)
    may be due before a later rung of a claimed row, so those wait for the next claim. When a rung
    moves a case (a timed event, a reaction), that case's other rows are reloaded before they fire.
    """
    if horizon is None:
        horizon = batch[-1][1].next_fire_at or now
    generation: dict[str, int] = {}
    names: dict[str, dict[str, Any]] = {}  # each case's context names, once per case (again once it moved)
    queue: list[tuple[datetime, int, int, CaseRecord, DeadlineLedger]] = []
    for order, (case, ledger) in enumerate(batch):
        heapq.heappush(queue, (ledger.next_fire_at or now, order, 0, case, ledger))
    order = len(batch)
    count = _Count()
    while queue:
        _, _, seen, case, ledger = heapq.heappop(queue)
        if seen != generation.get(case.id, 0):  # an earlier rung moved this case: read it again
            again = _still_due(tx, case.id, ledger.name, now)
            if again is None:
                count.skipped += 1
                continue
            case, ledger = again
        if case.id not in names:
            names[case.id] = case_names(tx, rt.keeper(rt.workflow_of(tx, case)), case.id, now)
        outcome = _fire_rung(rt, tx, case, ledger, now, names[case.id])
        if outcome is None:
            count.skipped += 1
            continue
        clocks = names[case.id]["deadlines"]
        if ledger.name in clocks:  # what this rung did to its clock (missed), for the case's next rungs
            workflow = rt.workflow_of(tx, case)
            clocks[ledger.name] = clock_names(workflow, [ledger], rt.calendar.timezone)[ledger.name]
        lag, done = outcome
        count.fired, count.events, count.lag = count.fired + 1, count.events + done.events, max(count.lag, lag)
        if done.touched:
            generation[case.id] = generation.get(case.id, 0) + 1
            names.pop(case.id, None)
            case = tx.get_case(case.id) or case
        if ledger.open and ledger.next_fire_at is not None and ledger.next_fire_at <= horizon:
            order += 1
            heapq.heappush(queue, (ledger.next_fire_at, order, generation.get(case.id, 0), case, ledger))
    return count


def case_names(tx: Transaction, keeper: DeadlineKeeper, case_id: str, now: datetime) -> dict[str, Any]:
    """The ``now``, ``tz`` and ``deadlines`` a deadline condition of the case sees at ``now``.

    The case's ledgers are read only when one of its workflow's deadline conditions reads
    ``deadlines`` (else ``deadlines`` is empty, and unread): the tick's hot path keeps its reads.
    """
    reads = any("deadlines" in c.roots for c in keeper.workflow.conditions.values())
    names = context_names(keeper, tx.get_deadlines(case_id) if reads else [], now)
    if not reads:
        names["deadlines"] = {}  # unread: no clock's status is claimed
    return names


def _fire_rung(rt: Runtime, tx: Transaction, case: CaseRecord, ledger: DeadlineLedger,
               now: datetime, names: dict[str, Any]) -> tuple[float, Committed] | None:
    """Fire the next rung of ``ledger`` if it is due: (lag in seconds, what was written).

    None when nothing was due after all (the row is re-timed) or the rung had fired already.
    ``names``: the case's context names (:func:`case_names`).
    """
    compiled = rt.workflow_of(tx, case)
    keeper = rt.keeper(compiled)
    spec = keeper.specs[ledger.name]  # a case's definition is immutable (content hash): it declares it
    context = case.context(**names)
    projection = keeper.project(spec, ledger, context)
    key, moment = keeper.next_rung(ledger, projection)
    if moment is None or moment > now:
        ledger.next_fire_at, ledger.due_at = moment, projection.due_at
        tx.save_deadlines([], [ledger])
        return None
    ledger.fired_through, ledger.attempts, ledger.last_error = key, 0, None
    if not tx.mark_fired(case.id, ledger.name, ledger.cycle, key, now):
        keeper.refresh(ledger, context)
        tx.save_deadlines([], [ledger])
        return None
    due_at = projection.due_at.astimezone(rt.calendar.timezone).isoformat() if projection.due_at else None
    data: dict[str, Any] = {"deadline": ledger.name, "rung": key, "kind": case.kind, "state": case.state,
                            "due_at": due_at, "legal_basis": projection.legal_basis, "owner": spec.owner}
    lag = (now - moment).total_seconds()
    if key < RUNG_DUE:
        data["fraction"] = key / RUNG_DUE
        kind = "deadline.warning"
    elif spec.on_due is None:
        ledger.status, kind = "missed", "deadline.overdue"
    else:  # a timer, not a duty: running out is met, and its effect is the timed event
        ledger.status, ledger.closed_at, ledger.closed_by = "met", now, spec.on_due
        keeper.refresh(ledger, context)
        tx.save_deadlines([], [ledger])
        # fired a day or more late (downtime): dated its due moment, so clocks it stops are judged by it
        late = projection.due_at is not None and (rt.calendar.local_date(now)
                                                  > rt.calendar.local_date(projection.due_at))
        try:
            outcome = decide(compiled, keeper, case, tx.get_deadlines(case.id), spec.on_due, actor=DAEMON,
                             role=SYSTEM, payload={}, now=now, occurred_at=projection.due_at if late else None)
        except NotAllowedError as exc:  # the case is elsewhere: say so, as an overdue notice
            data.update(on_due=spec.on_due, applied=False, reason=exc.args[0])
            return lag, _emit(rt, tx, NewEvent("deadline.overdue", case.id, now, data), case, now)
        done = commit(rt, tx, outcome)
        done.touched.add(case.id)
        return lag, done
    keeper.refresh(ledger, context)
    tx.save_deadlines([], [ledger])
    done = _emit(rt, tx, NewEvent(kind, case.id, now, data), case, now)
    if key == RUNG_DUE and spec.on_missed is not None and projection.due_at is not None:
        done.add(_fire_on_missed(rt, tx, case, spec.on_missed, projection.due_at, now))
    return lag, done


def _fire_on_missed(rt: Runtime, tx: Transaction, case: CaseRecord, event: str, due_at: datetime,
                    now: datetime) -> Committed:
    """A missed duty's ``on_missed`` event, dated the limit's last day (a clock it starts counts from that day).

    Refused (the case moved on, a guard): an ``deadline.on_missed`` notice says so, nothing else changes.
    """
    fresh = tx.get_case(case.id) or case
    compiled = rt.workflow_of(tx, fresh)
    keeper = rt.keeper(compiled)
    last_day = due_at - timedelta(microseconds=1)  # due_at is the end of the limit's last day
    try:
        outcome = decide(compiled, keeper, fresh, tx.get_deadlines(case.id), event, actor=DAEMON, role=SYSTEM,
                         payload={}, now=now, occurred_at=min(last_day, now))
    except NotAllowedError as exc:
        data = {"event": event, "kind": fresh.kind, "state": fresh.state, "applied": False, "reason": exc.args[0]}
        return _emit(rt, tx, NewEvent("deadline.on_missed", case.id, now, data), fresh, now)
    done = commit(rt, tx, outcome)
    done.touched.add(case.id)
    return done


def _emit(rt: Runtime, tx: Transaction, event: NewEvent, case: CaseRecord, now: datetime) -> Committed:
    tx.append_events([event])
    done = Committed(events=1)
    if rt.reactors:
        done.add(react(rt, tx, [event], case, now, depth=0))
    return done


def _isolate(rt: Runtime, batch: Batch, now: datetime) -> _Count:
    """After a batch raised: fire its rows one transaction each, recording the ones that raise."""
    count = _Count(claimed=len(batch))
    for case, ledger in batch:
        try:
            with rt.store.transaction() as tx:
                again = _still_due(tx, case.id, ledger.name, now, for_update=True)
                if again is None:
                    count.skipped += 1
                    continue
                count.add(_fire_batch(rt, tx, [again], now, horizon=now))
        except Exception as exc:
            count.failed += 1
            count.dead += _record_failure(rt, case.id, ledger.name, exc, now)
    return count


def _ledger(tx: Transaction, case_id: str, name: str) -> DeadlineLedger | None:
    return next((d for d in tx.get_deadlines(case_id) if d.name == name), None)


def _still_due(tx: Transaction, case_id: str, name: str, now: datetime, *,
               for_update: bool = False) -> tuple[CaseRecord, DeadlineLedger] | None:
    """The case and the ledger ``name`` read again, if its timer is still due at ``now``."""
    case = tx.get_case(case_id, for_update=for_update)
    ledger = _ledger(tx, case_id, name) if case is not None else None
    if case is None or ledger is None or ledger.next_fire_at is None or ledger.next_fire_at > now:
        return None
    return case, ledger


def _record_failure(rt: Runtime, case_id: str, name: str, exc: Exception, now: datetime) -> int:
    """Put the row's timer off with a backoff (or stop it: dead); 1 if it is dead now."""
    error = describe(exc)
    with rt.store.transaction() as tx:
        current = _ledger(tx, case_id, name)
        if current is None:
            return 0
        current.attempts += 1
        current.last_error = error
        dead = rt.retry.dead(current.attempts)
        current.next_fire_at = None if dead else now + timedelta(seconds=rt.retry.delay(current.attempts))
        tx.save_deadlines([], [current])
    log.error("rung_dead" if dead else "rung_failed", case_id=case_id, deadline=name, attempts=current.attempts,
              error=error, retry_at=None if dead else current.next_fire_at.astimezone(rt.calendar.timezone).isoformat()
              if current.next_fire_at else None)
    return int(dead)


def _run_job(rt: Runtime, job: ScheduledJob, now: datetime) -> _Count:
    """Run each due, unclaimed slot of ``job`` in a transaction of its own."""
    count = _Count()
    for slot in job.due(now, rt.calendar):
        with rt.store.reader() as tx:
            state = tx.job_state(job.kind, slot.subject, slot.slot)
        if state is not None and (state.done_at is not None or state.next_try_at is None
                                  or state.next_try_at > now):
            continue  # done, dead, or waiting for its next try
        try:
            with rt.store.transaction() as tx:
                if not tx.claim_job(job.kind, slot.subject, slot.slot, now):
                    continue
                done = apply_effects(rt, tx, job.run(JobRun(slot=slot, tx=tx, now=now, calendar=rt.calendar)),
                                     now, depth=0, chain=(job.kind,))
            count.jobs, count.events = count.jobs + 1, count.events + done.events
        except Exception as exc:
            count.failed += 1
            count.dead += _record_job_failure(rt, job, slot, state.attempts if state else 0, exc, now)
    return count


def _record_job_failure(rt: Runtime, job: ScheduledJob, slot: JobSlot, before: int, exc: Exception,
                        now: datetime) -> int:
    attempts, error = before + 1, describe(exc)
    dead = rt.retry.dead(attempts)
    retry_at = None if dead else now + timedelta(seconds=rt.retry.delay(attempts))
    with rt.store.transaction() as tx:
        tx.fail_job(job.kind, slot.subject, slot.slot, attempts=attempts, error=error, next_try_at=retry_at)
    log.error("job_dead" if dead else "job_failed", job=job.kind, job_subject=slot.subject, slot=slot.slot,
              attempts=attempts, error=error)
    return int(dead)
