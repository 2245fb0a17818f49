"""The head's reception days (lịch tiếp công dân): schedule, publish, postpone, hold; the monthly check.

A reception day IS a case of ``workflows/reception_schedule.yaml`` (fields ``reception_date``,
``host``, ``kind``, ``place``): ``planned`` -> ``posted`` (``post_schedule``) -> ``held``;
``postpone`` sets a new ``reception_date`` and sends the day back to ``planned`` (it must be
posted again); ``cancel`` ends it. The schedule must be posted at least 05 working days before the
day (LTCD 2013 Điều 24 k4): the deadline ``schedule_posting`` is counted back from
``reception_date`` and the workflow's guard refuses ``post_schedule`` after its due day.

The use cases check what the workflow cannot, before anything is written, and name the field:

- ``day`` (or ``to`` for a postponement): a working day of the calendar, not before today (the
  local day of the engine's clock), and at least 05 working days ahead (the posting's lead);
- ``host``: an officer of the directory holding ``head_of_unit`` or ``director``
  (:data:`HOST_ROLES`); ``kind``: ``periodic`` (at least one a month, LTCD Điều 18 k1) or
  ``adhoc`` (LTCD Điều 18 k3); ``reason``: a postponement's reason, not empty.

:func:`month_check_job` (kind ``reception.month_check``) runs each day at ``at``; on the first
working day of a month M it looks for a periodic reception day of M not cancelled (``planned``,
``posted`` or ``held``) and, when there is none, raises the caseless feed event
``reception.month_without_day`` (data ``{"month": "YYYY-MM"}``) and queues a ``notify`` message,
once per month (claimed as ``("reception.month_without_day", "reception", "YYYY-MM")``). A daemon
down on that day catches the run up within the job's catch-up window (7 days).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from engine.calendar import BusinessCalendar, CalendarError
from engine.errors import NotAllowedError, NotFound, ValidationError
from engine.jobs import Daily, JobRun
from engine.model import NewEvent
from engine.people import Directory
from engine.ports import Transaction
from engine.reactors import Effect, Emit, Enqueue

if TYPE_CHECKING:
    from engine.model import Case
    from engine.service import Engine

__all__ = [
    "HOST_ROLES",
    "KINDS",
    "LEAD_WORKING_DAYS",
    "MONTH_CLAIM",
    "MONTH_WITHOUT_DAY",
    "WORKFLOW",
    "ReceptionDay",
    "first_working_day",
    "hold",
    "month_check_job",
    "months_without_day",
    "postpone",
    "publish",
    "read_days",
    "reception_days",
    "schedule_reception",
]

#: The workflow whose cases are reception days.
WORKFLOW = "reception_schedule"
#: Roles whose holder may host a reception day.
HOST_ROLES: frozenset[str] = frozenset({"head_of_unit", "director"})
#: A reception day's kinds: at least one periodic day a month; ad-hoc ones (LTCD Điều 18 k3).
KINDS: tuple[str, ...] = ("periodic", "adhoc")
#: Working days between the posting and the reception day (LTCD 2013 Điều 24 k4).
LEAD_WORKING_DAYS = 5
#: The feed event of a month with no periodic reception day.
MONTH_WITHOUT_DAY = "reception.month_without_day"
#: The jobs-table kind under which a month without a day is claimed (reported once).
MONTH_CLAIM = "reception.month_without_day"
#: States of a reception day that still stands (not cancelled).
_STANDING = frozenset({"planned", "posted", "held"})
#: States of a day whose schedule has been published.
_PUBLISHED = frozenset({"posted", "held"})


@dataclass(frozen=True, slots=True)
class ReceptionDay:
    """One reception day as the schedule shows it (no citizen data: the case holds none).

    ``posting_due``: the last day to post it (None once posted or cancelled).
    """

    id: str
    day: date
    host: str | None
    kind: str
    place: str | None
    state: str
    posting_due: date | None = None

    @property
    def published(self) -> bool:
        """Whether its schedule has been posted (``posted`` or ``held``)."""
        return self.state in _PUBLISHED

    @property
    def standing(self) -> bool:
        """Whether the day still stands (not cancelled)."""
        return self.state in _STANDING


def _check_day(calendar: BusinessCalendar, field: str, day: object, today: date) -> date:
    """``day`` if it can be a reception day scheduled ``today``; else ValidationError naming ``field``."""
    if not isinstance(day, date) or hasattr(day, "hour"):
        raise ValidationError(field, "must be a date (YYYY-MM-DD)")
    try:
        off = calendar.day_off_reason(day)
        last_to_post = calendar.count_back(day, LEAD_WORKING_DAYS, "working")
    except CalendarError as exc:
        raise ValidationError(field, str(exc)) from None
    if off is not None:
        raise ValidationError(field, f"{day:%d/%m/%Y} is a day off ({off}): a reception day is a working day")
    if day < today:
        raise ValidationError(field, f"{day:%d/%m/%Y} is in the past (today {today:%d/%m/%Y})")
    if last_to_post < today:
        raise ValidationError(field, f"{day:%d/%m/%Y} is fewer than {LEAD_WORKING_DAYS} working days ahead: "
                                     f"its schedule had to be posted by {last_to_post:%d/%m/%Y} "
                                     "(LTCD 2013 Điều 24 k4)")
    return day


def _check_host(directory: Directory, host: object) -> str:
    if not isinstance(host, str) or not host.strip():
        raise ValidationError("host", "must be an officer's id")
    person = directory.get(host)
    if person is None:
        raise ValidationError("host", f"no officer {host!r} in the directory")
    if not HOST_ROLES.intersection(person.roles):
        raise ValidationError("host", f"officer {host!r} holds none of {', '.join(sorted(HOST_ROLES))}: "
                                      "only the head of the body or of a unit hosts a reception day")
    return host


def _today(engine: Engine) -> date:
    rt = engine.runtime
    return rt.calendar.local_date(rt.clock.now())


def schedule_reception(engine: Engine, day: date, host: str, kind: str = "periodic", place: str | None = None,
                       *, directory: Directory, actor: str, role: str) -> Case:
    """Open the reception day ``day`` hosted by ``host`` (see the module doc for the checks).

    ``directory``: the officers (:func:`adapters.people_source.load_directory`); ``actor`` and
    ``role``: who schedules it. Returns the new case (state ``planned``).
    """
    checked = _check_day(engine.runtime.calendar, "day", day, _today(engine))
    host_id = _check_host(directory, host)
    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if place is not None and (not isinstance(place, str) or not place.strip()):
        raise ValidationError("place", "must be a non-empty text when given")
    person = directory.get(host_id)
    assert person is not None
    label = "định kỳ" if kind == "periodic" else "đột xuất"
    fields: dict[str, Any] = {"reception_date": checked.isoformat(), "host": host_id, "kind": kind}
    if place is not None:
        fields["place"] = place.strip()
    return engine.open_case(WORKFLOW, received_at=engine.runtime.clock.now(), petitioners=[],
                            respondent=person.unit, subject=f"Lịch tiếp công dân {label} ngày {checked:%d/%m/%Y}",
                            channel="post", fields=fields, actor=actor, role=role)


def _reception_case(engine: Engine, case_id: str) -> Case:
    case = engine.get(case_id)
    if case.kind != WORKFLOW:
        raise NotFound("reception day", case_id, f"case {case_id} is a {case.kind}, not a reception day")
    return case


def publish(engine: Engine, case_id: str, *, actor: str, role: str) -> Case:
    """Post the day's schedule (``post_schedule``); refused once fewer than 5 working days remain.

    The refusal (NotAllowedError) names the last day it could be posted and says to postpone.
    """
    case = _reception_case(engine, case_id)
    posting = case.deadlines.get("schedule_posting")
    due = posting.due_date if posting is not None else None
    today = _today(engine)
    if case.state == "planned" and due is not None and due < today:
        day = date.fromisoformat(str(case.fields["reception_date"]))
        raise NotAllowedError(
            case_id=case.id, state=case.state, event="post_schedule", why="guard",
            allowed=[e for e in engine.allowed_events(case.id, role) if e != "post_schedule"],
            reason=f"fewer than {LEAD_WORKING_DAYS} working days remain before the reception day {day:%d/%m/%Y}: "
                   f"its schedule had to be posted by {due:%d/%m/%Y} (LTCD 2013 Điều 24 k4); postpone it")
    return engine.fire(case.id, "post_schedule", actor=actor, role=role)


def postpone(engine: Engine, case_id: str, to: date, reason: str, *, actor: str, role: str) -> Case:
    """Move the day to ``to`` (checked like a new day, naming ``to``) for ``reason``; it must be posted again."""
    case = _reception_case(engine, case_id)
    checked = _check_day(engine.runtime.calendar, "to", to, _today(engine))
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("reason", "a postponement needs its reason")
    return engine.fire(case.id, "postpone", actor=actor, role=role,
                       payload={"reception_date": checked.isoformat(), "reason": reason.strip()})


def hold(engine: Engine, case_id: str, *, actor: str, role: str) -> Case:
    """Record that the (posted) day was held."""
    case = _reception_case(engine, case_id)
    return engine.fire(case.id, "hold", actor=actor, role=role)


def _day_of(record_id: str, state: str, fields: dict[str, Any], due: date | None) -> ReceptionDay | None:
    value = fields.get("reception_date")
    if value is None:
        return None
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return ReceptionDay(id=record_id, day=day, host=fields.get("host"), kind=str(fields.get("kind") or "periodic"),
                        place=fields.get("place"), state=state, posting_due=due)


def read_days(tx: Transaction, calendar: BusinessCalendar, start: date | None = None,
              end: date | None = None) -> list[ReceptionDay]:
    """The reception days with ``start <= day <= end`` (None: unbounded), by day then id.

    A scan of every case (``Transaction.iter_cases``) filtered by kind: the schedule is small.
    """
    found: list[ReceptionDay] = []
    for record in tx.iter_cases():
        if record.kind != WORKFLOW:
            continue
        due: date | None = None
        for ledger in tx.get_deadlines(record.id):
            if ledger.name == "schedule_posting" and ledger.open and ledger.due_at is not None:
                due = calendar.local_date(ledger.due_at - timedelta(microseconds=1))
        item = _day_of(record.id, record.state, dict(record.fields), due)
        if item is None or (start is not None and item.day < start) or (end is not None and item.day > end):
            continue
        found.append(item)
    return sorted(found, key=lambda d: (d.day, d.id))


def reception_days(engine: Engine, start: date | None = None, end: date | None = None, *,
                   published_only: bool = False) -> list[ReceptionDay]:
    """The reception days of ``[start, end]`` (None: unbounded); ``published_only``: posted or held ones."""
    with engine.runtime.store.reader() as tx:
        found = read_days(tx, engine.runtime.calendar, start, end)
    return [d for d in found if d.published] if published_only else found


def first_working_day(calendar: BusinessCalendar, year: int, month: int) -> date:
    """The first working day of the month (CalendarError outside the calendar's years)."""
    first = date(year, month, 1)
    return first if calendar.is_working_day(first) else calendar.next_working_day(first)


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def months_without_day(days: Iterable[ReceptionDay], months: Iterable[tuple[int, int]]) -> Iterator[str]:
    """Each ``YYYY-MM`` of ``months`` with no standing periodic reception day among ``days``."""
    covered = {(d.day.year, d.day.month) for d in days if d.standing and d.kind == "periodic"}
    for year, month in months:
        if (year, month) not in covered:
            yield f"{year:04d}-{month:02d}"


def month_check_job(*, unit: str | None = None, at: time = time(7, 0)) -> Daily:
    """The daily job (kind ``reception.month_check``) warning once of a month without a reception day.

    Its run of day D acts only when D is the first working day of D's month (see the module doc).
    The notification's data: ``{"event": "reception.month_without_day", "month": "MM/YYYY",
    "role": "head_of_unit", "unit": unit}`` (None: every head of unit); the router finds the people.
    """

    def check_month(job: JobRun) -> Iterable[Effect]:
        slot_day = date.fromisoformat(job.slot.slot)
        if slot_day != first_working_day(job.calendar, slot_day.year, slot_day.month):
            return []
        start, end = slot_day.replace(day=1), _month_end(slot_day)
        effects: list[Effect] = []
        for month in months_without_day(read_days(job.tx, job.calendar, start, end),
                                        [(slot_day.year, slot_day.month)]):
            if not job.tx.claim_job(MONTH_CLAIM, "reception", month, job.now):
                continue  # warned by an earlier run
            effects.append(Emit(NewEvent(MONTH_WITHOUT_DAY, None, job.now, {"month": month})))
            effects.append(Enqueue("notify", "reception_month_without_day", None, {
                "event": MONTH_WITHOUT_DAY, "month": f"{month[5:]}/{month[:4]}", "role": "head_of_unit",
                "unit": unit}))
        return effects

    return Daily(kind="reception.month_check", action=check_month, at=at, subject="reception")
