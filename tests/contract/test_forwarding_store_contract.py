"""The store contract of issue 9's storage, on the memory, SQLite and PostgreSQL stores alike.

A forwarded letter keeps who forwarded it; a case's flags are written by ``set_case_flags`` only,
so a reactor's flags outlive a later write of the same case (the state-only fast path and the
full update); a grouped case's transfers are appended in order; ``group_members`` hands the hot
spot rules everything they read; ``groups_received_between`` finds the groups with an unresolved
letter in a window. Store-level checks go through the :class:`engine.ports.Transaction` protocol.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.model import Case, Flag
from engine.service import Engine
from engine.testing import ManualClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CENTRAL = {"body": "Thanh tra Chính phủ", "level": "central"}
COMPLEX = {"type": "complex", "source": "officer", "by": "tp01", "since": "2026-03-02T10:00:00+07:00",
           "hot_spot": None, "detail": {"criterion": "many_respondents"}}
CROWDED = {"type": "crowded", "source": "rule", "by": "crowded", "since": "2026-03-02T03:30:00+00:00",
           "hot_spot": "crowded-g1", "detail": {}}


def open_letter(engine: Engine, clock: ManualClock, **kwargs: Any) -> Case:
    """Open a complaint received now (a forwarded one when ``forwarded_from`` is given)."""
    channel = "forwarded" if "forwarded_from" in kwargs else "post"
    return engine.open_case("complaint", received_at=kwargs.pop("received_at", clock.now()),
                            petitioners=[{"name": "Nguyễn Văn A"}], respondent="UBND xã Tân Lập",
                            subject="Thu hồi đất", channel=kwargs.pop("channel", channel), **kwargs)


def group(engine: Engine, group_id: str, *cases: Case) -> None:
    """Put ``cases`` in a new group, as the grouping reactor would (received_at as the case's)."""
    with engine.runtime.store.transaction() as tx:
        tx.create_group(group_id, cases[0].received_at)
        for case in cases:
            tx.save_grouping(case.id, group_id, "ubnd xa tan lap", case.received_at, [f"band-{group_id}"])


# ----------------------------------------------------------------------------- forwarded letters


def test_a_forwarded_letter_keeps_who_forwarded_it_through_open_get_and_fire(engine: Engine,
                                                                           clock: ManualClock) -> None:
    """open_case, get and fire all return the body and level the letter came from; a copy, not the store's."""
    opened = open_letter(engine, clock, forwarded_from=CENTRAL)
    assert opened.channel == "forwarded" and opened.forwarded_from == CENTRAL
    assert engine.get(opened.id) == opened
    clock.advance(timedelta(hours=1))
    fired = engine.fire(opened.id, "accept", actor="cb01", role="inspector")
    assert fired.forwarded_from == CENTRAL and engine.get(opened.id).forwarded_from == CENTRAL
    with engine.runtime.store.reader() as tx:
        record = tx.get_case(opened.id)
    assert record is not None and record.forwarded_from == CENTRAL and record.flags == []


def test_letters_not_forwarded_or_forwarded_without_a_body_have_none(engine: Engine, clock: ManualClock) -> None:
    """A posted letter, and a forwarded one from a caller that does not say by whom, have no forwarding body."""
    posted = open_letter(engine, clock)
    unnamed = open_letter(engine, clock, channel="forwarded")
    assert posted.forwarded_from is None and unnamed.forwarded_from is None and unnamed.channel == "forwarded"
    assert engine.get(unnamed.id).forwarded_from is None and engine.get(posted.id).flags == ()


# ----------------------------------------------------------------------------- flags


def test_set_case_flags_replaces_the_flags_without_a_new_version(engine: Engine, clock: ManualClock) -> None:
    """The flags read back as Flag values, ``since`` in Hà Nội time; a second call replaces the list."""
    case = open_letter(engine, clock)
    with engine.runtime.store.transaction() as tx:
        tx.set_case_flags(case.id, [COMPLEX, CROWDED])
    got = engine.get(case.id)
    assert got.version == 1 and len(engine.history(case.id)) == 1
    assert got.flags == (
        Flag("complex", "officer", "tp01", datetime(2026, 3, 2, 10, 0, tzinfo=TZ), None,
             {"criterion": "many_respondents"}),
        Flag("crowded", "rule", "crowded", datetime(2026, 3, 2, 10, 30, tzinfo=TZ), "crowded-g1", {}))
    assert all(str(f.since.tzinfo) == "Asia/Ho_Chi_Minh" for f in got.flags)
    with engine.runtime.store.transaction() as tx:
        tx.set_case_flags(case.id, [CROWDED])
    assert [f.type for f in engine.get(case.id).flags] == ["crowded"]
    with engine.runtime.store.transaction() as tx:
        tx.set_case_flags(case.id, [])
    assert engine.get(case.id).flags == ()


def test_flags_survive_a_later_update_of_the_case_in_the_same_transaction(engine: Engine,
                                                                          clock: ManualClock) -> None:
    """A record read before the flags were set, written back (state only, then every field), keeps them."""
    case = open_letter(engine, clock)
    with engine.runtime.store.transaction() as tx:
        record = tx.get_case(case.id, for_update=True)
        assert record is not None
        tx.set_case_flags(case.id, [COMPLEX])
        moved = replace(record, state="accepted", version=2, updated_at=clock.now())
        assert tx.update_case(moved, 1, fields_changed=False)
    with engine.runtime.store.transaction() as tx:
        record = tx.get_case(case.id, for_update=True)
        assert record is not None and record.flags == [COMPLEX]
        changed = replace(record, version=3, fields={**record.fields, "remote_area": True}, flags=[])
        assert tx.update_case(changed, 2, fields_changed=True)
    with engine.runtime.store.reader() as tx:
        stored = tx.get_case(case.id)
    assert stored is not None and stored.version == 3 and stored.fields["remote_area"] is True
    assert stored.flags == [COMPLEX]


def test_flags_survive_a_fire_on_the_case(engine: Engine, clock: ManualClock) -> None:
    """An officer's event after a flag was set leaves the flag where it was."""
    case = open_letter(engine, clock)
    with engine.runtime.store.transaction() as tx:
        tx.set_case_flags(case.id, [COMPLEX])
    clock.advance(timedelta(hours=1))
    fired = engine.fire(case.id, "accept", actor="cb01", role="inspector")
    assert fired.version == 2 and [f.type for f in fired.flags] == ["complex"]
    assert engine.get(case.id).flags == fired.flags


def test_flags_of_a_failed_transaction_are_not_kept(engine: Engine, clock: ManualClock) -> None:
    """set_case_flags is undone with the transaction it ran in."""
    case = open_letter(engine, clock)
    try:
        with engine.runtime.store.transaction() as tx:
            tx.set_case_flags(case.id, [COMPLEX])
            raise RuntimeError("a later step failed")
    except RuntimeError:
        pass
    assert engine.get(case.id).flags == ()


# ----------------------------------------------------------------------------- groups


def test_group_members_carry_forwarding_transfers_flags_and_fields(engine: Engine, clock: ManualClock) -> None:
    """What the hot-spot rules read of each member; transfers in the order they were made."""
    first = open_letter(engine, clock, forwarded_from=CENTRAL, fields={"remote_area": True})
    clock.advance(timedelta(hours=1))
    second = open_letter(engine, clock)
    group(engine, "g-1", first, second)
    with engine.runtime.store.transaction() as tx:
        tx.mark_transferred(first.id, "UBND tỉnh Lâm Đồng")
        tx.mark_transferred(first.id, "Thanh tra tỉnh")
        tx.set_case_flags(second.id, [CROWDED])
    with engine.runtime.store.reader() as tx:
        a, b = tx.group_members("g-1")
    assert (a.case_id, b.case_id) == (first.id, second.id)
    assert a.forwarded_from == CENTRAL and b.forwarded_from is None
    assert a.transferred_to == ("UBND tỉnh Lâm Đồng", "Thanh tra tỉnh") and b.transferred_to == ()
    assert a.flags == () and b.flags == (CROWDED,)
    assert a.fields["remote_area"] is True and b.fields == engine.get(second.id).fields


def test_mark_transferred_of_an_ungrouped_case_changes_nothing(engine: Engine, clock: ManualClock) -> None:
    """A case in no group has no transfers to keep: no error, and the case is as it was."""
    case = open_letter(engine, clock)
    with engine.runtime.store.transaction() as tx:
        tx.mark_transferred(case.id, "UBND tỉnh Lâm Đồng")
        assert tx.case_group(case.id) is None
    assert engine.get(case.id) == case


def test_groups_received_between_finds_unresolved_letters_in_the_window(engine: Engine,
                                                                        clock: ManualClock) -> None:
    """Distinct group ids by id, start included, end excluded, resolved letters left out."""
    start = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    at_start = open_letter(engine, clock, received_at=start)
    inside = open_letter(engine, clock, received_at=start + timedelta(minutes=30))
    also_b = open_letter(engine, clock, received_at=start + timedelta(minutes=40))
    resolved = open_letter(engine, clock, received_at=start + timedelta(minutes=45))
    at_end = open_letter(engine, clock, received_at=start + timedelta(hours=1))
    before = open_letter(engine, clock, received_at=start - timedelta(microseconds=1))
    group(engine, "g-b", at_start, inside)
    group(engine, "g-a", also_b)
    group(engine, "g-c", resolved)
    group(engine, "g-d", at_end)
    group(engine, "g-e", before)
    with engine.runtime.store.transaction() as tx:
        tx.mark_resolved(resolved.id, clock.now())
    end = start + timedelta(hours=1)
    with engine.runtime.store.reader() as tx:
        assert tx.groups_received_between(start, end) == ["g-a", "g-b"]
        # the same window given in UTC
        assert tx.groups_received_between(start.astimezone(ZoneInfo("UTC")), end) == ["g-a", "g-b"]
        assert tx.groups_received_between(end, end + timedelta(days=1)) == ["g-d"]
        assert tx.groups_received_between(start - timedelta(days=1), start) == ["g-e"]
        assert tx.groups_received_between(end + timedelta(days=1), end + timedelta(days=2)) == []
