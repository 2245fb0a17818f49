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

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from engine.errors import NotAllowedError
from engine.model import CaseRecord, DeadlineState, NewEvent, TickReport
from engine.ports import Transaction

if TYPE_CHECKING:
    from engine.service import Engine

__all__ = ["run_tick"]

log = structlog.get_logger("kntc.tick")


def run_tick(engine: Engine, now: datetime, *, max_rungs: int) -> TickReport:
    """Fire every rung due at ``now``; at most ``max_rungs`` in one call."""
    claimed = fired = skipped = events = 0
    max_lag = 0.0
    while claimed < max_rungs:
        with engine.store.transaction() as tx:
            batch = tx.claim_due(now, min(engine.tick_batch, max_rungs - claimed))
            if not batch:
                break
            touched: set[str] = set()
            for record, state in batch:
                if record.id in touched:  # an earlier rung of this batch moved the case
                    record = tx.get_case(record.id) or record
                outcome = _fire_rung(engine, tx, record, state, now)
                if outcome is None:
                    skipped += 1
                    continue
                lag, written, moved = outcome
                fired, events = fired + 1, events + written
                max_lag = max(max_lag, lag)
                if moved:
                    touched.add(record.id)
            claimed += len(batch)
    report = TickReport(now=now, claimed=claimed, fired=fired, skipped=skipped, events=events,
                        max_lag_seconds=max_lag)
    log.info("tick", claimed=claimed, fired=fired, skipped=skipped, events=events, lag_s=round(max_lag, 3))
    return report


def _fire_rung(engine: Engine, tx: Transaction, record: CaseRecord, state: DeadlineState,
               now: datetime) -> tuple[float, int, bool] | None:
    """Fire the next rung of ``state`` if it is due; None when nothing was due (row re-timed)."""
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
    moved = False
    written = 1
    if rung < len(spec.warn_at):
        data["fraction"] = spec.warn_at[rung]
        new = [NewEvent("deadline.warning", record.id, now, data)]
    elif spec.on_due is not None:
        state.status, state.closed_at = "met", now
        new = []
        keeper.refresh(state, context)
        tx.save_deadlines([], [state])
        try:
            engine.apply_event(tx, record, spec.on_due, actor="kntc-daemon", role="system", payload={}, now=now)
            moved, written = True, 1
        except NotAllowedError as exc:
            data.update(on_due=spec.on_due, applied=False, reason=exc.args[0])
            new = [NewEvent("deadline.overdue", record.id, now, data)]
        tx.append_events(new)
        return (now - moment).total_seconds(), written, moved
    else:
        state.status = "missed"
        new = [NewEvent("deadline.overdue", record.id, now, data)]
    keeper.refresh(state, context)
    tx.save_deadlines([], [state])
    tx.append_events(new)
    return (now - moment).total_seconds(), written, moved
