"""Content groups and their hot spots: the reactor that places each new case, officers' split and merge.

:func:`grouping_reactors` gives the reactor a portal (or ``build``) passes to the engine: on
``case.opened`` it computes the letter's signature (:mod:`engine.grouping`, from subject and
content), finds candidate cases through their stored band keys (an index lookup that also
returns each candidate's stored signature, respondent and text), confirms the best few with
rapidfuzz and a similar respondent, and joins the best confirmed group, or starts a new one, all
in the transaction that opens the case. A candidate is checked on its stored signature first (no
case read, nothing signed again); only one that passes has its text normalised for rapidfuzz.
It then recomputes the group's hot spots and its cases' flags
(:func:`engine.hot_spot_refresh.refresh`, rules in :mod:`engine.hot_spot_rules`): a rule that
starts to hold is ``hotspot.detected`` (once per group and type), one whose counted cases change
is ``hotspot.updated``, one that no longer holds (after a split) is closed. Feed data carry ids,
counts and rules, never a petitioner's name.

The rules read marks of each grouped case: its resolution (a ``case.transitioned`` by one of
:data:`RESOLUTION_EVENTS`, recorded once), its transfers, its complexity mark (reactors in
:mod:`engine.hot_spot_reactors`, which also holds the rule "a crowded complaint is complex" and
the daily job of ``open_too_long``) and its overdue deadlines (each ``deadline.overdue`` of an
office duty, not a timer's nor a citizen's window (``owner: citizen``), counted, then the group's
hot spots are recomputed).

Officers correct the grouping with :func:`split` and :func:`merge`; each is recorded in the
history of every case it moves (``group.split`` / ``group.merged``, with the reason and the new
group), through the hash chain like any transition, and announced as ``group.changed``.
:func:`hot_spots` lists the open hot spots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.errors import NotFound, ValidationError
from engine.grouping import (
    Candidate,
    GroupingPolicy,
    GroupMember,
    Signature,
    confirm,
    decode_signature,
    encode_signature,
    may_confirm,
    normalise,
    respondent_key,
    signature,
)
from engine.hot_spot_reactors import RESOLUTION_EVENTS, hot_spot_reactors
from engine.hot_spot_refresh import refresh
from engine.model import CaseRecord, NewEvent
from engine.pipeline import react, record_aside
from engine.ports import Transaction
from engine.reactors import Effect, Emit, Reaction, Reactor
from engine.runtime import Runtime

__all__ = ["RESOLUTION_EVENTS", "HotSpot", "grouping_reactors", "hot_spots", "merge", "place", "refresh", "split"]

#: how many candidate cases (across groups) the band lookup returns per configured group to confirm
_ROWS_PER_GROUP = 4


@dataclass(frozen=True, slots=True)
class HotSpot:
    """An open hot spot (DESIGN.md §10): its id, type, the cases it counts, why, and when it was found."""

    id: str
    type: str
    case_ids: tuple[str, ...]
    reasons: tuple[dict[str, Any], ...]
    detected_at: datetime


def grouping_reactors(policy: GroupingPolicy | None = None) -> dict[str, list[Reactor]]:
    """The reactors of content groups and group hot spots, for ``Engine(reactors=...)`` / ``build(reactors=...)``."""
    chosen = policy or GroupingPolicy()

    def group_new_case(reaction: Reaction) -> Iterable[Effect]:
        case = reaction.case
        if case is None:
            return []
        events = place(reaction.tx, case, reaction.now, chosen)
        return [Emit(e) for e in events]

    def count_overdue(reaction: Reaction) -> Iterable[Effect]:
        case = reaction.case
        data = reaction.event.data
        if case is None or "on_due" in data or data.get("owner") == "citizen":
            return []  # a timer that could not apply its event, or the citizen's own time, is no duty overrun
        group_id = reaction.tx.case_group(case.id)
        if group_id is None:
            return []
        reaction.tx.count_overdue(case.id)
        return [Emit(e) for e in refresh(reaction.tx, group_id, reaction.now, chosen, case.id, case=case)]

    more = hot_spot_reactors(chosen)
    return {**more, "case.opened": [*more["case.opened"], group_new_case], "deadline.overdue": [count_overdue]}


def _text(case: CaseRecord) -> str:
    return f"{case.subject}\n{case.content}"


def place(tx: Transaction, case: CaseRecord, now: datetime, policy: GroupingPolicy) -> list[NewEvent]:
    """Put a new case in the group of its best confirmed candidate, or a new group; its hot-spot events."""
    sig = signature(_text(case))
    key = respondent_key(case.respondent)
    group_id = _best_group(tx, case.id, sig, key, policy)
    stored = encode_signature(sig)
    if group_id is not None:
        tx.save_grouping(case.id, group_id, key, case.received_at, sig.bands, stored)
        return refresh(tx, group_id, now, policy, case.id, case=case)
    group_id = f"g-{case.id}"  # a new group: its one member is known, and it has no hot spot yet
    tx.save_grouping(case.id, group_id, key, case.received_at, sig.bands, stored, new_group_at=now)
    alone = GroupMember(case.id, case.received_at, case.petitioner_count, case.state, case.kind, case.channel,
                        forwarded_from=case.forwarded_from, flags=tuple(case.flags), fields=case.fields)
    return refresh(tx, group_id, now, policy, case.id, new_group=alone, case=case)


def _best_group(tx: Transaction, case_id: str, sig: Signature, key: str, policy: GroupingPolicy) -> str | None:
    """The group of the best confirmed candidate (None: none confirmed).

    Each group's best-matching case speaks for it. A candidate is checked first on what is stored
    of it (word count, MinHash, respondent: no text is normalised); only one that passes has its
    text normalised for rapidfuzz. One stored before its signature was kept is signed from its
    text once, and the signature stored.
    """
    if not sig.words:
        return None
    best: tuple[float, str] | None = None
    seen: set[str] = set()
    for candidate in tx.group_candidates(sig.bands, policy.max_candidates * _ROWS_PER_GROUP):
        if candidate.group_id in seen or candidate.case_id == case_id:
            continue
        seen.add(candidate.group_id)
        score = _confirm(tx, candidate, sig, key, policy)
        if score is not None and (best is None or score > best[0]):
            best = (score, candidate.group_id)
        if len(seen) >= policy.max_candidates:
            break
    return best[1] if best else None


def _confirm(tx: Transaction, candidate: Candidate, sig: Signature, key: str, policy: GroupingPolicy) -> float | None:
    subject, content, respondent = candidate.subject, candidate.content, candidate.respondent
    if respondent is None:  # a store that does not read the candidate's text with it
        other = tx.get_case(candidate.case_id)
        if other is None:
            return None
        subject, content, respondent = other.subject, other.content, other.respondent
    other_key = respondent_key(respondent)
    stored = decode_signature(candidate.signature)
    if stored is None:  # grouped before signatures were kept, or of another SIGNATURE_VERSION
        full = signature(f"{subject}\n{content}")
        tx.save_signature(candidate.case_id, encode_signature(full))
        return confirm(sig, key, full, other_key, policy)
    words, values = stored
    if not may_confirm(sig, key, words, values, other_key, policy):
        return None
    return confirm(sig, key, Signature(normalise(f"{subject}\n{content}"), words, values, ()), other_key, policy)


# officers' corrections -----------------------------------------------------------------------
def split(rt: Runtime, case_id: str, *, actor: str, role: str, reason: str,
          policy: GroupingPolicy | None = None) -> str:
    """Take a case out of its group into a new one of its own (audited); the new group's id."""
    chosen = policy or GroupingPolicy()
    _check(actor, role, reason)
    now = rt.now()
    with rt.store.transaction() as tx:
        record = rt.load(tx, case_id, for_update=True)
        old = tx.case_group(record.id)
        if old is None:
            raise ValidationError("case_id", f"case {record.id} belongs to no group")
        if len(tx.group_members(old)) < 2:
            raise ValidationError("case_id", f"case {record.id} is alone in its group: nothing to split")
        new = f"g-{record.id}-s{record.version + 1}"
        tx.create_group(new, now)
        tx.move_to_group([record.id], new)
        events = [_audit(tx, record, "group.split", actor, role, now, reason, new, old)]
        for group in (old, new):
            events += refresh(tx, group, now, chosen, record.id)
        _publish(rt, tx, events, now)
    return new


