"""The group hot-spot rules, the pure part: what a group's members make (DESIGN.md §6, §10; DOMAIN.md §8).

:func:`detect` reads a group's :class:`~engine.grouping.GroupMember` rows (no I/O) and returns
one :class:`Detection` per rule that holds, in the order of
:data:`~engine.grouping.GROUP_HOT_SPOT_TYPES`. Reasons carry case ids, counts, levels, bodies
(organisations) and rule names, never a petitioner's name or a letter's content.

- ``crowded`` / ``early_crowded``: petitioners counted over the group's distinct cases received
  within ``window_days`` of one another. A reception visit counts
  ``max(petitioner_count, fields.delegation_size)`` (a delegation of six is six people even when
  one signs in; reason ``reception_delegation``); one letter with ``crowded_threshold``
  signatories is crowded by itself (``letter_signatories``); several cases together
  (``group_petitioners``).
- ``complex``: the members with a ``complex`` mark in their stored flags (an officer's
  ``mark_complex``, or the rule "a crowded complaint is complex"); reason ``marked_complex`` with
  the case ids and the criteria.
- ``prolonged``: a filing after a member was resolved (``refiled_after_resolution``), repeated
  overdue deadlines (``repeated_overdue``), or a member received more than
  ``prolonged_open_days`` before ``now`` and still open (``open_too_long``; only when ``now`` is
  given).
- ``skip_level``: a member forwarded from a body of a higher level than ``own_level``
  (engine.inputs.LEVELS) while a member of the competent level (not forwarded from above) is
  still open (``forwarded_from_higher_level``). Once the competent case is resolved or in a final
  state the rule no longer holds: a later letter from above raises nothing new.
- ``circular_forwarding``: a body the group was transferred to (a member's ``transferred_to``)
  is also a body a member was forwarded from, compared as :func:`~engine.grouping.respondent_key`
  (``transferred_back``), in either order.

A member is *open* when it has no ``resolved_at`` and its state is not one of
``policy.final_states[kind]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.grouping import Detection, GroupingPolicy, GroupMember, respondent_key
from engine.inputs import LEVELS

__all__ = ["detect", "is_open", "petitioners_of"]


def is_open(member: GroupMember, policy: GroupingPolicy) -> bool:
    """Whether ``member`` is neither resolved nor in a final state of its workflow."""
    return member.resolved_at is None and member.state not in policy.final_states.get(member.kind, frozenset())


def petitioners_of(member: GroupMember) -> int:
    """The people a member counts for: its petitioners, or a reception's delegation if larger."""
    if member.kind == "reception":
        size = member.fields.get("delegation_size")
        if isinstance(size, int) and not isinstance(size, bool) and size > member.petitioner_count:
            return size
    return member.petitioner_count


def detect(members: Sequence[GroupMember], policy: GroupingPolicy, now: datetime | None = None) -> list[Detection]:
    """The group hot spots ``members`` make, in the order of GROUP_HOT_SPOT_TYPES (see the module doc).

    The crowded window with the most petitioners (the latest among equals) is the one reported.
    ``now``: the moment of the refresh (``open_too_long`` is checked only when it is given).
    """
    if not members:
        return []
    ordered = sorted(members, key=lambda m: (m.received_at, m.case_id))
    found = _crowded(ordered, policy)
    for rule in (_complex(ordered), _prolonged(ordered, policy, now), _skip_level(ordered, policy),
                 _circular(ordered)):
        if rule is not None:
            found.append(rule)
    return found


def _crowded(ordered: Sequence[GroupMember], policy: GroupingPolicy) -> list[Detection]:
    window = timedelta(days=policy.window_days)
    counts = [petitioners_of(m) for m in ordered]
    best: tuple[int, int, int] = (0, 0, 0)  # (petitioners, start, end) of the best window
    start = total = 0
    for end, member in enumerate(ordered):
        total += counts[end]
        while member.received_at - ordered[start].received_at >= window:
            total -= counts[start]
            start += 1
        if total >= best[0]:
            best = (total, start, end + 1)
    petitioners, lo, hi = best
    counted = ordered[lo:hi]
    case_ids = tuple(m.case_id for m in counted)
    found: list[Detection] = []
    for kind, threshold in (("crowded", policy.crowded_threshold), ("early_crowded", policy.early_threshold)):
        if petitioners < threshold:
            continue
        if kind == "early_crowded" and found and len(counted) == 1:
            continue  # one letter crowded at once: there was no growth to warn of
        reasons: list[dict[str, Any]] = []
        single = [m for m, n in zip(counted, counts[lo:hi], strict=True) if n >= threshold]
        letters = [m.case_id for m in single if m.petitioner_count >= threshold]
        delegations = [m.case_id for m in single if m.petitioner_count < threshold]
        if letters:
            reasons.append({"rule": "letter_signatories", "threshold": threshold, "case_ids": letters})
        if delegations:
            reasons.append({"rule": "reception_delegation", "threshold": threshold, "case_ids": delegations})
        if len(counted) > 1:
            reasons.append({"rule": "group_petitioners", "petitioners": petitioners, "cases": len(counted),
                            "threshold": threshold, "window_days": policy.window_days})
        found.append(Detection(kind, case_ids, tuple(reasons)))
    return found


