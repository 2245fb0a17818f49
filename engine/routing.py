"""The router: a notification to roles or officers becomes one message per officer and channel.

Reactions (escalation rules, a phase's ``notify_at_once``, election letters, the roster check)
queue notifications on the virtual channel ``notify``; their data names a ``role`` or a
``person``, and may name a ``unit`` and ``via`` (the channel a rule chose). Before it delivers,
the daemon routes them: under the lease of ``notify`` (one router at a time, however many
daemons run), in one transaction per batch, each notification is replaced by one message for
each officer who holds the role for the case's unit (:meth:`engine.people.Directory.holders`)
or the named officer, on each channel that reaches them: the rule's ``via``, else the officer's
own channels, else the role's, else the default ones. The message carries the recipient and the
case's public view (reference, kind, state, priority, flags, deadlines): never the letter's free
text, its respondent or a petitioner, so a denouncer's identity cannot reach a template.

A notification nobody can receive (nobody holds the role there, an unknown officer) is retried
with the runtime's backoff and then dead: listed by ``kntc outbox --status dead``, re-queued by
``kntc outbox retry ID`` once the people are fixed. The routed messages' idempotency keys are
``kntc-<channel>-<notification id>-<officer>``: a notification routed twice (an operator's
re-queue) yields the same keys, so a receiver drops the repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.commands import context_names
from engine.deadlines import DeadlineViews
from engine.errors import KntcError
from engine.logs import describe, get_logger
from engine.model import SYSTEM, CaseRecord, OutboxMessage
from engine.outbox import DispatchReport
from engine.people import Directory, Person
from engine.ports import Transaction
from engine.runtime import Runtime

__all__ = ["NOTIFY", "Routing", "public_case", "recipients", "route"]

log = get_logger("routing")
#: The virtual channel notifications are queued on (engine.escalation.DEFAULT_CHANNEL).
NOTIFY = "notify"
#: The data keys that address a notification (not passed on to the routed message).
_ADDRESS = frozenset({"role", "person", "unit", "via"})
DirectoryOf = Callable[[Transaction], Directory]


@dataclass(frozen=True, slots=True)
class Routing:
    """Which channels reach an officer, and the unit of a case that names none."""

    default_channels: tuple[str, ...] = ("log",)
    role_channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the unit that handles letters when a case's ``fields.unit`` names none (None: the whole body)
    default_unit: str | None = None

    def channels_for(self, person: Person, role: str | None, via: str | None) -> tuple[str, ...]:
        """The rule's channel, else the officer's, else the role's, else the default ones."""
        if via:
            return (via,)
        if person.channels:
            return person.channels
        if role is not None and role in self.role_channels:
            return self.role_channels[role]
        return self.default_channels


def recipients(data: Mapping[str, Any], case: CaseRecord | None, directory: Directory,
               routing: Routing) -> list[tuple[Person, str | None]]:
    """Who a notification reaches, each with the role they receive it in; raises when nobody."""
    person_id, role = data.get("person"), data.get("role")
    if person_id is not None:
        person = directory.get(str(person_id))
        if person is None:
            raise KntcError(f"no officer {person_id!r} in the people directory")
        return [(person, None)]
    if role is None:
        raise KntcError("the notification names neither a role nor an officer")
    unit = data.get("unit") or (case.fields.get("unit") if case is not None else None) or routing.default_unit
    holders = directory.holders(str(role), None if unit is None else str(unit))
    if not holders:
        where = f" in unit {unit!r}" if unit is not None and str(role) not in directory.body_roles else ""
        raise KntcError(f"nobody holds role {role!r}{where} (people: config.yaml or kntc people import)")
    return [(person, str(role)) for person in holders]


