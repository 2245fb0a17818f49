"""The reactors and the daily job behind the complex, circular-forwarding and open-too-long hot spots.

- :func:`complex_mark`: on ``case.opened`` / ``case.transitioned``, a case whose
  ``fields.complex`` is true and that has no ``complex`` flag yet gets the sticky mark
  ``{type: complex, source, by: actor, since, detail: {criterion}}``. ``source`` is ``rule`` when
  the actor is a rule (``rule:...``) or the role is ``system``, else ``officer``; the criterion is
  absent from ``detail`` when the officer gave none (or marked it with ``extend``). The actor and
  the criterion are read from the case's last history entry, only in that rare case: an ordinary
  fire reads nothing more. A grouped case's group is then refreshed (its ``complex`` hot spot).
- :func:`transfer_or_resolution`: on ``case.transitioned``, a grouped case's resolution
  (:data:`RESOLUTION_EVENTS`) is marked, and a ``transfer`` records its ``to_body`` (from the last
  history entry) with ``Transaction.mark_transferred``; either refreshes the group (a resolved
  competent case ends ``skip_level``; a transfer may close a circle).
- :func:`crowded_complaint_is_complex`: the rule "a crowded complaint is complex"
  (DOMAIN-2026 §7; NĐ 124/2020 Điều 3a added by NĐ 155/2026, "many complainants"). On a
  ``crowded`` hot spot detected or updated, each complaint it counts that is not complex yet,
  received on or after :data:`COMPLEX_BY_RULE_FROM` (01/07/2026, Vietnamese time), and in a state
  of ``policy.complex_states["complaint"]`` (where :data:`~engine.grouping.RULE_ROLE` may fire
  ``mark_complex``: the reactor has no runtime, so the wiring passes those states from the
  compiled workflows, :func:`engine.grouping.workflow_states`) gets
  ``FireEvent(mark_complex, criterion many_people)`` by the actor
  ``rule:crowded_complaint_is_complex`` in the role ``head_of_unit`` (the shipped workflows let only
  timers fire as ``system``: tests/unit/test_workflows.py pins it). Its flag says ``source: rule``.
  A complaint received before 01/07/2026 stays the officer's call (NĐ 155 is not retroactive).
  Checking the state first matters: a FireEvent that is not allowed rolls the whole command back.
- :func:`open_too_long_job`: the daily job that refreshes the groups whose members pass
  ``prolonged_open_days`` since the previous run (``Transaction.groups_received_between``), so
  ``prolonged`` (``open_too_long``) is raised on the day without any new letter; the tick's catch-up
  runs missed days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta, timezone
from typing import Any

from engine.grouping import RULE_ROLE, GroupingPolicy
from engine.hot_spot_refresh import refresh
from engine.jobs import Daily, JobRun
from engine.model import SYSTEM
from engine.reactors import Effect, Emit, FireEvent, Reaction, Reactor

__all__ = ["COMPLEX_BY_RULE_FROM", "CROWDED_COMPLEX_RULE", "RESOLUTION_EVENTS", "complex_mark",
           "crowded_complaint_is_complex", "open_too_long_job", "transfer_or_resolution"]

#: the events that resolve a case in the shipped workflows: a complaint's decision, a
#: denunciation's conclusion, a petition's answer
RESOLUTION_EVENTS = frozenset({"decide", "conclude", "answer"})
#: NĐ 155/2026 (complaints: "many complainants" is a complexity criterion) is in force from this moment
COMPLEX_BY_RULE_FROM = datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=7)))
#: the actor of the rule's mark_complex
CROWDED_COMPLEX_RULE = "rule:crowded_complaint_is_complex"
_REASON = "Vụ việc đông người khiếu nại (NĐ 124/2020 Điều 3a, bổ sung bởi NĐ 155/2026); xác định theo quy tắc"


def complex_mark(policy: GroupingPolicy) -> Reactor:
    """The reactor that keeps the complexity finding as a sticky ``complex`` flag (see the module doc)."""

    def mark_complex_flag(reaction: Reaction) -> Iterable[Effect]:
        case = reaction.case
        if case is None or case.fields.get("complex") is not True \
                or any(f.get("type") == "complex" for f in case.flags):
            return []
        history = reaction.tx.history(case.id)
        last = history[-1] if history else None
        actor = last.actor if last is not None else SYSTEM
        role = last.role if last is not None else SYSTEM
        criterion = last.payload.get("criterion") if last is not None else None
        mark: dict[str, Any] = {
            "type": "complex", "source": "rule" if actor.startswith("rule:") or role == SYSTEM else "officer",
            "by": actor, "since": reaction.event.at.isoformat(), "hot_spot": None,
            "detail": {"criterion": criterion} if isinstance(criterion, str) else {}}
        flags = [*(dict(f) for f in case.flags), mark]
        reaction.tx.set_case_flags(case.id, flags)
        case.flags = flags
        group = reaction.tx.case_group(case.id)
        if group is None:
            return []  # a case being opened is placed after this reactor, with its flags
        return [Emit(e) for e in refresh(reaction.tx, group, reaction.now, policy, case.id, case=case)]

    return mark_complex_flag


def transfer_or_resolution(policy: GroupingPolicy) -> Reactor:
    """The reactor that marks a grouped case's resolution or transfer and refreshes its group."""

    def mark_resolution_or_transfer(reaction: Reaction) -> Iterable[Effect]:
        case, event = reaction.case, reaction.event.data.get("event")
        if case is None or (event not in RESOLUTION_EVENTS and event != "transfer"):
            return []
        tx = reaction.tx
        group = tx.case_group(case.id)
        if group is None:
            return []
        if event == "transfer":
            history = tx.history(case.id)
            body = history[-1].payload.get("to_body") if history else None
            if isinstance(body, str) and body.strip():
                tx.mark_transferred(case.id, body)
        else:
            tx.mark_resolved(case.id, reaction.event.at)
        return [Emit(e) for e in refresh(tx, group, reaction.now, policy, case.id, case=case)]

    return mark_resolution_or_transfer


