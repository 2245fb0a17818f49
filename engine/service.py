"""The Engine facade: the use cases a portal, the CLI and the daemon call (DESIGN.md §2).

Every command is one transaction of the store: load, check, compute, write case + history +
deadlines + feed, commit. All checks run before the first write, and an exception rolls the
transaction back, so a failed call changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from engine.calendar import BusinessCalendar
from engine.deadlines import DeadlineKeeper, DeadlineViews, Projection
from engine.definitions import OPENED, PAYLOAD_REF, PREVIOUS, WorkflowDefinition
from engine.errors import ConflictError, NotAllowedError, NotFound, ValidationError
from engine.expressions import ExpressionError
from engine.inputs import CaseInput, require_aware
from engine.machines import CompiledTransition, CompiledWorkflow, compile_workflow
from engine.model import (
    GENESIS,
    Case,
    CaseRecord,
    DeadlineLedger,
    Event,
    HistoryEntry,
    NewEvent,
    TickReport,
    chain_hash,
)
from engine.ports import Clock, Store, Transaction
from engine.tick import run_tick

__all__ = ["AuditReport", "Engine"]

log = structlog.get_logger("kntc.engine")
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of :meth:`Engine.verify_audit`: rows checked and the problems found."""

    cases: int
    rows: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class Engine:
    """The kntc engine. Build it with :func:`adapters.bootstrap.build`."""

    def __init__(self, *, store: Store, workflows: Mapping[str, CompiledWorkflow],
                 calendar: BusinessCalendar, clock: Clock,
                 id_factory: Callable[[], str] | None = None, tick_batch: int = 500) -> None:
        self.store = store
        self.calendar = calendar
        self.clock = clock
        self.workflows = dict(workflows)
        self._by_hash: dict[str, CompiledWorkflow] = {w.content_hash: w for w in workflows.values()}
        self._keepers: dict[str, DeadlineKeeper] = {}
        self._new_id = id_factory or (lambda: uuid.uuid4().hex)
        self.tick_batch = tick_batch

    def close(self) -> None:
        """Release the store's connections (the engine is not usable afterwards)."""
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    # -- definitions --------------------------------------------------------------------------
    def register_definitions(self) -> None:
        """Store every loaded definition by content hash (idempotent)."""
        with self.store.transaction() as tx:
            for w in self.workflows.values():
                tx.save_definition(w.content_hash, w.name, w.definition.model_dump_json(by_alias=True))

    def workflow(self, name: str) -> CompiledWorkflow:
        """The current version of a workflow; NotFound names the known ones."""
        try:
            return self.workflows[name]
        except KeyError:
            raise NotFound("workflow", name, f"known: {', '.join(sorted(self.workflows))}") from None

    def workflow_of(self, tx: Transaction, record: CaseRecord) -> CompiledWorkflow:
        """The (possibly older) workflow version a case runs on."""
        compiled = self._by_hash.get(record.definition_hash)
        if compiled is None:  # a case opened on an older version: compile that version once
            body = tx.get_definition(record.definition_hash)
            if body is None:
                raise NotFound("definition", record.definition_hash)
            compiled = compile_workflow(WorkflowDefinition.model_validate_json(body))
            self._by_hash[record.definition_hash] = compiled
        return compiled

    def keeper(self, workflow: CompiledWorkflow) -> DeadlineKeeper:
        """The deadline keeper of a workflow version (cached)."""
        keeper = self._keepers.get(workflow.content_hash)
        if keeper is None:
            keeper = self._keepers[workflow.content_hash] = DeadlineKeeper(workflow, self.calendar)
        return keeper

    # -- commands -----------------------------------------------------------------------------
    def open_case(self, workflow: str, *, received_at: datetime, petitioners: Sequence[Mapping[str, Any]],
                  respondent: str, subject: str, content: str = "", channel: str = "post",
                  fields: Mapping[str, Any] | None = None, actor: str = SYSTEM, role: str = SYSTEM) -> Case:
        """Open a case of ``workflow`` and start the clocks that start on receipt."""
        compiled = self.workflow(workflow)
        now = self._now()
        data = CaseInput.parse(received_at=received_at, petitioners=petitioners, respondent=respondent,
                               subject=subject, content=content, channel=channel, now=now)
        values = compiled.validate_fields(fields or {})
        defn = compiled.definition
        record = CaseRecord(
            id=self._new_id(), kind=defn.name, definition_hash=compiled.content_hash, state=defn.initial,
            previous_state=None, version=1, received_at=data.received_at, opened_at=now, updated_at=now,
            channel=data.channel, subject=data.subject, respondent=data.respondent, content=data.content,
            petitioner_count=len(data.petitioners), fields=values)
        keeper = self.keeper(compiled)
        changes = keeper.apply(case_id=record.id, event=OPENED, source=None, target=defn.initial, at=now,
                               clock_start=data.received_at, existing=[], context=record.context({}, role),
                               actor=actor, payload={})
        entry = self._history(record, OPENED, None, defn.initial, actor, role, now, {})
        record.history_head = entry.hash
        with self.store.transaction() as tx:
            tx.insert_case(record, [p.model_dump(exclude_none=True) for p in data.petitioners])
            tx.append_history(record.id, entry)
            tx.save_deadlines(changes.inserted, changes.updated)
            tx.append_events([NewEvent("case.opened", record.id, now, {
                "kind": record.kind, "state": record.state, "channel": record.channel,
                "petitioner_count": record.petitioner_count}), *changes.events])
        return self._view(compiled, record, changes.inserted, changes.projections)

    def fire(self, case_id: str, event: str, *, actor: str, role: str,
             payload: Mapping[str, Any] | None = None, expected_version: int | None = None) -> Case:
        """Fire ``event`` on a case as ``actor`` in ``role``; see DESIGN.md §2 for the errors."""
        _require_text("actor", actor)
        _require_text("role", role)
        if expected_version is not None and (isinstance(expected_version, bool)
                                             or not isinstance(expected_version, int)):
            raise ValidationError("expected_version", "must be an integer")
        now = self._now()
        with self.store.transaction() as tx:
            record = self._load(tx, case_id, for_update=True)
            if expected_version is not None and expected_version != record.version:
                raise ConflictError(case_id, expected_version, record.version)
            compiled, deadlines, projections = self.apply_event(tx, record, event, actor=actor, role=role,
                                                                payload=payload or {}, now=now)
        return self._view(compiled, record, deadlines, projections)

    def apply_event(self, tx: Transaction, record: CaseRecord, event: str, *, actor: str, role: str,
                    payload: Mapping[str, Any], now: datetime
                    ) -> tuple[CompiledWorkflow, list[DeadlineLedger], dict[str, Projection]]:
        """Check and apply one event to a loaded case inside ``tx`` (used by fire and the daemon)."""
        compiled = self.workflow_of(tx, record)
        existing = tx.get_deadlines(record.id)
        if event in compiled.event_names:  # a bound reached explains more than the guard that encodes it
            self.keeper(compiled).check_extensions(event, record.state, existing,
                                                   lambda: self._allowed(compiled, record, role))
        transition, clean = self._choose(compiled, record, event, role, payload)
        source = record.state
        target = record.previous_state if transition.spec.to == PREVIOUS else transition.spec.to
        assert target is not None
        fields = record.fields
        if transition.spec.set:
            fields = dict(fields)
            for name, value in transition.spec.set.items():
                is_ref = isinstance(value, str) and value.startswith(PAYLOAD_REF)
                fields[name] = clean.get(value.removeprefix(PAYLOAD_REF)) if is_ref else value
            fields = compiled.validate_fields(fields)
        # Every check has passed: from here the loaded record becomes the new one (the transaction
        # still rolls everything back if a write fails).
        expected, fields_changed = record.version, fields != record.fields
        record.previous_state = record.previous_state if target == source else source  # a self-loop keeps it
        record.state, record.version, record.updated_at, record.fields = target, expected + 1, now, fields
        changes = self.keeper(compiled).apply(
            case_id=record.id, event=event, source=source, target=target, at=now, clock_start=now,
            existing=existing, context=record.context(clean, role), actor=actor, payload=clean)
        entry = self._history(record, event, source, target, actor, role, now, clean)
        record.history_head = entry.hash
        if not tx.update_case(record, expected, fields_changed=fields_changed):
            raise ConflictError(record.id, expected, expected + 1)
        tx.append_history(record.id, entry)
        tx.save_deadlines(changes.inserted, changes.updated)
        tx.append_events([NewEvent("case.transitioned", record.id, now, {
            "kind": record.kind, "event": event, "source": source, "target": target,
            "version": record.version, "role": role}), *changes.events])
        by_name = {d.name: d for d in existing}
        by_name.update({d.name: d for d in changes.inserted})
        return compiled, list(by_name.values()), changes.projections

    def _choose(self, compiled: CompiledWorkflow, record: CaseRecord, event: str, role: str,
                payload: Mapping[str, Any]) -> tuple[CompiledTransition, dict[str, Any]]:
        def refuse(reason: str) -> NotAllowedError:
            return NotAllowedError(case_id=record.id, state=record.state, event=event, reason=reason,
                                   allowed=self._allowed(compiled, record, role))
        if event not in compiled.event_names:
            raise refuse(f"workflow {compiled.name!r} has no such event")
        candidates = compiled.candidates(event, record.state, record.previous_state)
        if not candidates:
            raise refuse("it cannot fire in this state")
        permitted = [c for c in candidates if role in c.spec.roles]
        if not permitted:
            roles = sorted({r for c in candidates for r in c.spec.roles})
            raise refuse(f"role {role!r} may not fire it (roles: {', '.join(roles)})")
        clean = permitted[0].validate_payload(payload)
        for candidate in permitted:
            if candidate.guard is None:
                return candidate, clean
            try:
                if candidate.guard.evaluate(record.context(clean, role)):
                    return candidate, clean
            except ExpressionError as exc:
                raise refuse(f"its condition could not be checked ({exc})") from None
        conditions = " / ".join(c.guard.source for c in permitted if c.guard is not None)
        raise refuse(f"its condition is false: {conditions}")

    def _allowed(self, compiled: CompiledWorkflow, record: CaseRecord, role: str | None) -> list[str]:
        allowed = []
        for event in compiled.events_from(record.state):
            for c in compiled.candidates(event, record.state, record.previous_state):
                if role is not None and role not in c.spec.roles:
                    continue
                if role is None and c.spec.roles == [SYSTEM]:
                    continue
                try:
                    ok = c.guard is None or c.guard.evaluate(record.context(_empty(c), role or ""))
                except ExpressionError:
                    ok = True  # depends on a payload the caller has not given yet
                if ok:
                    allowed.append(event)
                    break
        return allowed

    # -- reads --------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case:
        """The case with its deadlines (never a denouncer's identity)."""
        with self.store.reader() as tx:
            record = self._load(tx, case_id)
            compiled = self.workflow_of(tx, record)
            return self._view(compiled, record, tx.get_deadlines(case_id))

    def allowed_events(self, case_id: str, role: str | None = None) -> list[str]:
        """Events that ``role`` (any human role when None) may fire on the case now."""
        with self.store.reader() as tx:
            record = self._load(tx, case_id)
            return self._allowed(self.workflow_of(tx, record), record, role)

    def history(self, case_id: str) -> list[HistoryEntry]:
        """The case's history, oldest first."""
        tz = self.calendar.timezone
        with self.store.reader() as tx:
            self._load(tx, case_id)
            return [HistoryEntry(h.seq, h.event, h.source, h.target, h.actor, h.role, h.at.astimezone(tz),
                                 h.payload, h.hash) for h in tx.history(case_id)]

    def events(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Feed events with ``seq > after``, oldest first, at most ``limit`` (1..10000)."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationError("after", "must be a non-negative integer")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValidationError("limit", "must be an integer from 1 to 10000")
        tz = self.calendar.timezone
        with self.store.reader() as tx:
            return [Event(e.seq, e.type, e.case_id, e.at.astimezone(tz), e.data) for e in tx.events(after, limit)]

    # -- time ---------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None, *, max_rungs: int = 100_000) -> TickReport:
        """Fire every rung due at ``now`` (default: the clock), exactly once, in due order."""
        moment = require_aware("now", now) if now is not None else self.clock.now()
        report = run_tick(self, moment.astimezone(UTC), max_rungs=max_rungs)
        return replace(report, now=moment)

    def reproject(self, *, page: int = 1000) -> int:
        """Re-derive due dates and timers of every open deadline (after a calendar change).

        Works a page of deadlines per transaction, logging progress; the new calendar is recorded
        only when every page is done, so an interrupted run starts again at the next ``build()``.
        """
        changed = seen = 0
        after: tuple[str, str] | None = None
        while True:
            with self.store.transaction() as tx:
                states = tx.open_deadlines(after, page)
                cases: dict[str, CaseRecord] = {}
                for state in states:
                    record = cases.get(state.case_id) or self._load(tx, state.case_id)
                    cases[state.case_id] = record
                    before = (state.due_at, state.next_fire_at)
                    self.keeper(self.workflow_of(tx, record)).refresh(state, record.context({}, SYSTEM))
                    if before != (state.due_at, state.next_fire_at):
                        tx.save_deadlines([], [state])
                        changed += 1
            if not states:
                break
            seen, after = seen + len(states), (states[-1].case_id, states[-1].name)
            log.info("reprojecting", deadlines_seen=seen, changed=changed)
        with self.store.transaction() as tx:
            tx.set_meta("calendar_fingerprint", self.calendar.fingerprint)
        log.info("deadlines_reprojected", deadlines_seen=seen, changed=changed)
        return changed

    def sync_calendar(self) -> int:
        """Re-project open deadlines if the calendar changed since they were projected.

        Returns how many deadlines moved (0 when the calendar is the one already recorded).
        """
        with self.store.reader() as tx:
            stored = tx.get_meta("calendar_fingerprint")
        if stored == self.calendar.fingerprint:
            return 0
        if stored is None:  # a new database: record the calendar its timers are projected with
            with self.store.transaction() as tx:
                tx.set_meta("calendar_fingerprint", self.calendar.fingerprint)
            return 0
        return self.reproject()

    def dispatch(self, channel: str, deliver: Callable[[Event], None], *, limit: int = 500) -> int:
        """Deliver feed events a channel has not delivered yet, in order; returns how many.

        At-least-once: the channel's cursor moves after ``deliver`` returns, so an event whose
        delivery raised is delivered again on the next call.
        """
        with self.store.reader() as tx:
            pending = tx.events(tx.outbox_cursor(channel), limit)
        delivered = 0
        try:
            for event in pending:
                deliver(event)
                delivered += 1
        finally:
            if delivered:
                with self.store.transaction() as tx:
                    tx.set_outbox_cursor(channel, pending[delivered - 1].seq)
        return delivered

    # -- audit --------------------------------------------------------------------------------
    def verify_audit(self) -> AuditReport:
        """Recompute every case's history hash chain; report rows that do not match."""
        problems: list[str] = []
        cases = rows = 0
        with self.store.reader() as tx:
            for record in tx.iter_cases():
                cases += 1
                previous = GENESIS
                for entry in tx.history(record.id):
                    rows += 1
                    expected = chain_hash(previous, record.id, entry.seq, entry.event, entry.source,
                                          entry.target, entry.actor, entry.role, entry.at, entry.payload)
                    if expected != entry.hash:
                        problems.append(f"case {record.id} history #{entry.seq}: hash mismatch (row altered)")
                    previous = entry.hash
                if previous != record.history_head:
                    problems.append(f"case {record.id}: history does not end at the case's head (rows removed)")
        return AuditReport(cases, rows, tuple(problems))

    # -- helpers ------------------------------------------------------------------------------
    def _now(self) -> datetime:
        """The clock's moment in UTC: converted once, so no write converts it again."""
        return require_aware("clock.now()", self.clock.now()).astimezone(UTC)

    def _load(self, tx: Transaction, case_id: str, *, for_update: bool = False) -> CaseRecord:
        if not isinstance(case_id, str) or not case_id:
            raise ValidationError("case_id", "must be a non-empty string")
        record = tx.get_case(case_id, for_update=for_update)
        if record is None:
            raise NotFound("case", case_id)
        return record

    @staticmethod
    def _history(record: CaseRecord, event: str, source: str | None, target: str, actor: str, role: str,
                 at: datetime, payload: dict[str, Any]) -> HistoryEntry:
        digest = chain_hash(record.history_head, record.id, record.version, event, source, target,
                            actor, role, at, payload)
        return HistoryEntry(seq=record.version, event=event, source=source, target=target, actor=actor,
                            role=role, at=at, payload=payload, hash=digest)

    def _view(self, compiled: CompiledWorkflow, record: CaseRecord, deadlines: Sequence[DeadlineLedger],
              projections: Mapping[str, Projection] | None = None) -> Case:
        keeper = self.keeper(compiled)
        context = record.context({}, SYSTEM)  # its own fields: the record may move on after this call
        fields = context["fields"] = dict(record.fields)
        tz = self.calendar.timezone
        return Case(
            id=record.id, kind=record.kind, state=record.state, version=record.version,
            received_at=record.received_at.astimezone(tz), opened_at=record.opened_at.astimezone(tz),
            updated_at=record.updated_at.astimezone(tz), channel=record.channel, subject=record.subject,
            respondent=record.respondent, petitioner_count=record.petitioner_count, fields=fields,
            deadlines=DeadlineViews(keeper, deadlines, context, projections),
            definition_hash=record.definition_hash, previous_state=record.previous_state)


def _empty(transition: CompiledTransition) -> dict[str, Any]:
    return dict.fromkeys(transition.spec.payload)


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(name, "must be a non-empty string")
