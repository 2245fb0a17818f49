"""decide: what a command does to a case, computed without touching the store (DESIGN.md §5b).

``decide_open`` and ``decide`` take the compiled workflow, its deadline keeper, the loaded case
and its ledgers, and return an :class:`Outcome` (the new record, the history entry, the deadline
changes, the feed events) or raise a refusal (:class:`~engine.errors.NotAllowedError`,
:class:`~engine.errors.ValidationError`). They do no I/O; :func:`engine.pipeline.commit` writes
what they decided. The loaded record and ledgers are updated in place once every check has
passed (no copy per command): a caller that needs the old values keeps them itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from engine.calendar import CalendarError
from engine.counted_back import check_dates
from engine.deadlines import DeadlineChanges, DeadlineKeeper
from engine.definitions import OPENED, PAYLOAD_REF, PREVIOUS, final_duties, previous_top, stack_after
from engine.errors import NotAllowedError, ValidationError
from engine.expressions import ExpressionError
from engine.inputs import FUTURE_TOLERANCE, CaseInput, require_aware
from engine.machines import CompiledTransition, CompiledWorkflow
from engine.model import SYSTEM, UNGROUPED, CaseRecord, DeadlineLedger, HistoryEntry, NewEvent, chain_hash

__all__ = ["Outcome", "allowed_events", "clock_names", "context_names", "decide", "decide_open", "last_person_act"]


@dataclass(slots=True)
class Outcome:
    """What one command decided: to be written by :func:`engine.pipeline.commit`, all or nothing.

    ``expected_version`` is None for a new case (insert, with ``parties``), else the version the
    stored row must still have. ``ledgers`` are the case's deadlines after the command.
    """

    compiled: CompiledWorkflow
    record: CaseRecord
    entry: HistoryEntry
    deadlines: DeadlineChanges
    events: list[NewEvent]
    expected_version: int | None = None
    fields_changed: bool = True
    parties: list[dict[str, Any]] = field(default_factory=list)
    ledgers: list[DeadlineLedger] = field(default_factory=list)


def decide_open(compiled: CompiledWorkflow, keeper: DeadlineKeeper, *, case_id: str, data: CaseInput,
                fields: Mapping[str, Any], actor: str, role: str, now: datetime) -> Outcome:
    """A new case of ``compiled`` from validated common ``data``: its record, first entry, clocks."""
    defn = compiled.definition
    minimum = defn.min_petitioners
    if len(data.petitioners) < minimum:
        raise ValidationError("petitioners", f"a {defn.name} needs at least {minimum} petitioner(s), "
                                             f"got {len(data.petitioners)}")
    values = compiled.validate_fields(fields)
    record = CaseRecord(
        id=case_id, kind=defn.name, definition_hash=compiled.content_hash, state=defn.initial,
        previous_state=None, version=1, received_at=data.received_at, opened_at=now, updated_at=now,
        channel=data.channel, subject=data.subject, respondent=data.respondent, content=data.content,
        petitioner_count=len(data.petitioners), fields=values,
        forwarded_from=data.forwarded_from.model_dump() if data.forwarded_from is not None else None)
    # not grouped yet (it is placed on case.opened): group.* reads engine.model.UNGROUPED
    context = record.context({}, role, **context_names(keeper, [], now))
    if keeper.counts_back:  # a clock counted back from a date that starts at opening needs the date
        check_dates(keeper.calendar, keeper.specs, [], event=OPENED, final=False, before={}, after=values,
                    today=keeper.calendar.local_date(data.received_at),
                    applies=lambda spec: keeper.applies(spec, context), named={})
    try:
        changes = keeper.apply(case_id=record.id, event=OPENED, source=None, target=defn.initial, at=now,
                               clock_start=data.received_at, existing=[], context=context,
                               actor=actor, payload={})
    except CalendarError as exc:
        raise ValidationError("received_at", str(exc)) from None
    entry = _entry(record, OPENED, None, defn.initial, actor, role, now, {})
    record.history_head = entry.hash
    opened = NewEvent("case.opened", record.id, now, {
        "kind": record.kind, "state": record.state, "channel": record.channel,
        "petitioner_count": record.petitioner_count})
    return Outcome(compiled=compiled, record=record, entry=entry, deadlines=changes,
                   events=[opened, *changes.events],
                   parties=[p.model_dump(exclude_none=True) for p in data.petitioners],
                   ledgers=list(changes.inserted))


def decide(compiled: CompiledWorkflow, keeper: DeadlineKeeper, record: CaseRecord, ledgers: list[DeadlineLedger],
           event: str, *, actor: str, role: str, payload: Mapping[str, Any], now: datetime,
           occurred_at: datetime | None = None, last_act: datetime | None = None,
           group: Mapping[str, Any] | None = None) -> Outcome:
    """Fire ``event`` on a loaded case: the outcome, or NotAllowedError naming state, event and what is allowed.

    ``occurred_at`` dates an act recorded late (DESIGN.md §4 "Back-entry"): the clocks the event
    starts start on its date, those it stops are met or missed by it, pauses open and close on
    it, and guards see it as ``now``; the history keeps it beside ``at`` (``now``). It must be
    aware, not after ``now`` and not before ``received_at`` or ``last_act`` (the case's previous
    act by a person, :func:`last_person_act`), and the case not in a final state.
    ``group``: what ``group.*`` reads (:func:`engine.group_facts.group_names`), given by a caller
    whose workflow reads it; without it the case reads as in no group (``UNGROUPED``: grouping off).
    """
    if occurred_at is not None:
        occurred_at = _check_occurred_at(compiled, record, event, occurred_at, now, last_act,
                                         keeper.calendar.timezone)
    moment = occurred_at or now
    names = context_names(keeper, ledgers, moment, group=group)
    transition, clean = _choose(compiled, keeper, record, ledgers, event, role, payload, names)
    source = record.state
    returned = transition.spec.to == PREVIOUS
    target = previous_top(record.previous_state) if returned else transition.spec.target(source)
    assert target is not None
    fields = record.fields
    if transition.spec.set:
        fields = dict(fields)
        for name, value in transition.spec.set.items():
            is_ref = isinstance(value, str) and value.startswith(PAYLOAD_REF)
            fields[name] = clean.get(value.removeprefix(PAYLOAD_REF)) if is_ref else value
        fields = compiled.validate_fields(fields)
    if keeper.counts_back:
        _check_counted_back(keeper, record, ledgers, transition, event, target, fields, clean, role, names, moment)
    # Every check has passed: from here the loaded record becomes the new one.
    expected, fields_changed = record.version, fields != record.fields
    # a self-loop keeps the stack of previous states, a return pops it, a detour pushes onto it
    record.previous_state = stack_after(record.previous_state, source, target, returned=returned,
                                        detours=compiled.definition.detours())
    record.state, record.version, record.updated_at, record.fields = target, expected + 1, now, fields
    changes = keeper.apply(case_id=record.id, event=event, source=source, target=target, at=now,
                           clock_start=moment, existing=ledgers, context=record.context(clean, role, **names),
                           actor=actor, payload=clean, occurred_at=occurred_at)
    entry = _entry(record, event, source, target, actor, role, now, clean, occurred_at)
    record.history_head = entry.hash
    data: dict[str, Any] = {"kind": record.kind, "event": event, "source": source, "target": target,
                            "version": record.version, "role": role}
    if occurred_at is not None:
        data["occurred_at"] = occurred_at.astimezone(keeper.calendar.timezone).isoformat()
    moved = NewEvent("case.transitioned", record.id, now, data)
    return Outcome(compiled=compiled, record=record, entry=entry, deadlines=changes, events=[moved, *changes.events],
                   expected_version=expected, fields_changed=fields_changed,
                   ledgers=[*ledgers, *changes.inserted])


def _check_counted_back(keeper: DeadlineKeeper, record: CaseRecord, ledgers: list[DeadlineLedger],
                        transition: CompiledTransition, event: str, target: str, fields: dict[str, Any],
                        clean: dict[str, Any], role: str, names: Mapping[str, Any], moment: datetime) -> None:
    """Refuse the event if it leaves a clock counted back from a date without a sound date (engine.counted_back)."""
    after = replace(record, fields=fields, state=target).context(clean, role, **names)
    named = {name: f"payload.{value.removeprefix(PAYLOAD_REF)}" for name, value in transition.spec.set.items()
             if isinstance(value, str) and value.startswith(PAYLOAD_REF)}
    check_dates(keeper.calendar, keeper.specs, ledgers, event=event,
                final=keeper.workflow.definition.states[target].final, before=record.fields, after=fields,
                today=keeper.calendar.local_date(moment), applies=lambda spec: keeper.applies(spec, after),
                named=named)


def _final_duty_open(compiled: CompiledWorkflow, state: str, event: str, clocks: Mapping[str, Any]) -> bool:
    """Whether ``event`` may fire in ``state``: any event in a non-final state; in a final one, only
    the stop event of a clock that outlives it (``outlives_final``) while that clock is open.

    ``clocks``: ``deadlines`` of :func:`clock_names`.
    """
    if not compiled.definition.states[state].final:
        return True
    return any(clocks.get(name, {}).get("open", False) for name in final_duties(compiled.definition).get(event, ()))


def allowed_events(compiled: CompiledWorkflow, record: CaseRecord, role: str | None,
                   names: Mapping[str, Any] | None = None) -> list[str]:
    """Events ``role`` (any human role when None) may fire on the case now, guards checked without payload.

    ``names``: the ``now``, ``tz`` and ``deadlines`` the guards see (:meth:`CaseRecord.context`);
    a guard that reads a name not given counts as allowed (it cannot be checked yet).
    """
    allowed = []
    names = names or {}
    clocks = names.get("deadlines")
    for event in compiled.events_from(record.state):
        if clocks is not None and not _final_duty_open(compiled, record.state, event, clocks):
            continue
        for c in compiled.candidates(event, record.state, record.previous_state):
            if role is not None and role not in c.spec.roles:
                continue
            if role is None and c.spec.roles == [SYSTEM]:
                continue
            try:
                ok = c.guard is None or c.guard.evaluate(
                    record.context(dict.fromkeys(c.spec.payload), role or "", **names))
            except ExpressionError:
                ok = True  # depends on a payload the caller has not given yet
            if ok:
                allowed.append(event)
                break
    return allowed


def last_person_act(history: Iterable[HistoryEntry]) -> datetime | None:
    """When the case's latest act by a person happened (its ``occurred_at``, else when it was recorded).

    What the engine did by itself (role ``system``: the daemon's timed events, reactions) does
    not count, nor the opening of the case (a back-dated act is bounded by ``received_at`` there),
    nor a reveal of the identities (``identity.*``: a read, audited, not an act on the case).
    """
    moments = [h.occurred_at or h.at for h in history
               if h.role != SYSTEM and h.event != OPENED and not h.event.startswith("identity.")]
    return max(moments, default=None)


def _check_occurred_at(compiled: CompiledWorkflow, record: CaseRecord, event: str, occurred_at: object,
                       now: datetime, last_act: datetime | None, tz: tzinfo) -> datetime:
    """``occurred_at`` if it may date an act on ``record`` recorded at ``now``; else the refusal naming it."""
    if compiled.definition.states[record.state].final and event not in final_duties(compiled.definition):
        raise NotAllowedError(case_id=record.id, state=record.state, event=event, allowed=[], why="state",
                              reason=f"the case is in final state {record.state!r}: no act can be entered on it, "
                                     "back-dated (occurred_at) or not")
    moment = require_aware("occurred_at", occurred_at)
    def local(t: datetime) -> str:
        return t.astimezone(tz).isoformat()
    if moment > now + FUTURE_TOLERANCE:
        raise ValidationError("occurred_at", f"{local(moment)} is in the future (now {local(now)}): "
                                             "an act cannot be dated after it is recorded")
    if moment < record.received_at:
        raise ValidationError("occurred_at", f"{local(moment)} is before the case was received "
                                             f"({local(record.received_at)})")
    if last_act is not None and moment < last_act:
        raise ValidationError("occurred_at", f"{local(moment)} is before the case's previous act by a person "
                                             f"({local(last_act)}): acts are entered in the order they happened")
    return moment


def _choose(compiled: CompiledWorkflow, keeper: DeadlineKeeper, record: CaseRecord, ledgers: list[DeadlineLedger],
            event: str, role: str, payload: Mapping[str, Any],
            names: Mapping[str, Any]) -> tuple[CompiledTransition, dict[str, Any]]:
    def refuse(reason: str, why: str) -> NotAllowedError:
        allowed = allowed_events(compiled, record, role, names)
        if why == "guard":  # the guard was checked with this payload: not allowed, whatever a blank one says
            allowed = [e for e in allowed if e != event]
        return NotAllowedError(case_id=record.id, state=record.state, event=event, reason=reason, allowed=allowed,
                               why=why, roles=roles)
    roles: list[str] = []
    if event not in compiled.event_names:
        raise refuse(f"workflow {compiled.name!r} has no such event", "event")
    candidates = compiled.candidates(event, record.state, record.previous_state)
    if not candidates:
        raise refuse("it cannot fire in this state", "state")
    if not _final_duty_open(compiled, record.state, event, names.get("deadlines", {})):
        clocks = ", ".join(final_duties(compiled.definition)[event])
        raise refuse(f"the case is in final state {record.state!r}: {event!r} only ends a clock that outlives it "
                     f"({clocks}), and none is open", "state")
    roles = _roles_of(candidates)
    permitted = [c for c in candidates if role in c.spec.roles]
    if not permitted:
        raise refuse(f"role {role!r} may not fire it here (allowed for: {', '.join(roles) or 'no role'})", "role")
    # a bound reached explains more than the guard that encodes it
    keeper.check_extensions(event, record.state, ledgers, lambda: allowed_events(compiled, record, role, names))
    clean = permitted[0].validate_payload(payload)
    for candidate in permitted:
        if candidate.guard is None:
            return candidate, clean
        try:
            if candidate.guard.evaluate(record.context(clean, role, **names)):
                return candidate, clean
        except ExpressionError as exc:
            raise refuse(f"its condition could not be checked ({exc})", "guard") from None
    conditions = " / ".join(c.guard.source for c in permitted if c.guard is not None)
    rules = "; ".join(dict.fromkeys(c.spec.guard_message for c in permitted if c.spec.guard_message))
    reason = f"its condition is false: {conditions}"
    raise refuse(f"{rules} ({reason})" if rules else reason, "guard")


def _roles_of(candidates: Iterable[CompiledTransition]) -> list[str]:
    """The roles that may fire one of ``candidates``, in the order the definition names them."""
    return list(dict.fromkeys(r for c in candidates for r in c.spec.roles))


def context_names(keeper: DeadlineKeeper, ledgers: list[DeadlineLedger], now: datetime,
                  group: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``now``, ``tz``, ``deadlines`` and ``group`` of :meth:`CaseRecord.context` for a command at ``now``.

    Whoever evaluates a guard or a deadline condition outside a command (listing the allowed
    events, a tick re-projecting a clock) passes the same, so that both see the same names.
    ``group``: :func:`engine.group_facts.group_names`, read by the caller that holds the
    transaction, only for a workflow that reads it (:func:`engine.group_facts.reads_group`);
    None: the case reads as in no group (``UNGROUPED``).
    """
    tz = keeper.calendar.timezone
    return {"now": now, "tz": tz, "deadlines": clock_names(keeper.workflow, ledgers, tz),
            "group": UNGROUPED if group is None else group}


def clock_names(compiled: CompiledWorkflow, ledgers: list[DeadlineLedger], tz: tzinfo) -> dict[str, dict[str, Any]]:
    """``deadlines.<name>`` for the guards: every declared deadline's ``status`` and ``due_date``.

    ``absent`` (and no due date) for a clock that never started; the due date is the last day of
    the period (``due_at`` is the end of that day), none while paused. ``open`` (not readable by a
    guard) says whether the clock is still running, paused or overdue, not yet closed: a
    ``missed`` clock may be either.
    """
    found: dict[str, dict[str, Any]] = {name: {"status": "absent", "due_date": None, "open": False}
                                        for name in compiled.definition.deadlines}
    for ledger in ledgers:
        if ledger.name in found:
            due = ledger.due_at if ledger.due_at is not None and not ledger.paused else None
            found[ledger.name] = {"status": ledger.status, "due_date": None if due is None else
                                  (due.astimezone(tz) - timedelta(microseconds=1)).date().isoformat(),
                                  "open": ledger.open}
    return found


def _entry(record: CaseRecord, event: str, source: str | None, target: str, actor: str, role: str,
           at: datetime, payload: dict[str, Any], occurred_at: datetime | None = None) -> HistoryEntry:
    entry = HistoryEntry(seq=record.version, event=event, source=source, target=target, actor=actor, role=role,
                         at=at, payload=payload, hash="", occurred_at=occurred_at)
    return replace(entry, hash=chain_hash(record.history_head, record.id, entry))