def _complex(ordered: Sequence[GroupMember]) -> Detection | None:
    marked = [(m.case_id, f) for m in ordered for f in m.flags if f.get("type") == "complex"]
    if not marked:
        return None
    criteria = sorted({str(c) for _, f in marked if (c := (f.get("detail") or {}).get("criterion"))})
    case_ids = [cid for cid, _ in marked]
    return Detection("complex", tuple(case_ids),
                     ({"rule": "marked_complex", "case_ids": case_ids, "criteria": criteria},))


def _prolonged(ordered: Sequence[GroupMember], policy: GroupingPolicy, now: datetime | None) -> Detection | None:
    reasons: list[dict[str, Any]] = []
    counted: list[str] = []
    resolved = [m for m in ordered if m.resolved_at is not None]
    refiled = [m for m in ordered if any(r.case_id != m.case_id and r.resolved_at is not None
                                         and m.received_at > r.resolved_at for r in resolved)]
    if refiled:
        new = refiled[-1]
        before = [r.case_id for r in resolved
                  if r.case_id != new.case_id and r.resolved_at is not None and r.resolved_at < new.received_at]
        reasons.append({"rule": "refiled_after_resolution", "resolved_case_ids": before, "new_case_id": new.case_id})
        counted += [*before, *(m.case_id for m in refiled)]
    overdue = [m for m in ordered if m.overdues > 0]
    if sum(m.overdues for m in overdue) >= policy.prolonged_overdues:
        reasons.append({"rule": "repeated_overdue", "case_ids": [m.case_id for m in overdue]})
        counted += [m.case_id for m in overdue]
    if now is not None:
        age = timedelta(days=policy.prolonged_open_days)
        old = [m.case_id for m in ordered if now - m.received_at > age and is_open(m, policy)]
        if old:
            reasons.append({"rule": "open_too_long", "case_ids": old, "days": policy.prolonged_open_days})
            counted += old
    if not reasons:
        return None
    chosen = set(counted)
    return Detection("prolonged", tuple(m.case_id for m in ordered if m.case_id in chosen), tuple(reasons))


def _level(member: GroupMember) -> int | None:
    """The LEVELS index of the body a member was forwarded from (None: not forwarded, or unknown)."""
    level = (member.forwarded_from or {}).get("level")
    return LEVELS.index(level) if level in LEVELS else None


def _skip_level(ordered: Sequence[GroupMember], policy: GroupingPolicy) -> Detection | None:
    own = LEVELS.index(policy.own_level)
    above = [m for m in ordered if (lv := _level(m)) is not None and lv > own]
    competent = [m for m in ordered if m not in above and is_open(m, policy)]
    if not above or not competent:
        return None
    levels = [str((m.forwarded_from or {}).get("level")) for m in above]
    reason = {"rule": "forwarded_from_higher_level", "case_ids": [m.case_id for m in above], "levels": levels,
              "own_level": policy.own_level, "open_case_ids": [m.case_id for m in competent]}
    chosen = {m.case_id for m in (*above, *competent)}
    return Detection("skip_level", tuple(m.case_id for m in ordered if m.case_id in chosen), (reason,))


def _circular(ordered: Sequence[GroupMember]) -> Detection | None:
    sent = {respondent_key(body) for m in ordered for body in m.transferred_to}
    back = {respondent_key(str(m.forwarded_from["body"])) for m in ordered
            if m.forwarded_from and m.forwarded_from.get("body")}
    loop = sorted(sent & back)
    if not loop:
        return None
    transferred = [m.case_id for m in ordered if any(respondent_key(b) in loop for b in m.transferred_to)]
    forwarded = [m.case_id for m in ordered if m.forwarded_from and m.forwarded_from.get("body")
                 and respondent_key(str(m.forwarded_from["body"])) in loop]
    bodies = sorted({b for m in ordered for b in m.transferred_to if respondent_key(b) in loop})
    reason = {"rule": "transferred_back", "bodies": bodies, "transferred_case_ids": transferred,
              "forwarded_case_ids": forwarded}
    chosen = {*transferred, *forwarded}
    return Detection("circular_forwarding", tuple(m.case_id for m in ordered if m.case_id in chosen), (reason,))
