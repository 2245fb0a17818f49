"""Revealing a case's parties (DESIGN.md §8): to the roles the definition allows, audited either way.

The parties (petitioners: name, id number, address, contact) are kept apart from the case and, in
a SQL store, sealed at rest (``adapters/secrets.py``). :meth:`Engine.get` never returns them; the
one way to read them is :func:`reveal_identity`, for a workflow with ``confidential_parties``
and a role in its ``reveal_roles``. Every other workflow's parties stay sealed too (a complaint's
complainant is personal data as well): no role reveals them through the engine.

Each call is recorded in the case's history (a new version, chained like any act) and the feed:
``identity.revealed`` when it is allowed, ``identity.reveal_refused`` when it is not (then
:class:`~engine.errors.NotAllowedError` is raised *after* the refusal is committed: a refused
reveal is the one refusal that leaves a trace). The history keeps who, when and why; the feed
keeps who and when (no free text in the feed); neither keeps the identity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.errors import NotAllowedError, ValidationError
from engine.inputs import require_text
from engine.model import CaseRecord, NewEvent
from engine.pipeline import react, record_aside
from engine.ports import Transaction
from engine.runtime import Runtime

__all__ = ["REFUSED", "REVEAL", "REVEALED", "reveal_identity"]

#: The event recorded when a role the definition allows reveals the parties.
REVEALED = "identity.revealed"
#: The event recorded when another role asked.
REFUSED = "identity.reveal_refused"
#: The name a refusal gives the act (``NotAllowedError.event``).
REVEAL = "reveal_identity"
#: Longest reason kept (it is free text in an append-only history).
MAX_REASON = 1000


def reveal_identity(rt: Runtime, case_id: str, *, actor: str, role: str, reason: str) -> list[dict[str, Any]]:
    """The parties of ``case_id`` for ``role``, recorded as revealed; NotAllowedError (recorded) for another role."""
    require_text("actor", actor)
    require_text("role", role)
    require_text("reason", reason)
    if len(reason) > MAX_REASON:
        raise ValidationError("reason", f"must be at most {MAX_REASON} characters")
    now = rt.now()
    parties: list[dict[str, Any]] | None = None
    with rt.store.transaction() as tx:
        record = rt.load(tx, case_id, for_update=True)
        definition = rt.workflow_of(tx, record).definition
        allowed = definition.confidential_parties and role in definition.reveal_roles
        event = _record(tx, record, REVEALED if allowed else REFUSED, actor, role, now, reason)
        if rt.reactors:  # an escalation rule may tell someone of it (DESIGN.md §6b)
            react(rt, tx, [event], record, now, depth=0)
        if allowed:
            parties = tx.parties(record.id)
        state, kind, roles = record.state, record.kind, list(definition.reveal_roles)
        confidential = definition.confidential_parties
    if parties is None:
        why = (f"role {role!r} may not reveal the parties of a {kind}" if confidential
               else f"a {kind}'s parties are revealed to no role (its workflow has no confidential_parties)")
        raise NotAllowedError(case_id=case_id, state=state, event=REVEAL, reason=f"{why}; the refusal is recorded",
                              allowed=roles if confidential else [], why="role")
    return parties


def _record(tx: Transaction, record: CaseRecord, event: str, actor: str, role: str, now: datetime,
            reason: str) -> NewEvent:
    """The reveal (or its refusal) in the case's history, as a new version, and in the feed."""
    record_aside(tx, record, event, actor, role, now, {"reason": reason})
    recorded = NewEvent(event, record.id, now, {"actor": actor, "role": role, "version": record.version})
    tx.append_events([recorded])
    return recorded
