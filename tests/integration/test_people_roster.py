"""The roster check as the daemon runs it, and the people and roster files as kntc reads them.

The job (``roster_check_job``) runs through ``Engine.tick`` on SQLite with a manual clock; the
2026 election's ``during`` phase (Sunday 15/03/2026) asks for cover every day. The readers
(``adapters.people_source``) are given files with mistakes: every bad line is named, FILE:LINE,
and nothing is returned to be stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.config import Settings
from adapters.people_source import load_directory, read_people_csv, read_roster
from engine.errors import ConfigError
from engine.people import Directory, Person
from engine.periods import Period
from engine.roster import Duty, days, roster_check_job
from engine.service import Engine
from engine.testing import ManualClock, default_calendar

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = default_calendar()
ELECTION = Period.model_validate({
    "id": "bau_cu_2026", "kind": "election", "label": "Bầu cử 2026", "day": "2026-03-15",
    "phases": {"before": {"from": "2026-01-05", "to": "2026-03-14"},
               "during": {"from": "2026-03-15", "to": "2026-03-15"},
               "after": {"from": "2026-03-16", "to": "2026-05-15"}},
    "policy": {"during": {"roster": "every_day"}}})
PEOPLE_HEADER = "id,name,unit,roles,email,phone,channels\n"


@pytest.fixture
def sqlite_engine(clock: ManualClock, settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """The shipped configuration over a SQLite file, with the roster check job (head of thanh_tra told)."""
    from adapters.bootstrap import build
    base = build(settings, database_url=f"sqlite:///{tmp_path / 'kntc.db'}", clock=clock)
    rt = base.runtime
    yield Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock,
                 jobs=[roster_check_job([ELECTION], unit="thanh_tra")])
    base.close()


def test_two_daily_runs_that_see_the_hole_on_election_day_report_it_once(sqlite_engine: Engine,
                                                                          clock: ManualClock) -> None:
    """Every working day 16/02..10/04/2026 covered, nobody on Sunday 15/03 (``during``: every day).

    The run of Sunday 08/03 (07:00) looks at 08/03..15/03 and finds the hole; the runs of Monday
    09/03 and Tuesday 10/03 see it again: still one ``roster.gap`` and one message to the head of
    the inspectorate. The catch-up runs of 01/03..07/03 (7 days back) look no further than 14/03.
    """
    store = sqlite_engine.runtime.store
    roster = [Duty(d, "tt01") for d in days(date(2026, 2, 16), date(2026, 4, 10)) if CALENDAR.is_working_day(d)]
    with store.transaction() as tx:
        tx.replace_duties(date(2026, 2, 16), date(2026, 4, 10), roster)
    clock.set(datetime(2026, 3, 8, 7, 30, tzinfo=TZ))
    sqlite_engine.tick()
    for day in (9, 10):
        clock.set(datetime(2026, 3, day, 7, 30, tzinfo=TZ))
        sqlite_engine.tick()
    gaps = [e for e in sqlite_engine.events(limit=1000) if e.type == "roster.gap"]
    assert [(e.case_id, e.data) for e in gaps] == [(None, {
        "day": "2026-03-15", "reason": "giai đoạn during của bau_cu_2026 yêu cầu trực mọi ngày",
        "period": "bau_cu_2026", "phase": "during"})]
    assert gaps[0].at == datetime(2026, 3, 8, 7, 30, tzinfo=TZ)  # the tick's moment, by the clock
    with store.reader() as tx:
        messages = [m for m in tx.outbox(limit=1000) if m.kind == "roster_gap"]
    assert [(m.channel, m.case_id, m.data) for m in messages] == [("notify", None, {
        "event": "roster.gap", "day": "15/03/2026", "reason": "giai đoạn during của bau_cu_2026 yêu cầu trực mọi ngày",
        "role": "head_of_unit", "unit": "thanh_tra"})]


def test_a_working_day_without_cover_is_reported_by_the_run_that_first_sees_it(sqlite_engine: Engine,
                                                                               clock: ManualClock) -> None:
    """Nobody on Monday 23/03/2026 (``after`` phase: working days): the run of 16/03 (16..23/03) reports it."""
    store = sqlite_engine.runtime.store
    roster = [Duty(d, "tt01") for d in days(date(2026, 3, 1), date(2026, 3, 31))
              if CALENDAR.is_working_day(d) or d == date(2026, 3, 15)]
    with store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 1), date(2026, 3, 31), [d for d in roster if d.day != date(2026, 3, 23)])
    clock.set(datetime(2026, 3, 15, 23, 0, tzinfo=TZ))
    sqlite_engine.tick()  # the runs up to 15/03 look no further than 22/03
    assert [e for e in sqlite_engine.events(limit=1000) if e.type == "roster.gap"] == []
    clock.advance(timedelta(hours=8))  # Monday 16/03 07:00
    sqlite_engine.tick()
    assert [(e.data["day"], e.data["reason"]) for e in sqlite_engine.events(limit=1000) if e.type == "roster.gap"] \
        == [("2026-03-23", "ngày làm việc không có người trực")]


# ------------------------------------------------------------------------------------- readers


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_a_people_csv_with_a_bom_is_read_roles_and_channels_split(tmp_path: Path, settings: Settings) -> None:
    """A spreadsheet's UTF-8 with BOM; ``;`` separates roles and channels; empty e-mail and phone are None."""
    path = write(tmp_path, "people.csv", PEOPLE_HEADER
                 + "tp02,Hoàng Thị Hoa,thanh_tra,head_of_unit; inspector,tp02@so-khcn.example,0263 3822 111,log\n"
                 + "\n"
                 + "vp02,Đỗ Văn Hùng,van_phong,clerk,,,\n", bom=True)
    assert read_people_csv(path, settings) == [
        Person("tp02", "Hoàng Thị Hoa", "thanh_tra", ("head_of_unit", "inspector"), "tp02@so-khcn.example",
               "0263 3822 111", ("log",)),
        Person("vp02", "Đỗ Văn Hùng", "van_phong", ("clerk",))]