def crowded_complaint_is_complex(policy: GroupingPolicy) -> Reactor:
    """The rule "a crowded complaint is complex" (from 01/07/2026), as a reactor on hot-spot events."""

    def crowded_is_complex(reaction: Reaction) -> Iterable[Effect]:
        data = reaction.event.data
        states = policy.complex_states.get("complaint")
        if data.get("type") != "crowded" or not states or not isinstance(data.get("group"), str):
            return []
        counted = set(data.get("case_ids") or ())
        return [FireEvent(m.case_id, "mark_complex", payload={"criterion": "many_people", "reason": _REASON},
                          actor=CROWDED_COMPLEX_RULE, role=RULE_ROLE)
                for m in reaction.tx.group_members(data["group"])
                if m.case_id in counted and m.kind == "complaint" and m.fields.get("complex") is not True
                and not any(f.get("type") == "complex" for f in m.flags)
                and m.received_at >= COMPLEX_BY_RULE_FROM and m.state in states]

    return crowded_is_complex


def open_too_long_job(policy: GroupingPolicy, *, at: time = time(7, 0), catch_up_days: int = 31) -> Daily:
    """The daily job (kind ``grouping.open_too_long``) raising ``prolonged`` for cases open too long.

    The run of day D (at ``at`` local time, moment t) refreshes the groups with an unresolved
    member received in ``[t - (N + 1) days, t - N days)``, N = ``prolonged_open_days``: those
    passing N days since the previous run. Missed days are caught up (``catch_up_days``).
    """
    age = timedelta(days=policy.prolonged_open_days)

    def refresh_old_groups(job: JobRun) -> Iterable[Effect]:
        end = job.slot.at - age
        effects: list[Effect] = []
        for group in job.tx.groups_received_between(end - timedelta(days=1), end):
            effects += [Emit(e) for e in refresh(job.tx, group, job.now, policy)]
        return effects

    return Daily(kind="grouping.open_too_long", action=refresh_old_groups, at=at, subject="grouping",
                 catch_up_days=catch_up_days)


def hot_spot_reactors(policy: GroupingPolicy) -> dict[str, list[Callable[[Reaction], Iterable[Effect]]]]:
    """The reactors of this module by event type (merged into engine.groups.grouping_reactors)."""
    crowded = crowded_complaint_is_complex(policy)
    mark = complex_mark(policy)
    return {"case.opened": [mark], "case.transitioned": [transfer_or_resolution(policy), mark],
            "hotspot.detected": [crowded], "hotspot.updated": [crowded]}
