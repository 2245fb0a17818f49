"""``kntc schedule`` as a user runs it (real processes on a SQLite file): add, publish, list, export, postpone.

The process reads the system clock (these commands take no ``--now``: a clerk could otherwise post
late by claiming an earlier day), so the days are chosen from today by the shipped calendar: a
working day at least 30 days ahead is always more than 5 working days ahead. The exact counting
around weekends and holidays is tested with a manual clock in test_reception_days.py.
Until ``adapters/cli/__init__.py`` registers the group, the command runs ``main`` with it added.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from engine.calendar import BusinessCalendar
from tests.integration.cli_runner import ROOT, kntc_with, ok, refused, with_config

pytestmark = pytest.mark.slow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = f"""\
timezone: Asia/Ho_Chi_Minh
workflows_dir: {ROOT / 'workflows'}
organisation:
  name: Sở Khoa học và Công nghệ
  units:
    - {{id: thanh_tra, name: Thanh tra Sở}}
    - {{id: van_phong, name: Văn phòng Sở}}
people:
  - {{id: gd01, name: "Trần Văn Giám", unit: van_phong, roles: [director], email: gd01@so-khcn.example}}
  - {{id: tt01, name: "Phạm Văn Minh", unit: thanh_tra, roles: [inspector, clerk], email: tt01@so-khcn.example}}
"""


def working_day_from(calendar: BusinessCalendar, day: date, step: int = 1) -> date:
    while not calendar.is_working_day(day):
        day += timedelta(days=step)
    return day


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    return with_config(tmp_path, CONFIG)


run = kntc_with


def test_a_day_is_added_published_exported_to_ics_and_postponed(setup: tuple[Path, Path], tmp_path: Path) -> None:
    calendar = BusinessCalendar()
    today = datetime.now(TZ).date()
    day = working_day_from(calendar, today + timedelta(days=30))
    later = working_day_from(calendar, day + timedelta(days=7))
    ok(run(setup, "db", "upgrade"))
    added = json.loads(ok(run(setup, "schedule", "add", day.isoformat(), "--host", "gd01", "--place",
                              "Phòng tiếp công dân", "--actor", "tt01", "--role", "clerk", "--json")))
    case_id = added["id"]
    assert (added["state"], added["fields"]["host"], added["fields"]["kind"]) == ("planned", "gd01", "periodic")
    assert f"{case_id} posted {day:%d/%m/%Y}" in ok(run(setup, "schedule", "publish", case_id, "--actor", "tt01",
                                                          "--role", "clerk"))
    listed = ok(run(setup, "schedule"))
    assert f"{case_id}  " in listed and "posted  Trần Văn Giám (gd01) @ Phòng tiếp công dân" in listed
    out = tmp_path / "lich.ics"
    ok(run(setup, "schedule", "--format", "ics", "--out", str(out)))
    [event] = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert (str(event["UID"]), event.decoded("DTSTART").date(), str(event["SUMMARY"])) == (
        f"reception-{case_id}@kntc", day, "Tiếp công dân định kỳ của Trần Văn Giám")
    exported = json.loads(ok(run(setup, "schedule", "--format", "json")))
    assert [d["uid"] for d in exported["reception_days"]] == [f"reception-{case_id}@kntc"]
    moved = ok(run(setup, "schedule", "postpone", case_id, "--to", f"{later:%d/%m/%Y}", "--reason",
                   "Giám đốc đi công tác", "--actor", "gd01", "--role", "director"))
    assert f"{case_id} planned {later:%d/%m/%Y}" in moved
    # a postponed day is not published until it is posted again
    assert json.loads(ok(run(setup, "schedule", "--format", "json")))["reception_days"] == []


def test_bad_input_is_one_line_naming_the_field_and_nothing_is_scheduled(setup: tuple[Path, Path]) -> None:
    calendar = BusinessCalendar()
    today = datetime.now(TZ).date()
    ahead = today + timedelta(days=30)
    saturday = ahead + timedelta(days=(5 - ahead.weekday()) % 7)
    past = working_day_from(calendar, today - timedelta(days=3), step=-1)
    day = working_day_from(calendar, ahead)
    ok(run(setup, "db", "upgrade"))
    as_clerk = ("--actor", "tt01", "--role", "clerk")
    assert "day: " in refused(run(setup, "schedule", "add", saturday.isoformat(), "--host", "gd01", *as_clerk))
    assert "is a day off" in refused(run(setup, "schedule", "add", saturday.isoformat(), "--host", "gd01",
                                         *as_clerk))
    assert "is in the past" in refused(run(setup, "schedule", "add", past.isoformat(), "--host", "gd01", *as_clerk))
    assert "host: officer 'tt01' holds none" in refused(run(setup, "schedule", "add", day.isoformat(), "--host",
                                                            "tt01", *as_clerk))
    assert "day: 'next monday' is not a date" in refused(run(setup, "schedule", "add", "next monday", "--host",
                                                             "gd01", *as_clerk))
    assert "--format: 'pdf' is not one of ics, json" in refused(run(setup, "schedule", "--format", "pdf"))
    assert "unknown case" in refused(run(setup, "schedule", "publish", "nope", *as_clerk))
    assert ok(run(setup, "schedule")).startswith("no reception day")
