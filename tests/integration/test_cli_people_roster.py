"""``kntc people import|list`` and ``kntc roster import|show|check`` as a user runs them (real processes).

The configuration is a small file of the test's own: two units, the shipped roles, one configured
officer and the 2026 election whose ``during`` phase (Sunday 15/03/2026) asks for cover every day.
A file with a mistake is refused with FILE:LINE on one line, exit 1, and nothing is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_runner import ROOT, kntc_with, ok, refused, with_config

pytestmark = pytest.mark.slow

CONFIG = f"""\
timezone: Asia/Ho_Chi_Minh
workflows_dir: {ROOT / 'workflows'}
organisation:
  name: Sở Khoa học và Công nghệ
  units:
    - {{id: thanh_tra, name: Thanh tra Sở}}
    - {{id: van_phong, name: Văn phòng Sở}}
periods:
  - id: bau_cu_2026
    kind: election
    label: Bầu cử 2026
    day: 2026-03-15
    phases:
      before: {{from: 2026-01-05, to: 2026-03-14}}
      during: {{from: 2026-03-15, to: 2026-03-15}}
    policy:
      during: {{roster: every_day}}
people:
  - {{id: gd01, name: "Trần Văn Giám", unit: van_phong, roles: [director], email: gd01@so-khcn.example}}
"""
PEOPLE = ("id,name,unit,roles,email,phone\n"
          "tp01,Lê Thị Trưởng,thanh_tra,head_of_unit,tp01@so-khcn.example,\n"
          "tt01,Phạm Văn Minh,thanh_tra,inspector;clerk,tt01@so-khcn.example,0263 3822 111\n")
# Mon 09/03 .. Fri 13/03/2026, the working week before election day; nobody on Sunday 15/03
ROSTER = "day,person_id,place,note\n" + "".join(f"2026-03-{d:02d},tt01,Phòng tiếp công dân,\n" for d in range(9, 14))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """The database file and the config file of a test."""
    return with_config(tmp_path, CONFIG)


run = kntc_with


def file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_people_are_imported_and_listed_with_the_configured_ones(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """Two officers imported; ``list`` shows the configured gd01 too, by id, with roles and e-mail (no phone)."""
    assert ok(run(setup, "people", "import", file(tmp_path, "people.csv", PEOPLE))).strip() == \
        f"2 officers imported from {tmp_path / 'people.csv'}"
    listed = [json.loads(line) for line in ok(run(setup, "people", "list", "--json")).splitlines()]
    assert [(p["id"], p["unit"], p["roles"]) for p in listed] == [
        ("gd01", "van_phong", ["director"]), ("tp01", "thanh_tra", ["head_of_unit"]),
        ("tt01", "thanh_tra", ["inspector", "clerk"])]
    assert listed[2]["email"] == "tt01@so-khcn.example" and "phone" not in listed[2]
    text = ok(run(setup, "people", "list"))
    assert "tt01" in text and "Phạm Văn Minh" in text and "0263" not in text


def test_a_people_file_with_an_unknown_unit_or_role_stores_nothing(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """One good row, an unknown unit (line 3), an unknown role (line 4): exit 1, FILE:LINE each, nobody stored."""
    path = file(tmp_path, "people.csv", PEOPLE.splitlines(keepends=True)[0] + PEOPLE.splitlines(keepends=True)[1]
                + "x1,Người X,phong_ma,clerk,,\nx2,Người Y,thanh_tra,chief,,\n")
    line = refused(run(setup, "people", "import", path))
    assert f"{path}:3: unit: unknown unit 'phong_ma'" in line and f"{path}:4: roles: unknown role 'chief'" in line
    assert [json.loads(p)["id"] for p in ok(run(setup, "people", "list", "--json")).splitlines()] == ["gd01"]


def test_a_roster_is_imported_shown_and_checked(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """The week 09..13/03 imported; ``show`` names the officer; ``check`` 09..15/03 finds election day only."""
    ok(run(setup, "people", "import", file(tmp_path, "people.csv", PEOPLE)))
    assert ok(run(setup, "roster", "import", file(tmp_path, "roster.csv", ROSTER))).startswith(
        "5 duties imported for 09/03/2026..13/03/2026")
    shown = ok(run(setup, "roster", "show", "--from", "2026-03-09", "--to", "15/03/2026")).splitlines()
    assert shown[0] == "T2 09/03/2026  Phạm Văn Minh (tt01) @ Phòng tiếp công dân" and len(shown) == 5
    days = [json.loads(line) for line in ok(run(setup, "roster", "show", "--from", "2026-03-13", "--to", "2026-03-13",
                                                "--json")).splitlines()]
    assert days == [{"day": "2026-03-13", "duties": [{"person_id": "tt01", "name": "Phạm Văn Minh",
                                                       "place": "Phòng tiếp công dân", "note": None}]}]
    checked = run(setup, "roster", "check", "--from", "2026-03-09", "--to", "2026-03-15")
    assert checked.returncode == 1, checked.stderr
    assert checked.stdout.splitlines() == [
        "CN 15/03/2026  giai đoạn during của bau_cu_2026 yêu cầu trực mọi ngày"]
    assert ok(run(setup, "roster", "check", "--from", "2026-03-09", "--to", "2026-03-14")).strip() == \
        "no gap 09/03/2026..14/03/2026"


def test_a_roster_naming_an_unknown_officer_or_a_day_past_the_calendar_stores_nothing(
        setup: tuple[Path, Path], tmp_path: Path) -> None:
    """Line 3 names xx99, line 4 a day of 2046 (the calendar ends with 2045): exit 1, the week stays as it was."""
    ok(run(setup, "people", "import", file(tmp_path, "people.csv", PEOPLE)))
    ok(run(setup, "roster", "import", file(tmp_path, "roster.csv", ROSTER)))
    path = file(tmp_path, "bad.csv", "day,person_id\n2026-03-10,tp01\n2026-03-11,xx99\n2046-01-02,tt01\n")
    line = refused(run(setup, "roster", "import", path))
    assert f"{path}:3: person: unknown officer 'xx99'" in line
    assert f"{path}:4: day: 2046-01-02 lies outside the calendar's years 2015..2045" in line
    shown = ok(run(setup, "roster", "show", "--from", "2026-03-09", "--to", "2026-03-13", "--json")).splitlines()
    assert [[d["person_id"] for d in json.loads(s)["duties"]] for s in shown] == [["tt01"]] * 5
    yaml_path = file(tmp_path, "bad.yaml", "roster:\n  - day: 2026-03-10\n    person: xx99\n")
    assert f"{yaml_path}:3: person: unknown officer 'xx99'" in refused(run(setup, "roster", "import", yaml_path))


def test_a_bad_date_option_is_refused_naming_the_option(setup: tuple[Path, Path]) -> None:
    line = refused(run(setup, "roster", "check", "--from", "15-03-2026"))
    assert line == "kntc: error: --from: '15-03-2026' is not a date (2026-03-15 or 15/03/2026)"
    assert "--to: 2026-03-01 is before --from 2026-03-15" in refused(
        run(setup, "roster", "show", "--from", "2026-03-15", "--to", "2026-03-01"))
