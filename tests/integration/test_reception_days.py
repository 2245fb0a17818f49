"""The head's reception days (engine/reception_days.py over workflows/reception_schedule.yaml; L12).

Scheduled on a working day not in the past, hosted by a head; published at least 5 working days
before the day (LTCD 2013 Điều 24 k4), else refused; a postponed day is published again; a month
without a periodic day is warned of once; the published schedule exports to an ICS that parses
back. Time is a ManualClock; the dates are counted by hand in the comments.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from adapters.reports.ical import schedule_ics, schedule_json
from engine import Engine, NotAllowedError, ValidationError
from engine.memory_store import MemoryStore
from engine.people import Directory, Person
from engine.reception_days import (
    MONTH_WITHOUT_DAY,
    hold,
    month_check_job,
    postpone,
    publish,
    reception_days,
    schedule_reception,
)
from engine.roster import Duty
from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DIRECTORY = Directory.of([
    Person("gd01", "Trần Văn Giám", "van_phong", ("director",)),
    Person("tp01", "Lê Thị Trưởng", "thanh_tra", ("head_of_unit",)),
    Person("tt01", "Phạm Văn Minh", "thanh_tra", ("inspector", "clerk")),
])


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def new_engine(today: date) -> tuple[Engine, ManualClock]:
    clock = ManualClock(at(today))
    return memory_engine(clock), clock


def add(engine: Engine, day: date, host: str = "gd01", kind: str = "periodic") -> str:
    case = schedule_reception(engine, day, host, kind, "Phòng tiếp công dân, 01 Lê Lợi", directory=DIRECTORY,
                              actor="cb01", role="clerk")
    return case.id


def test_published_6_working_days_ahead_is_accepted_4_ahead_is_refused_around_a_weekend_and_the_holiday() -> None:
    """Reception Mon 07/09/2026. Working days before it: Fri 04/09 (1st), Thu 03/09 (2nd), [Wed 02/09 and Tue 01/09
    Quốc khánh, Mon 31/08 bridge day, Sun 30 and Sat 29/08 off], Fri 28/08 (3rd), Thu 27/08 (4th), Wed 26/08 (5th),
    Tue 25/08 (6th). Posted on Tue 25/08: accepted; posted on Thu 27/08: refused (the last day was Wed 26/08)."""
    engine, clock = new_engine(date(2026, 8, 17))
    early, late = add(engine, date(2026, 9, 7)), add(engine, date(2026, 9, 7))
    clock.set(at(date(2026, 8, 25)))
    posted = publish(engine, early, actor="cb01", role="clerk")
    assert posted.state == "posted"
    assert posted.deadlines["schedule_posting"].status == "met"
    clock.set(at(date(2026, 8, 27)))
    with pytest.raises(NotAllowedError, match=r"fewer than 5 working days.*posted by 26/08/2026.*postpone"):
        publish(engine, late, actor="cb01", role="clerk")
    unchanged = engine.get(late)
    assert (unchanged.state, unchanged.version) == ("planned", 1)
    # the workflow's guard refuses it too, whoever fires the event directly
    with pytest.raises(NotAllowedError, match="condition is false"):
        engine.fire(late, "post_schedule", actor="cb01", role="clerk")
    assert [d.id for d in reception_days(engine, published_only=True)] == [early]


def test_posted_on_the_last_day_that_leaves_5_working_days_is_accepted() -> None:
    """Reception Mon 12/10/2026: Fri 09 (1st), Thu 08, Wed 07, Tue 06, Mon 05/10 (5th): posted on Mon 05/10: met."""
    engine, clock = new_engine(date(2026, 9, 24))
    case_id = add(engine, date(2026, 10, 12))
    assert engine.get(case_id).deadlines["schedule_posting"].due_date == date(2026, 10, 5)
    clock.set(at(date(2026, 10, 5), 16))
    assert publish(engine, case_id, actor="cb01", role="clerk").deadlines["schedule_posting"].status == "met"


@pytest.mark.parametrize(("day", "message"), [
    (date(2026, 10, 10), "10/10/2026 is a day off"),        # a Saturday
    (date(2026, 9, 2), "02/09/2026 is a day off"),          # Quốc khánh
    (date(2026, 9, 21), "21/09/2026 is in the past"),       # Monday before today Thu 24/09
    (date(2026, 9, 30), "fewer than 5 working days ahead"),  # Wed 30/09: back 5 WD is Wed 23/09, yesterday
])
def test_a_day_off_a_past_day_or_one_too_close_is_refused_naming_day_and_nothing_is_opened(day: date,
                                                                                          message: str) -> None:
    engine, _ = new_engine(date(2026, 9, 24))
    with pytest.raises(ValidationError, match=f"^day: .*{message}") as refused:
        add(engine, day)
    assert refused.value.field == "day"
    assert reception_days(engine) == []


@pytest.mark.parametrize(("host", "message"), [("tt01", "officer .tt01. holds none of director, head_of_unit"),
                                               ("xx99", "no officer 'xx99'")])
def test_a_host_who_is_not_a_head_is_refused_naming_host(host: str, message: str) -> None:
    engine, _ = new_engine(date(2026, 9, 24))
    with pytest.raises(ValidationError, match=f"^host: {message}"):
        add(engine, date(2026, 10, 12), host=host)
    with pytest.raises(ValidationError, match=r"^kind: "):
        add(engine, date(2026, 10, 12), kind="weekly")
    assert reception_days(engine) == []


def test_a_postponed_day_must_be_published_again_and_its_new_day_is_checked_like_a_new_one() -> None:
    """Mon 12/10/2026 posted Fri 02/10; postponed on Mon 05/10 to Mon 19/10: back 5 WD Fri 16 (1st), Thu 15, Wed 14,
    Tue 13, Mon 12/10 (5th): due Mon 12/10. Posted again Tue 06/10: met."""
    engine, clock = new_engine(date(2026, 9, 24))
    case_id = add(engine, date(2026, 10, 12))
    clock.set(at(date(2026, 10, 2)))
    publish(engine, case_id, actor="cb01", role="clerk")
    clock.set(at(date(2026, 10, 5)))
    before = engine.get(case_id).version
    with pytest.raises(ValidationError, match=r"^to: 17/10/2026 is a day off"):  # a Saturday
        postpone(engine, case_id, date(2026, 10, 17), "Giám đốc đi công tác", actor="gd01", role="director")
    with pytest.raises(ValidationError, match=r"^reason: "):
        postpone(engine, case_id, date(2026, 10, 19), "  ", actor="gd01", role="director")
    assert engine.get(case_id).version == before
    moved = postpone(engine, case_id, date(2026, 10, 19), "Giám đốc đi công tác", actor="gd01", role="director")
    assert moved.state == "planned"
    assert moved.deadlines["schedule_posting"].due_date == date(2026, 10, 12)
    assert reception_days(engine, published_only=True) == []
    [planned] = reception_days(engine)
    assert (planned.day, planned.posting_due) == (date(2026, 10, 19), date(2026, 10, 12))
    clock.set(at(date(2026, 10, 6)))
    again = publish(engine, case_id, actor="cb01", role="clerk")
    assert (again.state, again.deadlines["schedule_posting"].status) == ("posted", "met")
    clock.set(at(date(2026, 10, 19), 11))
    assert hold(engine, case_id, actor="gd01", role="director").state == "held"


def month_engine(today: date) -> tuple[Engine, ManualClock]:
    clock = ManualClock(at(today))
    base = memory_engine(clock)
    rt = base.runtime
    return Engine(store=MemoryStore(), workflows=rt.workflows, calendar=rt.calendar, clock=clock,
                  jobs=[month_check_job(unit="thanh_tra")]), clock


def test_the_month_check_warns_once_of_a_month_without_a_periodic_day_and_not_of_one_with_a_day() -> None:
    """October 2026 has a periodic day (Mon 12/10); November only an ad-hoc one (Mon 16/11). First working days:
    Thu 01/10/2026; Sun 01/11 is off, so Mon 02/11/2026."""
    engine, clock = month_engine(date(2026, 9, 24))
    add(engine, date(2026, 10, 12))
    add(engine, date(2026, 11, 16), kind="adhoc")
    clock.set(at(date(2026, 10, 1), 8))
    engine.tick()
    assert [e for e in engine.events(limit=1000) if e.type == MONTH_WITHOUT_DAY] == []
    clock.set(at(date(2026, 11, 2), 8))
    engine.tick()
    clock.set(at(date(2026, 11, 3), 8))
    engine.tick()
    warned = [e for e in engine.events(limit=1000) if e.type == MONTH_WITHOUT_DAY]
    assert [(e.case_id, e.data) for e in warned] == [(None, {"month": "2026-11"})]
    with engine.runtime.store.reader() as tx:
        messages = [m for m in tx.outbox(limit=1000) if m.kind == "reception_month_without_day"]
    assert [(m.channel, m.data) for m in messages] == [("notify", {
        "event": MONTH_WITHOUT_DAY, "month": "11/2026", "role": "head_of_unit", "unit": "thanh_tra"})]


def test_a_cancelled_day_leaves_its_month_without_a_day() -> None:
    """Mon 12/10/2026 scheduled, then cancelled: the run of Thu 01/10/2026 warns of 2026-10."""
    engine, clock = month_engine(date(2026, 9, 24))
    case_id = add(engine, date(2026, 10, 12))
    engine.fire(case_id, "cancel", actor="gd01", role="director")
    clock.set(at(date(2026, 10, 1), 8))
    engine.tick()
    assert [e.data for e in engine.events(limit=1000) if e.type == MONTH_WITHOUT_DAY] == [{"month": "2026-10"}]


def test_the_published_schedule_exports_to_an_ics_that_parses_back_with_the_same_events() -> None:
    engine, clock = new_engine(date(2026, 9, 24))
    first, second = add(engine, date(2026, 10, 12)), add(engine, date(2026, 10, 20), host="tp01", kind="adhoc")
    add(engine, date(2026, 10, 26))  # planned, not published: not exported
    clock.set(at(date(2026, 10, 2)))
    for case_id in (first, second):
        publish(engine, case_id, actor="cb01", role="clerk")
    duties = [Duty(date(2026, 10, 12), "tt01", "Phòng tiếp công dân"), Duty(date(2026, 10, 13), "tt01")]
    days = reception_days(engine)
    data = schedule_ics(days, duties, DIRECTORY, TZ, stamp=clock.now())
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert [(str(e["UID"]), e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events] == [
        (f"reception-{first}@kntc", datetime(2026, 10, 12, 7, 30, tzinfo=TZ),
         "Tiếp công dân định kỳ của Trần Văn Giám"),
        (f"reception-{second}@kntc", datetime(2026, 10, 20, 7, 30, tzinfo=TZ),
         "Tiếp công dân đột xuất của Lê Thị Trưởng"),
        ("duty-2026-10-12-tt01@kntc", date(2026, 10, 12), "Cán bộ trực tiếp công dân: Phạm Văn Minh"),
        ("duty-2026-10-13-tt01@kntc", date(2026, 10, 13), "Cán bộ trực tiếp công dân: Phạm Văn Minh"),
    ]
    assert events[0]["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert str(events[0]["LOCATION"]) == "Phòng tiếp công dân, 01 Lê Lợi"
    assert b"BEGIN:VTIMEZONE" in data
    exported = json.loads(schedule_json(days, duties, DIRECTORY, TZ))
    assert [(d["uid"], d["start"]) for d in exported["reception_days"]] == [
        (f"reception-{first}@kntc", "2026-10-12T07:30+07:00"), (f"reception-{second}@kntc", "2026-10-20T07:30+07:00")]
    assert [d["name"] for d in exported["duties"]] == ["Phạm Văn Minh", "Phạm Văn Minh"]