def test_every_bad_people_row_is_named_by_file_and_line(tmp_path: Path, settings: Settings) -> None:
    """Unknown unit (line 2), unknown role (3), bad id and e-mail (4), a duplicate id (6): one error, all four lines."""
    path = write(tmp_path, "people.csv", PEOPLE_HEADER
                 + "a1,Người A,phong_ma,clerk,,,\n"
                 + "a2,Người B,thanh_tra,chief,,,\n"
                 + "-a3,Người C,thanh_tra,clerk,not-an-address,,\n"
                 + "a4,Người D,thanh_tra,clerk,,,\n"
                 + "a4,Người E,thanh_tra,clerk,,,\n")
    with pytest.raises(ConfigError) as raised:
        read_people_csv(path, settings)
    message = str(raised.value)
    assert "\n" not in message
    assert f"{path}:2: unit: unknown unit 'phong_ma'" in message
    assert f"{path}:3: roles: unknown role 'chief'" in message
    assert f"{path}:4: id: " in message and f"{path}:4: email: " in message
    assert f"{path}:6: id: 'a4' is given twice (first at line 5)" in message
    assert f"{path}:5:" not in message and "Người" not in message  # no officer's name in the error


def test_a_people_csv_without_a_column_is_refused_at_its_header(tmp_path: Path, settings: Settings) -> None:
    path = write(tmp_path, "people.csv", "id,name,unit,roles,email\nb1,Người,thanh_tra,clerk,\n")
    with pytest.raises(ConfigError, match=r"people\.csv:1: missing column 'phone'"):
        read_people_csv(path, settings)


def test_a_database_officer_replaces_the_configured_one_of_its_id(sqlite_engine: Engine, settings: Settings,
                                                                  clock: ManualClock) -> None:
    """config.yaml's tp01 (thanh_tra) is imported again in van_phong: the directory has the imported one."""
    moved = Person("tp01", "Lê Thị Trưởng", "van_phong", ("head_of_unit",))
    with sqlite_engine.runtime.store.transaction() as tx:
        tx.upsert_people([moved, Person("vp09", "Phan Văn Tâm", "van_phong", ("clerk",))], clock.now())
        directory = load_directory(settings, tx)
    assert directory.get("tp01") == moved
    assert directory.get("gd01") is not None and directory.get("vp09") is not None
    assert [p.id for p in directory.holders("head_of_unit", "thanh_tra")] == []


