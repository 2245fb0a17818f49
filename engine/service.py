"""The Engine facade: the calls a portal, the CLI and the daemon make (DESIGN.md §2).

Each method is a few lines over the use cases: a command loads the case in one transaction of
the store, :mod:`engine.commands` decides, :mod:`engine.pipeline` records and runs the reactors,
the transaction commits. All checks run before the first write and an exception rolls the
transaction back, so a failed call changes nothing. The daemon's and the operator's use cases
(:mod:`engine.tick`, :mod:`engine.outbox`, :mod:`engine.maintenance`) take :attr:`Engine.runtime`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from engine import reception as _reception
from engine import reception_days as _days
from engine.calendar import BusinessCalendar
from engine.commands import Outcome, allowed_events, context_names, decide, decide_open, last_person_act
from engine.deadlines import DeadlineViews, Projection
from engine.definitions import previous_top
from engine.errors import ConflictError
from engine.group_facts import group_names, reads_group
from engine.groups import HotSpot, hot_spots
from engine.identity import reveal_identity as _reveal
from engine.inputs import CaseInput, Limits, require_aware, require_int, require_text
from engine.jobs import ScheduledJob
from engine.logs import bound
from engine.machines import CompiledWorkflow
from engine.maintenance import AuditReport, register_definitions, verify_audit
from engine.model import SYSTEM, Case, CaseRecord, DeadlineLedger, Event, HistoryEntry, TickReport, flags_of
from engine.periods import ActivePhase
from engine.pipeline import commit
from engine.ports import Clock, Store, Transaction
from engine.reactors import Reactor
from engine.report_compute import compute_report
from engine.reports import Report
from engine.runtime import Retry, Runtime
from engine.tick import run_tick

__all__ = ["AuditReport", "Engine"]


class Engine:
    """The kntc engine. Build it with :func:`adapters.bootstrap.build` (or ``memory_engine`` in tests).

    ``reactors`` maps event types to functions that react inside the transaction of the event
    (see :mod:`engine.reactors`); ``jobs`` are the daemon's scheduled jobs (:mod:`engine.jobs`).
    """

    def __init__(self, *, store: Store, workflows: Mapping[str, CompiledWorkflow], calendar: BusinessCalendar,
                 clock: Clock, id_factory: Callable[[], str] | None = None, tick_batch: int = 500,
                 reactors: Mapping[str, Sequence[Reactor]] | None = None, jobs: Iterable[ScheduledJob] = (),
                 retry: Retry | None = None, extra_warn_at: tuple[float, ...] = (),
                 limits: Limits | None = None) -> None:
        self.runtime = Runtime(store=store, workflows=workflows, calendar=calendar, clock=clock,
                               id_factory=id_factory, tick_batch=tick_batch, reactors=reactors, jobs=jobs,
                               retry=retry, extra_warn_at=extra_warn_at, limits=limits)
        register_definitions(self.runtime)

    @property
    def clock(self) -> Clock:
        """The engine's clock (injected; the system clock in production)."""
        return self.runtime.clock

    def close(self) -> None:
        """Release the store's connections (the engine is not usable afterwards)."""
        close = getattr(self.runtime.store, "close", None)
        if callable(close):
            close()

    # -- commands -----------------------------------------------------------------------------
    def open_case(self, workflow: str, *, received_at: datetime, petitioners: Sequence[Mapping[str, Any]],
                  respondent: str, subject: str, content: str = "", channel: str = "post",
                  fields: Mapping[str, Any] | None = None, actor: str = SYSTEM, role: str = SYSTEM,
                  forwarded_from: Mapping[str, Any] | None = None) -> Case:
        """Open a case of ``workflow`` and start the clocks that start on receipt.

        ``forwarded_from``: who forwarded the letter, ``{"body": ..., "level": ...}`` (a level of
        :data:`engine.inputs.LEVELS`), given only with ``channel="forwarded"``; a forwarded letter
        without it is still accepted (callers from before it existed).
        """
        rt = self.runtime
        compiled, now = rt.workflow(workflow), rt.now()
        data = CaseInput.parse(received_at=received_at, petitioners=petitioners, respondent=respondent,
                               subject=subject, content=content, channel=channel, now=now,
                               forwarded_from=forwarded_from, limits=rt.limits)
        rt.limits.check_fields(fields)
        outcome = decide_open(compiled, rt.keeper(compiled), case_id=rt.new_id(), data=data, fields=fields or {},
                              actor=actor, role=role, now=now)
        with rt.store.transaction() as tx:
            return self._committed(tx, outcome)

    def fire(self, case_id: str, event: str, *, actor: str, role: str,
             payload: Mapping[str, Any] | None = None, expected_version: int | None = None,
             occurred_at: datetime | None = None) -> Case:
        """Fire ``event`` on a case as ``actor`` in ``role``; see DESIGN.md §2 for the errors.

        ``occurred_at`` dates an act recorded late (DESIGN.md §4 "Back-entry"; None: it happens
        now): aware, not in the future, not before receipt nor the case's previous act by a person.
        """
        require_text("event", event)
        require_text("actor", actor)
        require_text("role", role)
        if expected_version is not None:
            require_int("expected_version", expected_version, 1)
        if occurred_at is not None:
            require_aware("occurred_at", occurred_at)
        rt = self.runtime
        rt.limits.check_payload(payload)
        now = rt.now()
        with bound(case_id=case_id), rt.store.transaction() as tx:  # every line of the command names the case
            record = rt.load(tx, case_id, for_update=True)
            if expected_version is not None and expected_version != record.version:
                raise ConflictError(case_id, expected_version, record.version)
            compiled = rt.workflow_of(tx, record)
            last_act = last_person_act(tx.history(case_id)) if occurred_at is not None else None
            group = group_names(tx, record, rt.calendar, compiled) if reads_group(compiled) else None
            outcome = decide(compiled, rt.keeper(compiled), record, tx.get_deadlines(record.id), event, actor=actor,
                             role=role, payload=payload or {}, now=now, occurred_at=occurred_at, last_act=last_act,
                             group=group)
            return self._committed(tx, outcome)

    def _committed(self, tx: Transaction, outcome: Outcome) -> Case:
        """Record and react; the case as it is afterwards (re-read if a reaction changed it)."""
        done = commit(self.runtime, tx, outcome)
        if outcome.record.id in done.touched:
            record = self.runtime.load(tx, outcome.record.id)
            return self._view(outcome.compiled, record, tx.get_deadlines(record.id))
        return self._view(outcome.compiled, outcome.record, outcome.ledgers, outcome.deadlines.projections)

    # -- reads --------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case:
        """The case with its deadlines (never a denouncer's identity)."""
        with self.runtime.store.reader() as tx:
            record = self.runtime.load(tx, case_id)
            return self._view(self.runtime.workflow_of(tx, record), record, tx.get_deadlines(case_id))

    def reveal_identity(self, case_id: str, actor: str, role: str, reason: str) -> list[dict[str, Any]]:
        """The case's parties, for a role its workflow's ``reveal_roles`` names; recorded (who, when, why).

        Another role (or a workflow without ``confidential_parties``) gets NotAllowedError, and the
        refusal is recorded too (:mod:`engine.identity`).
        """
        return _reveal(self.runtime, case_id, actor=actor, role=role, reason=reason)

    def allowed_events(self, case_id: str, role: str | None = None) -> list[str]:
        """Events that ``role`` (any human role when None) may fire on the case now."""
        with self.runtime.store.reader() as tx:
            record = self.runtime.load(tx, case_id)
            compiled = self.runtime.workflow_of(tx, record)
            group = group_names(tx, record, self.runtime.calendar, compiled) if reads_group(compiled) else None
            names = context_names(self.runtime.keeper(compiled), tx.get_deadlines(case_id), self.runtime.now(),
                                  group=group)
            return allowed_events(compiled, record, role, names)

    def history(self, case_id: str) -> list[HistoryEntry]:
        """The case's history, oldest first, times local."""
        tz = self.runtime.calendar.timezone
        with self.runtime.store.reader() as tx:
            self.runtime.load(tx, case_id)
            return [replace(h, at=h.at.astimezone(tz),
                            occurred_at=h.occurred_at.astimezone(tz) if h.occurred_at is not None else None)
                    for h in tx.history(case_id)]

    def events(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Feed events with ``seq > after``, oldest first, at most ``limit`` (1..10000), times local."""
        require_int("after", after, 0)
        require_int("limit", limit, 1, 10_000)
        tz = self.runtime.calendar.timezone
        with self.runtime.store.reader() as tx:
            return [replace(e, at=e.at.astimezone(tz)) for e in tx.events(after, limit)]

    def phases(self) -> list[ActivePhase]:
        """The sensitive-period phases in force now (may be empty), each with the policy it switches on."""
        return self.runtime.phases()

    def hot_spots(self) -> list[HotSpot]:
        """Open hot spots (crowded, early_crowded, ...): type, case ids, reasons, when detected (local)."""
        tz = self.runtime.calendar.timezone
        return [replace(h, detected_at=h.detected_at.astimezone(tz)) for h in hot_spots(self.runtime)]

    def report(self, start: date, end: date) -> Report:
        """The report of the local days ``start`` .. ``end``, both included (DESIGN §6c; emits nothing).

        ValidationError naming ``start`` or ``end`` for a value that is not a date or a ``start``
        after ``end``. Computed in one reader transaction (:mod:`engine.report_compute`).
        """
        return compute_report(self.runtime, start, end)

    # -- citizen reception (engine/reception.py, engine/reception_days.py) ---------------------
    def take_letter(self, reception_id: str, **letter: Any) -> tuple[Case, Case]:
        """Fire ``take_letter`` on a visit and open its linked letter, in one transaction: (visit, letter).

        Keywords of :func:`engine.reception.take_letter` (actor, role, subject, content, respondent,
        petitioners, kind, fields, expected_version).
        """
        done = _reception.take_letter(self.runtime, reception_id, **letter)
        return self.get(done.reception_id), self.get(done.letter_id)

    def schedule_reception(self, day: date, host: str, kind: str = "periodic", place: str | None = None, *,
                           actor: str, role: str) -> Case:
        """Schedule the head's reception day (a working day, ≥ 5 WD ahead, hosted by a head of unit or the director)."""
        with self.runtime.store.reader() as tx:
            directory = self.runtime.directory_of(tx)
        return _days.schedule_reception(self, day, host, kind, place, directory=directory, actor=actor, role=role)

    def publish_reception(self, case_id: str, *, actor: str, role: str) -> Case:
        """Post a reception day; refused when fewer than 5 working days remain (postpone it then)."""
        return _days.publish(self, case_id, actor=actor, role=role)

    def postpone_reception(self, case_id: str, to: date, reason: str, *, actor: str, role: str) -> Case:
        """Move a reception day (the new day checked like a new one); it must be posted again."""
        return _days.postpone(self, case_id, to, reason, actor=actor, role=role)

    def reception_days(self, start: date | None = None, end: date | None = None, *,
                       published_only: bool = False) -> list[_days.ReceptionDay]:
        """The head's reception days of ``[start, end]`` (published ones only on request)."""
        return _days.reception_days(self, start, end, published_only=published_only)

    # -- time and audit -----------------------------------------------------------------------
    def tick(self, now: datetime | None = None, *, max_rungs: int = 100_000) -> TickReport:
        """Fire every rung and job due at ``now`` (default: the clock), exactly once, in due order."""
        moment = require_aware("now", now) if now is not None else self.runtime.clock.now()
        report = run_tick(self.runtime, moment.astimezone(UTC), max_rungs=max_rungs)
        return replace(report, now=moment)

    def verify_audit(self) -> AuditReport:
        """Recompute every case's history hash chain; report rows that do not match."""
        return verify_audit(self.runtime)

    # -- view ---------------------------------------------------------------------------------
    def _view(self, compiled: CompiledWorkflow, record: CaseRecord, ledgers: Sequence[DeadlineLedger],
              projections: Mapping[str, Projection] | None = None) -> Case:
        keeper = self.runtime.keeper(compiled)
        # its own fields: the record may move on after this call
        context = record.context({}, SYSTEM, **context_names(keeper, list(ledgers), self.runtime.now()))
        fields = context["fields"] = dict(record.fields)
        tz = self.runtime.calendar.timezone
        return Case(
            id=record.id, kind=record.kind, state=record.state, version=record.version,
            received_at=record.received_at.astimezone(tz), opened_at=record.opened_at.astimezone(tz),
            updated_at=record.updated_at.astimezone(tz), channel=record.channel, subject=record.subject,
            respondent=record.respondent, petitioner_count=record.petitioner_count, fields=fields,
            deadlines=DeadlineViews(keeper, ledgers, context, projections),
            definition_hash=record.definition_hash, previous_state=previous_top(record.previous_state),
            priority=record.priority,
            forwarded_from=dict(record.forwarded_from) if record.forwarded_from is not None else None,
            flags=flags_of(record.flags, tz))
