"""``kntc case open --forwarded-from-body/--forwarded-from-level`` run as a real process on a SQLite file.

A forwarded letter's body and level come back from ``case open --json`` and ``case show``; each
mistake is one ``kntc: error:`` line naming the option or field, and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_runner import kntc, ok, refused

pytestmark = pytest.mark.slow

RECEIVED = "2026-06-01T09:00+07:00"  # Monday 01/06/2026, after the election period
BODY = "Thanh tra Chính phủ"


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the schema and nothing else (its first command's set-up logs already done)."""
    db = tmp_path_factory.mktemp("forwarding") / "k.db"
    ok(kntc(db, "db", "upgrade"))
    ok(kntc(db, "events"))
    return db


def open_args(*extra: str) -> list[str]:
    return ["case", "open", "complaint", "--subject", "Thu hồi đất", "--petitioner", "Nguyễn Văn A",
            "--received-at", RECEIVED, *extra]


def test_a_forwarded_letter_opened_on_the_command_line_keeps_its_body_and_level(tmp_path: Path) -> None:
    """`case open --json` and `case show` both say who forwarded the letter."""
    db = tmp_path / "k.db"
    opened = json.loads(ok(kntc(db, *open_args("--channel", "forwarded", "--forwarded-from-body", BODY,
                                               "--forwarded-from-level", "central", "--json"))))
    assert opened["channel"] == "forwarded"
    assert opened["forwarded_from"] == {"body": BODY, "level": "central"} and opened["flags"] == []
    shown = json.loads(ok(kntc(db, "case", "show", opened["id"], "--json")))
    assert shown["forwarded_from"] == {"body": BODY, "level": "central"}
    assert f"forwarded from: {BODY} (central)" in ok(kntc(db, "case", "show", opened["id"])).splitlines()


def test_a_letter_opened_without_the_options_has_no_forwarding_body(tmp_path: Path) -> None:
    """Without the options (forwarded or not) nothing is recorded, and `case show` prints no such line."""
    db = tmp_path / "k.db"
    opened = json.loads(ok(kntc(db, *open_args("--channel", "forwarded", "--json"))))
    assert opened["forwarded_from"] is None
    assert "forwarded from" not in ok(kntc(db, "case", "show", opened["id"]))


@pytest.mark.parametrize(("extra", "words"), [
    (["--channel", "forwarded", "--forwarded-from-body", BODY], "--forwarded-from-level: is needed with"),
    (["--channel", "forwarded", "--forwarded-from-level", "central"], "--forwarded-from-body: is needed with"),
    (["--channel", "forwarded", "--forwarded-from-body", BODY, "--forwarded-from-level", "district"],
     "forwarded_from.level"),
    (["--channel", "forwarded", "--forwarded-from-body", " ", "--forwarded-from-level", "central"],
     "forwarded_from.body"),
    (["--forwarded-from-body", BODY, "--forwarded-from-level", "central"], 'forwarded_from: is given only with'),
])
def test_each_mistake_is_one_line_naming_it_and_writes_nothing(empty_db: Path, extra: list[str],
                                                               words: str) -> None:
    """A half-given pair, a wrong level, a blank body, a body on a posted letter: refused, no case opened."""
    db = empty_db
    assert words in refused(kntc(db, *open_args(*extra)))
    assert ok(kntc(db, "events")) == ""
