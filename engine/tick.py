"""The tick: turn due timers (deadline rungs) into events, exactly once each.

Each open deadline row carries its next timer (``next_fire_at``). A tick claims due rows in
batches, earliest first, and for each one, in the same transaction: records the rung in the
fired-rungs table (a unique key on case, deadline, cycle and rung: the claim *is* that insert, so
a second firing is impossible by construction), applies the effect (``deadline.warning``,
``deadline.overdue`` or the definition's timed event), advances the row to its next rung and
commits. A crash before the commit leaves nothing behind; the next tick claims the row again.
Rungs missed during downtime fire on the next tick, in due order.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from engine.errors import NotAllowedError
from engine.model import CaseRecord, DeadlineLedger, NewEvent, TickReport
from engine.ports import Transaction

if TYPE_CHECKING:
    from engine.service import Engine

__all__ = ["run_tick"]

log = structlog.get_logger("kntc.tick")


def run_tick(engine: Engine, now: datetime, *, max_rungs: int) -> TickReport:
    """Fire every rung due at ``now``, earliest first across all deadlines; stop after ``max_rungs``."""
    claimed = fired = skipped = events = 0
    max_lag = 0.0
    while fired + skipped < max_rungs:
        limit = min(engine.tick_batch, max_rungs - fired - skipped)
        with engine.store.transaction() as tx:
            batch = tx.claim_due(now, limit)
            if not batch:
                break
            claimed += len(batch)
            outcome = _fire_batch(engine, tx, batch, now, horizon=now if len(batch) < limit else None)
        fired, skipped, events = fired + outcome[0], skipped + outcome[1], events + outcome[2]
        max_lag = max(max_lag, outcome[3])
    report = TickReport(now=now, claimed=claimed, fired=fired, skipped=skipped, events=events,
                        max_lag_seconds=max_lag)
    log.info("tick", claimed=claimed, fired=fired, skipped=skipped, events=events, lag_s=round(max_lag, 3))
    return report


def _fire_batch(engine: Engine, tx: Transaction, batch: list[tuple[CaseRecord, DeadlineLedger]],
                now: datetime, *, horizon: datetime | None) -> tuple[int, int, int, float]:
    """Fire the claimed rows' rungs in due order; a row's later rungs up to ``horizon`` follow in turn.

    ``horizon`` bounds the rungs fired again from this batch: rows not claimed (the batch was full)
    may be due before a later rung of a claimed row, so those wait for the next claim. When a rung
    moves a case (a timed event), that case's other rows are reloaded before they fire.
    """
    if horizon is None:
        horizon = batch[-1][1].next_fire_at or now
    generation: dict[str, int] = {}
    queue: list[tuple[datetime, int, int, CaseRecord, DeadlineLedger]] = []
    for order, (record, state) in enumerate(batch):
        heapq.heappush(queue, (state.next_fire_at or now, order, 0, record, state))
    order = len(batch)
    fired = skipped = events = 0
    max_lag = 0.0
    while queue:
        _, _, seen, record, state = heapq.heappop(queue)
        if seen != generation.get(record.id, 0):  # an earlier rung moved this case: read it again
            fresh = tx.get_case(record.id)
            current = next((d for d in tx.get_deadlines(record.id) if d.name == state.name), None)
            if fresh is None or current is None or current.next_fire_at is None or current.next_fire_at > now:
                skipped += 1
                continue
            record, state = fresh, current
        outcome = _fire_rung(engine, tx, record, state, now)
        if outcome is None:
            skipped += 1
            continue
        lag, moved = outcome
        fired, events, max_lag = fired + 1, events + 1, max(max_lag, lag)
        if moved:
            generation[record.id] = generation.get(record.id, 0) + 1
            record = tx.get_case(record.id) or record
        if state.open and state.next_fire_at is not None and state.next_fire_at <= horizon:
            order += 1
            heapq.heappush(queue, (state.next_fire_at, order, generation.get(record.id, 0), record, state))
    return fired, skipped, events, max_lag


def _fire_rung(engine: Engine, tx: Transaction, record: CaseRecord, state: DeadlineLedger,
               now: datetime) -> tuple[float, bool] | None:
    """Fire the next rung of ``state`` if it is due: (lag in seconds, whether the case moved).

    None when nothing was due after all (the row is re-timed) or the rung had fired already.
    """
    compiled = engine.workflow_of(tx, record)
    keeper = engine.keeper(compiled)
    spec = keeper.specs.get(state.name)
    context = record.context()
    if spec is None:  # the definition no longer declares it: retire the timer
        state.next_fire_at = None
        tx.save_deadlines([], [state])
        return None
    projection = keeper.project(spec, state, context)
    rung, moment = keeper.next_rung(state, projection)
    if moment is None or moment > now:
        state.next_fire_at, state.due_at = moment, projection.due_at
        tx.save_deadlines([], [state])
        return None
    state.next_rung = rung + 1
    if not tx.mark_fired(record.id, state.name, state.cycle, rung, now):
        keeper.refresh(state, context)
        tx.save_deadlines([], [state])
        return None
    data: dict[str, Any] = {"deadline": state.name, "rung": rung, "kind": record.kind, "state": record.state,
                            "due_at": projection.due_at.isoformat() if projection.due_at else None,
                            "legal_basis": projection.legal_basis}
    lag = (now - moment).total_seconds()
    if rung < len(spec.warn_at):
        data["fraction"] = spec.warn_at[rung]
        kind = "deadline.warning"
    elif spec.on_due is None:
        state.status, kind = "missed", "deadline.overdue"
    else:  # a timer, not a duty: running out is met, and its effect is the timed event
        state.status, state.closed_at = "met", now
        keeper.refresh(state, context)
        tx.save_deadlines([], [state])
        try:
            engine.apply_event(tx, record, spec.on_due, actor="kntc-daemon", role="system", payload={}, now=now)
            return lag, True
        except NotAllowedError as exc:  # the case is elsewhere: say so, as an overdue notice
            data.update(on_due=spec.on_due, applied=False, reason=exc.args[0])
            tx.append_events([NewEvent("deadline.overdue", record.id, now, data)])
            return lag, False
    keeper.refresh(state, context)
    tx.save_deadlines([], [state])
    tx.append_events([NewEvent(kind, record.id, now, data)])
    return lag, False
