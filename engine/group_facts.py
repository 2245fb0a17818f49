"""Facts across cases for guards: ``group.*``, read from the case's content group (DESIGN.md §3, §6).

The law has rules about a matter, not about one letter: a letter is transferred only once for the
same content (TT 05/2021 Điều 14 k1, LTC Điều 24 k2), the writer is guided only once (TT 05/2021
Mẫu 02), and a complaint terminated and not pursued within 30 days after the termination is not
accepted again (LKN Điều 11 k8, DOMAIN K12). A guard reads them as ``group.<name>``
(:data:`GROUP_ATTRIBUTES`), each about the *other* cases of the case's group:

- ``group.transferred``: another case of the group was transferred (``transfer`` recorded its
  ``to_body`` in the group, ``GroupMember.transferred_to``);
- ``group.guided``: another case of the group ended in ``guide`` (a letter in state
  :data:`GUIDED_STATE`, confirmed by its history);
- ``group.terminated_on``: the latest local date a complaint of the group was terminated (a
  ``terminate``, or a ``withdraw`` after acceptance: LKN Điều 10 k2 has the resolver terminate
  the resolution then; its ``occurred_at`` when back-dated), else null;
- ``group.refile_by``: the last day a terminated complaint of the group may be pursued: the
  :data:`REFILE_DAYS` calendar days counted from the termination notice (the first
  :data:`NOTICE_EVENTS` act after the termination, when the workflow has one: before it is sent
  the complainant has not been told, and no window runs; else from the termination), the day
  itself not counted (BLDS Điều 147), a last day that is not a working day moved to the next
  working day (Điều 148 k5); the latest such day of the group, else null. K12 reads
  ``group.refile_by == null || received_at <= group.refile_by``;
- ``group.size``: how many cases the group holds, this one included (1 when not grouped).

A case not in a group (grouping off, or being opened: it is placed after ``case.opened``) reads
:data:`UNGROUPED` (:data:`engine.model.UNGROUPED`): nothing transferred, guided or terminated,
size 1. So with grouping off the guards fall back on what the caller set
(``fields.transferred_before`` and the like). A caller that does not read the group (a pure
walk of a workflow, or one that has no transaction) gives the same.

The names are computed (:func:`group_names`) only for a workflow whose guards or conditions read
``group`` (:func:`reads_group`), so other workflows' commands read nothing more. Reading them
costs the group's members and, for the few members in :data:`GUIDED_STATE` or a terminated
complaint (:data:`TERMINATED_STATE`), their history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.calendar import BusinessCalendar
from engine.expressions import GROUP_ATTRIBUTES
from engine.machines import CompiledWorkflow
from engine.model import UNGROUPED, CaseRecord, HistoryEntry
from engine.ports import Transaction

__all__ = ["GROUP_ATTRIBUTES", "GUIDED_STATE", "NOTICE_EVENTS", "REFILE_DAYS", "TERMINATED_STATE", "UNGROUPED",
           "group_names", "reads_group"]

#: the letter's state after ``guide`` (letter.yaml), a final state: where a guided letter stays
GUIDED_STATE = "guided"
#: the complaint's state after ``terminate`` (and ``withdraw``: the history tells them apart)
TERMINATED_STATE = "terminated"
#: LKN Điều 11 k8: a terminated complaint not pursued within 30 days is not accepted again
REFILE_DAYS = 30
#: the events that send the termination notice (complaint.yaml, K14): the K12 window starts on it
NOTICE_EVENTS = frozenset({"send_termination_decision"})

_READS: dict[str, bool] = {}


def reads_group(compiled: CompiledWorkflow) -> bool:
    """Whether a guard or a deadline condition of ``compiled`` reads ``group`` (kept per definition version)."""
    found = _READS.get(compiled.content_hash)
    if found is None:
        guards = (t.guard for ts in compiled.transitions.values() for t in ts if t.guard is not None)
        found = any("group" in e.roots for e in (*guards, *compiled.conditions.values()))
        _READS[compiled.content_hash] = found
    return found


def group_names(tx: Transaction, record: CaseRecord, calendar: BusinessCalendar,
                compiled: CompiledWorkflow | None = None) -> dict[str, Any]:
    """``group.*`` for ``record`` (see the module doc): about the other cases of its group.

    ``compiled``: the case's workflow; when it declares a notice event (:data:`NOTICE_EVENTS`)
    the K12 window counts from the notice, else from the termination.
    """
    group_id = tx.case_group(record.id)
    if group_id is None:
        return dict(UNGROUPED)
    members = tx.group_members(group_id)
    others = [m for m in members if m.case_id != record.id]
    guided = any(m.state == GUIDED_STATE and any(h.event == "guide" for h in tx.history(m.case_id))
                 for m in others)
    noticed = compiled is not None and not NOTICE_EVENTS.isdisjoint(compiled.event_names)
    terminated: list[date] = []
    windows: list[date] = []
    for m in others:
        if m.kind != "complaint" or m.state != TERMINATED_STATE:
            continue
        ended = _termination(tx.history(m.case_id), noticed)
        if ended is None:
            continue
        day, notice = ended
        terminated.append(calendar.local_date(day))
        end = None if notice is None else calendar.due_date(calendar.local_date(notice), REFILE_DAYS, "calendar")
        if end is not None:
            windows.append(end)
    last = max(terminated, default=None)
    refile_by = max(windows, default=None)
    return {"transferred": any(m.transferred_to for m in others), "guided": guided,
            "terminated_on": None if last is None else last.isoformat(),
            "refile_by": None if refile_by is None else refile_by.isoformat(),
            "size": max(len(members), 1)}


def _termination(history: list[HistoryEntry], noticed: bool) -> tuple[datetime, datetime | None] | None:
    """(when the complaint was terminated, when the window starts: its notice, or None) or None.

    A termination is ``terminate``, or ``withdraw`` once the complaint was accepted (LKN Điều 10
    k2: the resolver then terminates the resolution); a withdrawal before acceptance is none.
    With ``noticed``, the window starts on the first notice after the termination (None while
    none was sent: the complainant has not been told); else on the termination itself.
    """
    found: tuple[datetime, datetime | None] | None = None
    accepted = False
    for entry in history:
        moment = entry.occurred_at or entry.at
        if entry.event == "accept":
            accepted = True
        elif entry.event == "terminate" or (entry.event == "withdraw" and accepted):
            found = (moment, None if noticed else moment)
        elif found is not None and noticed and found[1] is None and entry.event in NOTICE_EVENTS:
            found = (found[0], moment)
    return found
