"""Recompute a group's hot spots and its cases' flags, in the transaction that changed the group.

:func:`refresh` runs the pure rules (:func:`engine.hot_spot_rules.detect`) over the group's
members, stores what changed (a rule that starts to hold is ``hotspot.detected``, once per group
and type; one whose counted cases or reasons change is ``hotspot.updated``; one that no longer
holds is closed) and rewrites the stored flags (``Case.flags``) of the members whose flags change.

Flags (:func:`case_flags`): one per type per case. Each open hot spot of the group that counts a
case gives it a flag ``{type, source: "rule", by: the reasons' rule names joined by ",",
since: the hot spot's detected_at, hot_spot: its id, detail: {}}``. *Sticky* marks
(:data:`STICKY`: ``complex``, set by an officer's ``mark_complex`` or by a rule) are kept as they
are whatever the group's hot spots (a split or merge moves them with the case); only their
``hot_spot`` follows the group the case is in now. When the case being committed is one of them
its record (``case``) is updated too, so the facade returns it with its flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from engine.grouping import GROUP_HOT_SPOT_TYPES, GroupingPolicy, GroupMember, HotSpotRecord
from engine.hot_spot_rules import detect
from engine.model import CaseRecord, NewEvent
from engine.ports import Transaction

__all__ = ["STICKY", "case_flags", "refresh"]

#: flag types that are marks on the case itself (kept by every refresh), not derived from hot spots
STICKY = frozenset({"complex"})
_ORDER = {t: i for i, t in enumerate(GROUP_HOT_SPOT_TYPES)}
_EVENT_ORDER = {"hotspot.detected": 0, "hotspot.updated": 1, "hotspot.closed": 2}


def refresh(tx: Transaction, group_id: str, now: datetime, policy: GroupingPolicy,
            case_id: str | None = None, *, new_group: GroupMember | None = None,
            case: CaseRecord | None = None) -> list[NewEvent]:
    """Recompute a group's hot spots and flags: events for the hot spots found, grown or closed.

    ``new_group``: the one member of a group created in this transaction (nothing to read);
    ``case``: the record being committed (its ``flags`` are updated in place when they change).
    """
    if new_group is None:
        members, spots = tx.group_state(group_id)  # locked, then read: one round trip on PostgreSQL
        stored = {h.type: h for h in spots}
    else:
        members, stored = [new_group], {}
    detections = {d.type: d for d in detect(members, policy, now)}
    events = []
    for kind in sorted(set(detections) | set(stored), key=lambda k: _ORDER.get(k, len(_ORDER))):
        found, spot = detections.get(kind), stored.get(kind)
        if found is None:
            if spot is not None and spot.is_open:
                spot.is_open, spot.updated_at = False, now
                tx.save_hot_spot(spot, new=False)
                events.append(_event("hotspot.closed", spot, case_id))
            continue
        case_ids, reasons = list(found.case_ids), [dict(r) for r in found.reasons]
        if spot is None:
            spot = HotSpotRecord(id=f"{group_id}:{kind}", type=kind, group_id=group_id, case_ids=case_ids,
                                 reasons=reasons, detected_at=now, updated_at=now)
            stored[kind] = spot
            tx.save_hot_spot(spot, new=True)
            events.append(_event("hotspot.detected", spot, case_id))
        elif spot.case_ids != case_ids or spot.reasons != reasons or not spot.is_open:
            spot.case_ids, spot.reasons, spot.updated_at, spot.is_open = case_ids, reasons, now, True
            tx.save_hot_spot(spot, new=False)
            events.append(_event("hotspot.updated", spot, case_id))
    _write_flags(tx, members, [s for s in stored.values() if s.is_open], case)
    return sorted(events, key=lambda e: (_EVENT_ORDER[e.type], _ORDER.get(e.data["type"], len(_ORDER))))


def case_flags(member: GroupMember, spots: Iterable[HotSpotRecord]) -> list[dict[str, Any]]:
    """The flags ``member`` should carry given its group's open hot spots (see the module doc)."""
    out: dict[str, dict[str, Any]] = {}
    for flag in member.flags:
        kind = flag.get("type")
        if kind in STICKY and kind not in out:
            out[str(kind)] = {**flag, "hot_spot": None}
    for spot in spots:
        if member.case_id not in spot.case_ids:
            continue
        if spot.type in out:
            out[spot.type]["hot_spot"] = spot.id
            continue
        rules = dict.fromkeys(str(r.get("rule")) for r in spot.reasons if r.get("rule"))
        out[spot.type] = {"type": spot.type, "source": "rule", "by": ",".join(rules) or spot.type,
                          "since": spot.detected_at.isoformat(), "hot_spot": spot.id, "detail": {}}
    return sorted(out.values(), key=lambda f: _ORDER.get(f["type"], len(_ORDER)))


def _write_flags(tx: Transaction, members: Sequence[GroupMember], spots: Sequence[HotSpotRecord],
                 case: CaseRecord | None) -> None:
    for member in members:
        flags = case_flags(member, spots)
        if flags != [dict(f) for f in member.flags]:
            tx.set_case_flags(member.case_id, flags)
            if case is not None and case.id == member.case_id:
                case.flags = flags


def _event(kind: str, spot: HotSpotRecord, case_id: str | None) -> NewEvent:
    subject = case_id if case_id is not None else (spot.case_ids[0] if spot.case_ids else None)
    return NewEvent(kind, subject, spot.updated_at, {
        "type": spot.type, "hot_spot": spot.id, "group": spot.group_id, "case_ids": list(spot.case_ids),
        "reasons": [dict(r) for r in spot.reasons]})