def public_case(rt: Runtime, tx: Transaction, case: CaseRecord) -> dict[str, Any]:
    """What a notification may say of a case: no free text, no respondent, no petitioner."""
    compiled = rt.workflow_of(tx, case)
    keeper = rt.keeper(compiled)
    ledgers = tx.get_deadlines(case.id)
    context = case.context({}, SYSTEM, **context_names(keeper, ledgers, rt.now()))
    views = DeadlineViews(keeper, ledgers, context)
    tz = rt.calendar.timezone
    state = compiled.definition.states.get(case.state)
    return {"id": case.id, "kind": case.kind, "kind_label": compiled.definition.label, "state": case.state,
            "state_label": state.label if state is not None else case.state, "priority": case.priority,
            "channel": case.channel, "received_on": case.received_at.astimezone(tz).strftime("%d/%m/%Y"),
            "flags": sorted({str(f.get("type")) for f in case.flags}),
            "deadlines": [{"name": d.name, "due_on": d.due_date.strftime("%d/%m/%Y") if d.due_date else None,
                           "status": d.status} for d in (views[name] for name in views)]}


def route(rt: Runtime, routing: Routing, directory_of: DirectoryOf, *, holder: str, lease_seconds: float = 60.0,
          limit: int = 500) -> DispatchReport:
    """Route the due notifications of ``notify`` if this ``holder`` gets its lease (see the module)."""
    now = rt.now()
    with rt.store.transaction() as tx:
        if not tx.acquire_channel(NOTIFY, holder, now, now + timedelta(seconds=lease_seconds)):
            return DispatchReport(NOTIFY, leased=False)
    routed = failed = dead = 0
    try:
        with rt.store.transaction() as tx:
            directory = directory_of(tx)
            cases: dict[str, CaseRecord | None] = {}
            views: dict[str, dict[str, Any]] = {}
            for message in tx.outbox(channel=NOTIFY, status="pending", due_at=now, limit=limit):
                case = None
                if message.case_id is not None:
                    if message.case_id not in cases:
                        cases[message.case_id] = tx.get_case(message.case_id)
                    case = cases[message.case_id]
                try:
                    people = recipients(message.data, case, directory, routing)
                    if case is not None and case.id not in views:
                        views[case.id] = public_case(rt, tx, case)
                except Exception as exc:
                    is_dead = _failed(rt, tx, message, describe(exc))
                    failed, dead = failed + 1, dead + is_dead
                    continue
                _fan_out(tx, message, people, routing, views.get(case.id) if case is not None else None, now)
                routed += 1
    finally:
        with rt.store.transaction() as tx:
            tx.release_channel(NOTIFY, holder)
    return DispatchReport(NOTIFY, leased=True, delivered=routed, failed=failed, dead=dead)


def _fan_out(tx: Transaction, message: OutboxMessage, people: list[tuple[Person, str | None]], routing: Routing,
             case_view: dict[str, Any] | None, now: datetime) -> None:
    data = {k: v for k, v in message.data.items() if k not in _ADDRESS}
    via = message.data.get("via")
    for person, role in people:
        to = {"id": person.id, "name": person.name, "role": role, "unit": person.unit, "email": person.email}
        for channel in routing.channels_for(person, role, None if via is None else str(via)):
            tx.enqueue(channel, message.kind, message.case_id, {**data, "to": to, "case": case_view}, now,
                       key=f"kntc-{channel}-{message.id}-{person.id}")
    tx.update_message(message.id, status="sent", attempts=message.attempts, last_error=message.last_error,
                      next_attempt_at=None, sent_at=now)


def _failed(rt: Runtime, tx: Transaction, message: OutboxMessage, error: str) -> bool:
    attempts = message.attempts + 1
    is_dead = rt.retry.dead(attempts)
    now = rt.now()
    tx.update_message(message.id, status="dead" if is_dead else "pending", attempts=attempts, last_error=error,
                      next_attempt_at=None if is_dead else now + timedelta(seconds=rt.retry.delay(attempts)),
                      sent_at=None)
    log.error("routing_dead" if is_dead else "routing_failed", message=message.id, kind=message.kind,
              case_id=message.case_id, attempts=attempts, error=error)
    return is_dead
