"""The store contract of the officers and the duty roster, on the SQLite and PostgreSQL stores alike.

``people`` lists the imported officers by id and ``upsert_people`` replaces one of a known id;
``duties`` reads the days ``start``..``end`` both included, by day then person;
``replace_duties`` deletes the span's duties first and inserts the new ones, refuses a duty outside
the span, and a failed replacement leaves the old roster as it was. (The memory store joins when it
has the four methods: see the report of issue 12.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from adapters.config import Settings
from engine.errors import ValidationError
from engine.people import Person
from engine.roster import Duty
from engine.service import Engine
from engine.testing import ManualClock, memory_engine

TT01 = Person("tt01", "Trần Thị Bình", "thanh_tra", ("inspector", "head_of_unit"), "tt01@so-khcn.example.vn",
              "0263 3822 111", ("log",))
VP01 = Person("vp01", "Lê Văn Cường", "van_phong", ("clerk",))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_engine(request: pytest.FixtureRequest, clock: ManualClock, settings: Settings,
                 tmp_path: Path) -> Iterator[Engine]:
    """An engine over the memory store, SQLite or PostgreSQL (the config fixture's settings)."""
    from adapters.bootstrap import build
    if request.param == "memory":
        yield memory_engine(clock)
        return
    url = f"sqlite:///{tmp_path / 'kntc.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    eng = build(settings, database_url=url, clock=clock)
    yield eng
    eng.close()


def test_people_are_stored_listed_by_id_and_replaced_by_id(store_engine: Engine, clock: ManualClock) -> None:
    """Every field comes back; a second upsert of tt01 replaces it, vp01 stays."""
    store = store_engine.runtime.store
    with store.reader() as tx:
        assert tx.people() == []
    with store.transaction() as tx:
        tx.upsert_people([VP01, TT01], clock.now())
    with store.reader() as tx:
        assert tx.people() == [TT01, VP01]
    moved = Person("tt01", "Trần Thị Bình", "van_phong", ("clerk",))
    with store.transaction() as tx:
        tx.upsert_people([moved], clock.now())
        tx.upsert_people([], clock.now())
    with store.reader() as tx:
        assert tx.people() == [moved, VP01]


def test_duties_read_both_ends_included_by_day_then_person(store_engine: Engine) -> None:
    """13/03..15/03 of a roster 12/03..16/03: three days, by day then person id."""
    store = store_engine.runtime.store
    roster = [Duty(date(2026, 3, d), p, "Phòng tiếp công dân" if p == "tt01" else None, "bầu cử" if d == 15 else None)
              for d in range(12, 17) for p in ("vp01", "tt01")]
    with store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 12), date(2026, 3, 16), roster)
    with store.reader() as tx:
        found = tx.duties(date(2026, 3, 13), date(2026, 3, 15))
    assert found == sorted((d for d in roster if 13 <= d.day.day <= 15), key=lambda d: (d.day, d.person_id))
    assert found[0] == Duty(date(2026, 3, 13), "tt01", "Phòng tiếp công dân", None)
    assert found[-1] == Duty(date(2026, 3, 15), "vp01", None, "bầu cử")


def test_replacing_a_span_deletes_its_days_and_keeps_the_others(store_engine: Engine) -> None:
    """A roster 09/03..20/03, then 14/03..15/03 replaced by one duty on 15/03: 14/03 is empty, the rest kept."""
    store = store_engine.runtime.store
    first = [Duty(date(2026, 3, d), "tt01") for d in range(9, 21)]
    with store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 9), date(2026, 3, 20), first)
        tx.replace_duties(date(2026, 3, 14), date(2026, 3, 15), [Duty(date(2026, 3, 15), "vp01", "Hội trường")])
    with store.reader() as tx:
        found = tx.duties(date(2026, 3, 1), date(2026, 3, 31))
    assert [(d.day.day, d.person_id) for d in found] == [
        *((d, "tt01") for d in range(9, 14)), (15, "vp01"), *((d, "tt01") for d in range(16, 21))]


def test_a_failed_replacement_leaves_the_roster_as_it_was(store_engine: Engine) -> None:
    """A duty outside the span, or one officer twice on a day: ValidationError, the old duties kept."""
    store = store_engine.runtime.store
    old = [Duty(date(2026, 3, 16), "tt01")]
    with store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 16), date(2026, 3, 16), old)
    with pytest.raises(ValidationError, match=r"2026-03-17 lies outside 2026-03-16\.\.2026-03-16"), \
            store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 16), date(2026, 3, 16), [Duty(date(2026, 3, 17), "vp01")])
    with pytest.raises(ValidationError, match="on duty twice"), store.transaction() as tx:
        tx.replace_duties(date(2026, 3, 16), date(2026, 3, 16), [Duty(date(2026, 3, 16), "vp01")] * 2)
    with store.reader() as tx:
        assert tx.duties(date(2026, 3, 1), date(2026, 3, 31)) == old