def officers() -> Directory:
    return Directory.of([Person("tt01", "Phạm Văn Minh", "thanh_tra", ("inspector",)),
                         Person("tp01", "Lê Thị Trưởng", "thanh_tra", ("head_of_unit",))])


def test_a_roster_csv_and_its_yaml_twin_give_the_same_duties(tmp_path: Path, settings: Settings) -> None:
    """ISO and dd/mm/yyyy days; YAML ``people:`` gives one duty per officer; by day then person."""
    csv_path = write(tmp_path, "roster.csv", "day,person_id,place,note\n2026-03-15,tt01,Phòng tiếp dân,bầu cử\n"
                     "14/03/2026,tp01,,\n15/03/2026,tp01,Phòng tiếp dân,bầu cử\n")
    yaml_path = write(tmp_path, "roster.yaml", "roster:\n"
                      "  - {day: 2026-03-14, person: tp01}\n"
                      "  - day: 15/03/2026\n    people: [tt01, tp01]\n    place: Phòng tiếp dân\n    note: bầu cử\n")
    expected = [Duty(date(2026, 3, 14), "tp01"), Duty(date(2026, 3, 15), "tp01", "Phòng tiếp dân", "bầu cử"),
                Duty(date(2026, 3, 15), "tt01", "Phòng tiếp dân", "bầu cử")]
    assert read_roster(csv_path, settings, officers(), CALENDAR) == expected
    assert read_roster(yaml_path, settings, officers(), CALENDAR) == expected


def test_a_roster_naming_unknown_people_or_days_is_refused_line_by_line(tmp_path: Path, settings: Settings) -> None:
    """Unknown officer (line 2), a day past the calendar's 2045 (3), no such day (4), twice (6)."""
    path = write(tmp_path, "roster.csv", "day,person_id,place,note\n2026-03-15,xx99,,\n2046-01-02,tt01,,\n"
                 "31/02/2026,tt01,,\n2026-03-16,tt01,,\n2026-03-16,tt01,,\n")
    with pytest.raises(ConfigError) as raised:
        read_roster(path, settings, officers(), CALENDAR)
    message = str(raised.value)
    assert f"{path}:2: person: unknown officer 'xx99'" in message
    assert f"{path}:3: day: 2046-01-02 lies outside the calendar's years 2015..2045" in message
    assert f"{path}:4: day: '31/02/2026' is not a date" in message
    assert f"{path}:6: 'tt01' is on duty on 2026-03-16 twice (first at line 5)" in message
    assert f"{path}:5:" not in message


def test_a_yaml_roster_names_the_line_of_its_mistake(tmp_path: Path, settings: Settings) -> None:
    """The unknown officer's line (3), the bad day's (5), an unknown key's (6), YAML that does not parse."""
    path = write(tmp_path, "roster.yml", "roster:\n  - day: 2026-03-15\n    person: xx99\n"
                 "  - person: tt01\n    day: 2046-03-15\n    room: 2\n")
    with pytest.raises(ConfigError) as raised:
        read_roster(path, settings, officers(), CALENDAR)
    message = str(raised.value)
    assert f"{path}:3: person: unknown officer 'xx99'" in message
    assert f"{path}:5: day: 2046-03-15 lies outside" in message
    assert f"{path}:6: roster.1.room: unknown key" in message
    broken = write(tmp_path, "broken.yaml", "roster: [\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:2:\d+: broken YAML"):
        read_roster(broken, settings, officers(), CALENDAR)


def test_a_daemon_back_after_downtime_warns_of_no_day_already_past(sqlite_engine: Engine,
                                                                   clock: ManualClock) -> None:
    """Nobody on duty at all; the first tick is on Monday 09/03/2026 07:30, after a week down.

    The catch-up runs of 02/03..08/03 would look at 02/03..15/03: only 09/03 on is reported, up to
    16/03 (the run of 09/03, 7 days ahead): the working days 09..13/03 and 16/03, and election day 15/03.
    """
    clock.set(datetime(2026, 3, 9, 7, 30, tzinfo=TZ))
    sqlite_engine.tick()
    reported = [e.data["day"] for e in sqlite_engine.events(limit=1000) if e.type == "roster.gap"]
    assert sorted(reported) == ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13", "2026-03-15",
                                "2026-03-16"]
