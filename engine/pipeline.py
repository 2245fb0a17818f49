"""record -> react: the one place that writes a decided outcome, then runs the reactors.

:func:`commit` writes an :class:`~engine.commands.Outcome` (case, history, deadlines, feed) in the
caller's transaction, then hands each recorded event to the reactors registered for its type and
applies their effects in the same transaction (DESIGN.md §5b). Reactions are bounded in depth: a
rule that fires an event that triggers itself stops with :class:`~engine.errors.ReactionError`,
and since nothing commits until the caller's ``with`` ends, nothing is written. A reactor that
raises anything else rolls its cause back the same way, with the reactor and event named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engine.commands import Outcome, decide
from engine.errors import ConflictError, KntcError, ReactionError, ValidationError
from engine.group_facts import group_names, reads_group
from engine.logs import bound, get_logger
from engine.model import PRIORITIES, CaseRecord, HistoryEntry, NewEvent, chain_hash
from engine.ports import Transaction
from engine.reactors import Effect, Emit, Enqueue, FireEvent, Reaction, SetPriority
from engine.runtime import Runtime

__all__ = ["MAX_DEPTH", "Committed", "apply_effects", "commit", "react", "record", "record_aside"]

#: How deep reactions may chain (an event, a reaction's event, its reaction's event ...).
MAX_DEPTH = 8

log = get_logger("pipeline")


@dataclass(slots=True)
class Committed:
    """What a commit wrote: feed events (reactions included) and the cases reactions changed."""

    events: int = 0
    touched: set[str] = field(default_factory=set)

    def add(self, other: Committed) -> None:
        self.events += other.events
        self.touched |= other.touched


def commit(rt: Runtime, tx: Transaction, outcome: Outcome, *, depth: int = 0,
           chain: tuple[str, ...] = ()) -> Committed:
    """Write ``outcome`` in ``tx``, then run the reactors on its events (same transaction).

    Every line logged meanwhile, by kntc or a reactor, carries the case's ``case_id``
    (:func:`engine.logs.bound`).
    """
    with bound(case_id=outcome.record.id):
        record(tx, outcome)
        log.debug("case_recorded", state=outcome.record.state, version=outcome.record.version,
                  events=len(outcome.events), depth=depth)
        done = Committed(events=len(outcome.events))
        if rt.reactors:
            done.add(react(rt, tx, outcome.events, outcome.record, outcome.record.updated_at, depth=depth,
                           chain=chain))
        return done


def record(tx: Transaction, outcome: Outcome) -> None:
    """Write the case, its history entry, its deadline changes and its feed events."""
    case = outcome.record
    if outcome.expected_version is None:
        tx.insert_case(case, outcome.parties)
    elif not tx.update_case(case, outcome.expected_version, fields_changed=outcome.fields_changed):
        raise ConflictError(case.id, outcome.expected_version, outcome.expected_version + 1)
    tx.append_history(case.id, outcome.entry)
    tx.save_deadlines(outcome.deadlines.inserted, outcome.deadlines.updated)
    tx.append_events(outcome.events)


def react(rt: Runtime, tx: Transaction, events: Sequence[NewEvent], case: CaseRecord | None, now: datetime,
          *, depth: int, chain: tuple[str, ...] = ()) -> Committed:
    """Run the reactors of each recorded event and apply their effects."""
    done = Committed()
    for event in events:
        for name, reactor in rt.reactors.for_type(event.type):
            if depth >= MAX_DEPTH:
                path = " -> ".join((*chain, name))
                raise ReactionError(f"reactions went deeper than {MAX_DEPTH} levels ({path}): a rule probably "
                                    f"triggers itself; nothing was written")
            subject = case if case is not None and case.id == event.case_id else None
            if subject is None and event.case_id is not None:  # an emitted event of another (or this) case
                subject = tx.get_case(event.case_id)
            try:
                with bound(case_id=event.case_id) if event.case_id is not None else bound():
                    log.debug("reacting", reactor=name, kind=event.type, depth=depth)
                    effects = list(reactor(Reaction(event=event, case=subject, tx=tx, now=now, depth=depth)))
            except KntcError:
                raise
            except Exception as exc:
                reason = str(exc).splitlines()[0] if str(exc) else ""
                raise ReactionError(f"reactor {name!r} failed on {event.type} of case {event.case_id or '-'}: "
                                    f"{type(exc).__name__}: {reason}; nothing was written") from exc
            done.add(apply_effects(rt, tx, effects, now, depth=depth + 1, chain=(*chain, name)))
    return done


def apply_effects(rt: Runtime, tx: Transaction, effects: Iterable[Effect], now: datetime, *, depth: int,
                  chain: tuple[str, ...] = ()) -> Committed:
    """Apply decided effects in ``tx``; events they add are reacted to in turn (one level deeper)."""
    done = Committed()
    for effect in effects:
        if isinstance(effect, Emit):
            tx.append_events([effect.event])
            done.events += 1
            if rt.reactors:
                done.add(react(rt, tx, [effect.event], None, now, depth=depth, chain=chain))
        elif isinstance(effect, Enqueue):
            tx.enqueue(effect.channel, effect.kind, effect.case_id, effect.data, now)
        elif isinstance(effect, SetPriority):
            if effect.priority not in PRIORITIES:
                raise ValidationError("priority", f"must be one of {', '.join(PRIORITIES)}, got {effect.priority!r}")
            tx.set_priority(effect.case_id, effect.priority)
            done.touched.add(effect.case_id)
        else:
            done.add(_fire(rt, tx, effect, now, depth=depth, chain=chain))
    return done


def _fire(rt: Runtime, tx: Transaction, effect: FireEvent, now: datetime, *, depth: int,
          chain: tuple[str, ...]) -> Committed:
    if depth >= MAX_DEPTH:
        raise ReactionError(f"reactions went deeper than {MAX_DEPTH} levels ({' -> '.join(chain)} fires "
                            f"{effect.event!r}): a rule probably triggers itself; nothing was written")
    case = rt.load(tx, effect.case_id, for_update=True)
    compiled = rt.workflow_of(tx, case)
    group = group_names(tx, case, rt.calendar, compiled) if reads_group(compiled) else None
    outcome = decide(compiled, rt.keeper(compiled), case, tx.get_deadlines(case.id), effect.event,
                     actor=effect.actor, role=effect.role, payload=effect.payload, now=now, group=group)
    done = commit(rt, tx, outcome, depth=depth, chain=chain)
    done.touched.add(case.id)
    return done


def record_aside(tx: Transaction, record: CaseRecord, event: str, actor: str, role: str, now: datetime,
                 payload: dict[str, object]) -> None:
    """An audited act beside the workflow (a group move, an identity reveal): a new version of the
    case, its state unchanged, one history entry chained like any transition. ConflictError when
    the case moved meanwhile."""
    expected = record.version
    record.version, record.updated_at = expected + 1, now
    draft = HistoryEntry(record.version, event, record.state, record.state, actor, role, now, payload, "")
    entry = HistoryEntry(draft.seq, event, draft.source, draft.target, actor, role, now, draft.payload,
                         chain_hash(record.history_head, record.id, draft))
    record.history_head = entry.hash
    if not tx.update_case(record, expected, fields_changed=False):
        raise ConflictError(record.id, expected, expected + 1)
    tx.append_history(record.id, entry)