def merge(rt: Runtime, group_a: str, group_b: str, *, actor: str, role: str, reason: str,
          policy: GroupingPolicy | None = None) -> str:
    """Move every case of ``group_b`` into ``group_a`` (audited in each moved case); ``group_a``."""
    chosen = policy or GroupingPolicy()
    _check(actor, role, reason)
    if not isinstance(group_a, str) or not isinstance(group_b, str) or group_a == group_b:
        raise ValidationError("group_b", "must be another group than group_a")
    now = rt.now()
    with rt.store.transaction() as tx:
        moved = [m.case_id for m in tx.group_members(group_b)]
        if not tx.group_members(group_a):
            raise NotFound("group", group_a)
        if not moved:
            raise NotFound("group", group_b)
        tx.move_to_group(moved, group_a)
        events = [_audit(tx, rt.load(tx, cid, for_update=True), "group.merged", actor, role, now, reason, group_a,
                         group_b) for cid in moved]
        events += refresh(tx, group_b, now, chosen, moved[0])  # its hot spots close: it has no case left
        events += refresh(tx, group_a, now, chosen, moved[0])
        _publish(rt, tx, events, now)
    return group_a


def _check(actor: object, role: object, reason: object) -> None:
    for name, value in (("actor", actor), ("role", role), ("reason", reason)):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(name, "must be a non-empty string")


def _audit(tx: Transaction, record: CaseRecord, event: str, actor: str, role: str, now: datetime, reason: str,
           group: str, previous: str) -> NewEvent:
    """Record the move in the case's history (a new version, chained like any transition)."""
    record_aside(tx, record, event, actor, role, now, {"reason": reason, "group": group})
    return NewEvent("group.changed", record.id, now, {"change": event, "group": group, "previous_group": previous,
                                                      "version": record.version})


def _publish(rt: Runtime, tx: Transaction, events: Sequence[NewEvent], now: datetime) -> None:
    tx.append_events(events)
    if rt.reactors:
        react(rt, tx, events, None, now, depth=0)


# read side ---------------------------------------------------------------------------------
def hot_spots(rt: Runtime) -> list[HotSpot]:
    """The open hot spots, oldest first."""
    with rt.store.reader() as tx:
        found = tx.hot_spots(open_only=True)
    return [HotSpot(h.id, h.type, tuple(h.case_ids), tuple(h.reasons), h.detected_at) for h in found]
