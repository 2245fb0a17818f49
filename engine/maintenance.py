"""Use cases of the operator and of ``build()``: stored definitions, re-projection, the audit.

None of these is on a portal's path; they work page by page where a database may be large.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.logs import get_logger
from engine.model import GENESIS, SYSTEM, CaseRecord, DeadlineLedger, chain_hash
from engine.runtime import Runtime
from engine.tick import case_names

__all__ = ["AuditReport", "TimerFailure", "failures", "register_definitions", "reproject", "sync_calendar",
           "verify_audit"]

log = get_logger("maintenance")


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of :func:`verify_audit`: rows checked and the problems found."""

    cases: int
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class TimerFailure:
    """A deadline rung or a job slot whose run raised: failing (retried later) or dead."""

    what: str  # "rung" or "job"
    subject: str  # case id and deadline, or job kind, subject and slot
    attempts: int
    last_error: str | None
    dead: bool


def register_definitions(rt: Runtime) -> None:
    """Store every loaded definition by content hash (idempotent)."""
    with rt.store.transaction() as tx:
        for w in rt.workflows.values():
            tx.save_definition(w.content_hash, w.name, w.definition.model_dump_json(by_alias=True))


def reproject(rt: Runtime, *, page: int = 1000) -> int:
    """Re-derive due dates and timers of every open deadline (after a calendar change).

    Works a page of deadlines per transaction, logging progress; the new calendar is recorded
    only when every page is done, so an interrupted run starts again at the next ``build()``.
    """
    changed = seen = 0
    after: tuple[str, str] | None = None
    while True:
        with rt.store.transaction() as tx:
            ledgers = tx.open_deadlines(after, page)
            cases: dict[str, tuple[CaseRecord, dict[str, Any]]] = {}
            now = rt.now()
            for ledger in ledgers:
                if ledger.case_id not in cases:
                    record = rt.load(tx, ledger.case_id)
                    keeper = rt.keeper(rt.workflow_of(tx, record))
                    cases[ledger.case_id] = record, case_names(tx, keeper, record.id, now)
                record, names = cases[ledger.case_id]
                before = (ledger.due_at, ledger.next_fire_at)
                if not _dead(rt, ledger):
                    rt.keeper(rt.workflow_of(tx, record)).refresh(ledger, record.context({}, SYSTEM, **names))
                if before != (ledger.due_at, ledger.next_fire_at):
                    tx.save_deadlines([], [ledger])
                    changed += 1
        if not ledgers:
            break
        seen, after = seen + len(ledgers), (ledgers[-1].case_id, ledgers[-1].name)
        log.info("reprojecting", deadlines_seen=seen, changed=changed)
    with rt.store.transaction() as tx:
        tx.set_meta("calendar_fingerprint", rt.calendar.fingerprint)
    log.info("deadlines_reprojected", deadlines_seen=seen, changed=changed)
    return changed


def _dead(rt: Runtime, ledger: DeadlineLedger) -> bool:
    return rt.retry.dead(ledger.attempts)


def sync_calendar(rt: Runtime) -> int:
    """Re-project open deadlines if the calendar changed since they were projected.

    Returns how many deadlines moved (0 when the calendar is the one already recorded).
    """
    with rt.store.reader() as tx:
        stored = tx.get_meta("calendar_fingerprint")
    if stored == rt.calendar.fingerprint:
        return 0
    if stored is None:  # a new database: record the calendar its timers are projected with
        with rt.store.transaction() as tx:
            tx.set_meta("calendar_fingerprint", rt.calendar.fingerprint)
        return 0
    return reproject(rt)


def verify_audit(rt: Runtime) -> AuditReport:
    """Recompute every case's history hash chain; report rows that do not match."""
    problems: list[str] = []
    cases = rows = 0
    with rt.store.reader() as tx:
        for record in tx.iter_cases():
            cases += 1
            previous = GENESIS
            for entry in tx.history(record.id):
                rows += 1
                if chain_hash(previous, record.id, entry) != entry.hash:
                    problems.append(f"case {record.id} history #{entry.seq}: hash mismatch (row altered)")
                previous = entry.hash
            if previous != record.history_head:
                problems.append(f"case {record.id}: history does not end at the case's head (rows removed)")
    return AuditReport(cases, rows, tuple(problems))


def failures(rt: Runtime, limit: int = 100) -> list[TimerFailure]:
    """Rungs and job slots that raised, failing or dead (for ``kntc outbox`` and the log)."""
    with rt.store.reader() as tx:
        rungs = tx.failing_deadlines(limit)
        jobs = tx.failed_jobs(limit)
    found = [TimerFailure("rung", f"{d.case_id} {d.name}", d.attempts, d.last_error, rt.retry.dead(d.attempts))
             for d in rungs]
    found += [TimerFailure("job", f"{kind} {subject} {slot}", s.attempts, s.last_error, s.next_try_at is None)
              for kind, subject, slot, s in jobs]
    return found
