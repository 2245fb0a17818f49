"""The published reception schedule for the department's website: iCalendar (RFC 5545) and JSON.

:func:`schedule_ics` and :func:`schedule_json` take the reception days
(:func:`engine.reception_days.reception_days`), the duty roster's days
(:meth:`engine.ports.Transaction.duties`) and the directory of officers. Only **published** days
(``posted`` or ``held``) are exported: a planned day is not announced yet. Each is a VEVENT with
a UID stable from the case id (``reception-<id>@kntc``), local start and end with their TZID (the
hours are not kept on the case: ``hours``, 07:30-11:30 by default), SUMMARY "Tiếp công dân định
kỳ của <host>" (``đột xuất`` for an ad-hoc day), LOCATION the place and a DESCRIPTION. Each duty
of the roster is an all-day VEVENT (``duty-<day>-<officer>@kntc``): the officer on duty and where.
Officers only: no citizen's data is ever in the schedule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Event

from engine.people import Directory
from engine.reception_days import ReceptionDay
from engine.roster import Duty

__all__ = ["DEFAULT_HOURS", "PRODID", "duty_uid", "reception_uid", "schedule_ics", "schedule_json"]

#: The calendar's product id.
PRODID = "-//kntc//Lich tiep cong dan//VI"
#: The hours of a reception day when none are given (local time).
DEFAULT_HOURS: tuple[time, time] = (time(7, 30), time(11, 30))
_KIND_LABEL = {"periodic": "định kỳ", "adhoc": "đột xuất"}


def reception_uid(day: ReceptionDay) -> str:
    """The UID of a reception day's VEVENT (stable across exports and postponements)."""
    return f"reception-{day.id}@kntc"


def duty_uid(duty: Duty) -> str:
    """The UID of a duty's VEVENT."""
    return f"duty-{duty.day.isoformat()}-{duty.person_id}@kntc"


def _name(directory: Directory, person_id: str | None) -> str:
    person = directory.get(person_id) if person_id else None
    return person.name if person is not None else (person_id or "")


def _summary(day: ReceptionDay, directory: Directory) -> str:
    return f"Tiếp công dân {_KIND_LABEL.get(day.kind, day.kind)} của {_name(directory, day.host)}"


def _duty_summary(duty: Duty, directory: Directory) -> str:
    return f"Cán bộ trực tiếp công dân: {_name(directory, duty.person_id)}"


def _published(days: Sequence[ReceptionDay]) -> list[ReceptionDay]:
    return sorted((d for d in days if d.published), key=lambda d: (d.day, d.id))


def schedule_ics(days: Sequence[ReceptionDay], duties: Sequence[Duty], directory: Directory, tz: tzinfo, *,
                 stamp: datetime, hours: tuple[time, time] = DEFAULT_HOURS) -> bytes:
    """The published schedule as an iCalendar file (UTF-8 bytes); ``stamp``: the DTSTAMP (the engine's clock)."""
    moment = stamp
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Lịch tiếp công dân")
    for day in _published(days):
        event = Event()
        event.add("uid", reception_uid(day))
        event.add("dtstamp", moment)
        event.add("dtstart", datetime.combine(day.day, hours[0], tzinfo=tz))
        event.add("dtend", datetime.combine(day.day, hours[1], tzinfo=tz))
        event.add("summary", _summary(day, directory))
        if day.place:
            event.add("location", day.place)
        event.add("description", f"Lịch tiếp công dân {_KIND_LABEL.get(day.kind, day.kind)} của thủ trưởng cơ "
                                 f"quan, chủ trì: {_name(directory, day.host)} (LTCD 2013 Điều 18, Điều 24 k4)")
        event.add("categories", ["tiep-cong-dan", day.kind])
        cal.add_component(event)
    for duty in sorted(duties, key=lambda d: (d.day, d.person_id)):
        event = Event()
        event.add("uid", duty_uid(duty))
        event.add("dtstamp", moment)
        event.add("dtstart", duty.day)
        event.add("dtend", duty.day + timedelta(days=1))
        event.add("summary", _duty_summary(duty, directory))
        if duty.place:
            event.add("location", duty.place)
        event.add("description", "Cán bộ trực tại Phòng tiếp công dân theo lịch trực (LTCD 2013 Điều 18)")
        event.add("categories", ["truc-tiep-cong-dan"])
        cal.add_component(event)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data


def schedule_json(days: Sequence[ReceptionDay], duties: Sequence[Duty], directory: Directory, tz: tzinfo, *,
                  hours: tuple[time, time] = DEFAULT_HOURS) -> str:
    """The published schedule as one JSON object: ``reception_days`` and ``duties``, local times with offsets."""
    def when(day: date, at: time) -> str:
        return datetime.combine(day, at, tzinfo=tz).isoformat(timespec="minutes")
    receptions: list[dict[str, Any]] = [
        {"uid": reception_uid(d), "id": d.id, "day": d.day.isoformat(), "start": when(d.day, hours[0]),
         "end": when(d.day, hours[1]), "kind": d.kind, "host": d.host, "host_name": _name(directory, d.host),
         "place": d.place, "state": d.state, "summary": _summary(d, directory)}
        for d in _published(days)]
    on_duty: list[dict[str, Any]] = [
        {"uid": duty_uid(d), "day": d.day.isoformat(), "person_id": d.person_id,
         "name": _name(directory, d.person_id), "place": d.place, "summary": _duty_summary(d, directory)}
        for d in sorted(duties, key=lambda d: (d.day, d.person_id))]
    return json.dumps({"reception_days": receptions, "duties": on_duty}, ensure_ascii=False)
