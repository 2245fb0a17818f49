"""The remaining group hot-spot rules, pure: complex, skip-level, circular forwarding, delegations,
cases open too long, and the flags a refresh derives from the group's hot spots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.errors import ValidationError
from engine.grouping import GroupingPolicy, GroupMember, HotSpotRecord
from engine.hot_spot_refresh import case_flags
from engine.hot_spot_rules import detect

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
POLICY = GroupingPolicy(final_states={"complaint": frozenset({"closed", "transferred"})})
CENTRAL = {"body": "Thanh tra Chính phủ", "level": "central"}
COMMUNE = {"body": "UBND xã Xuân Nộn", "level": "commune"}


def member(case_id: str, day: int = 0, *, state: str = "accepted", kind: str = "complaint", people: int = 1,
           resolved: int | None = None, forwarded: dict[str, str] | None = None, transferred: tuple[str, ...] = (),
           flags: tuple[dict[str, Any], ...] = (), fields: dict[str, Any] | None = None) -> GroupMember:
    return GroupMember(case_id, T0 + timedelta(days=day), people, state, kind,
                       "forwarded" if forwarded else "post",
                       T0 + timedelta(days=resolved) if resolved is not None else None,
                       forwarded_from=forwarded, transferred_to=transferred, flags=flags, fields=fields or {})


def types(members: list[GroupMember], policy: GroupingPolicy = POLICY, now: datetime | None = None) -> list[str]:
    return [d.type for d in detect(members, policy, now)]


def one(members: list[GroupMember], kind: str, now: datetime | None = None) -> Any:
    (found,) = [d for d in detect(members, POLICY, now) if d.type == kind]
    return found


MARK = {"type": "complex", "source": "officer", "by": "cb07", "since": T0.isoformat(), "hot_spot": None,
        "detail": {"criterion": "multiple_places"}}


def test_members_marked_complex_make_the_complex_hot_spot_with_their_criteria() -> None:
    """Two marked members (an officer's multiple_places, a rule's many_people): one complex hot spot, both criteria."""
    rule = {**MARK, "source": "rule", "by": "rule:crowded_complaint_is_complex", "detail": {"criterion": "many_people"}}
    found = one([member("c0", flags=(MARK,)), member("c1", 1), member("c2", 2, flags=(rule,))], "complex")
    assert found.case_ids == ("c0", "c2")
    assert found.reasons == ({"rule": "marked_complex", "case_ids": ["c0", "c2"],
                              "criteria": ["many_people", "multiple_places"]},)
    assert types([member("c0"), member("c1", 1)]) == []


def test_a_letter_from_the_central_inspectorate_while_ours_is_open_is_skip_level() -> None:
    """Our open case and the same matter forwarded from Thanh tra Chính phủ (central): skip_level (ids, levels)."""
    found = one([member("ours"), member("up", 3, forwarded=CENTRAL)], "skip_level")
    assert found.case_ids == ("ours", "up")
    assert found.reasons == ({"rule": "forwarded_from_higher_level", "case_ids": ["up"], "levels": ["central"],
                              "own_level": "department", "open_case_ids": ["ours"]},)
    assert "Thanh tra" not in repr(found.reasons)  # levels, not names


def test_forwarded_from_below_or_after_our_case_ended_is_not_skip_level() -> None:
    """From a commune: nothing; from the centre after our case was resolved or closed: nothing."""
    assert types([member("ours"), member("down", 3, forwarded=COMMUNE)]) == []
    assert types([member("ours", resolved=2), member("up", 3, forwarded=CENTRAL)]) == ["prolonged"]  # refiled
    assert types([member("ours", state="closed"), member("up", 3, forwarded=CENTRAL)]) == []
    assert types([member("up", 3, forwarded=CENTRAL)]) == []  # no case of ours in the group
    provincial = GroupingPolicy(own_level="province")  # a provincial inspectorate: a province letter is level
    assert types([member("ours"), member("up", 3, forwarded={"body": "UBND tỉnh", "level": "province"})],
                 provincial) == []


@pytest.mark.parametrize("order", ["transfer first", "forwarded first"])
def test_a_group_transferred_to_a_body_that_forwarded_it_is_circular(order: str) -> None:
    """Transferred to "Ủy ban nhân dân huyện Đông Anh", forwarded back from "UBND huyen Dong Anh": circular."""
    sent = member("c0", 0 if order == "transfer first" else 5, state="transferred",
                  transferred=("Ủy ban nhân dân huyện Đông Anh",))
    back = member("c1", 5 if order == "transfer first" else 0,
                  forwarded={"body": "UBND huyen Dong Anh", "level": "department"})
    found = one([sent, back], "circular_forwarding")
    assert set(found.case_ids) == {"c0", "c1"}
    assert found.reasons == ({"rule": "transferred_back", "bodies": ["Ủy ban nhân dân huyện Đông Anh"],
                              "transferred_case_ids": ["c0"], "forwarded_case_ids": ["c1"]},)
    other = member("c1", 5, forwarded={"body": "Sở Tài nguyên và Môi trường", "level": "department"})
    assert types([sent, other]) == []


def test_a_reception_delegation_of_six_is_crowded_by_itself() -> None:
    """One visitor signs in for a delegation of 6: max(1, 6) = 6 petitioners, crowded (reception_delegation)."""
    (found,) = detect([member("r0", kind="reception", fields={"delegation_size": 6})], POLICY)
    assert (found.type, found.case_ids) == ("crowded", ("r0",))
    assert found.reasons == ({"rule": "reception_delegation", "threshold": 5, "case_ids": ["r0"]},)
    assert types([member("r0", kind="reception", fields={"delegation_size": 4})]) == ["early_crowded"]
    assert types([member("c0", fields={"delegation_size": 6})]) == []  # only a reception has a delegation


def test_a_case_open_more_than_365_days_is_prolonged() -> None:
    """Received 02/03/2026: at 02/03/2027 + 1 h it is 365 days 1 h old (prolonged); at exactly 365 days it is not."""
    case = member("c0")
    # 02/03/2026 -> 02/03/2027: 365 days (2027 is no leap year)
    assert types([case], now=T0 + timedelta(days=365)) == []
    found = one([case], "prolonged", now=T0 + timedelta(days=365, hours=1))
    assert found.reasons == ({"rule": "open_too_long", "case_ids": ["c0"], "days": 365},)
    assert types([member("c0", resolved=100)], now=T0 + timedelta(days=400)) == []  # resolved: not open
    assert types([member("c0", state="closed")], now=T0 + timedelta(days=400)) == []
    assert types([case]) == []  # no moment given: the age is not checked


@pytest.mark.parametrize(("name", "value"), [("prolonged_open_days", 0), ("own_level", "district")])
def test_bad_open_days_or_level_are_refused_naming_the_field(name: str, value: object) -> None:
    """prolonged_open_days below 1 and a level outside LEVELS are a ValidationError naming the field."""
    with pytest.raises(ValidationError, match=f"grouping.{name}"):
        GroupingPolicy(**{name: value})  # type: ignore[arg-type]


def test_flags_come_from_open_hot_spots_and_keep_sticky_marks() -> None:
    """A crowded hot spot gives its cases a rule flag; a complex mark stays, pointing at the group's complex spot."""
    crowded = HotSpotRecord("g:crowded", "crowded", "g", ["c0", "c1"],
                            [{"rule": "letter_signatories"}, {"rule": "group_petitioners"}], T0, T0)
    complex_ = HotSpotRecord("g:complex", "complex", "g", ["c0"], [{"rule": "marked_complex"}], T0, T0)
    flags = case_flags(member("c0", flags=(MARK,)), [crowded, complex_])
    assert flags == [
        {"type": "crowded", "source": "rule", "by": "letter_signatories,group_petitioners",
         "since": T0.isoformat(), "hot_spot": "g:crowded", "detail": {}},
        {**MARK, "hot_spot": "g:complex"}]
    assert case_flags(member("c2"), [crowded]) == []
    # no hot spot left (a split into a group of its own): the mark is kept, the crowded flag goes
    assert case_flags(member("c0", flags=(MARK, flags[0])), []) == [MARK]


def test_every_group_hot_spot_type_is_one_a_period_policy_may_name() -> None:
    """GROUP_HOT_SPOT_TYPES (refresh's order) and the types a period's notify_at_once may list are the same six."""
    from engine.grouping import GROUP_HOT_SPOT_TYPES
    from engine.periods import HOT_SPOT_TYPES

    assert GROUP_HOT_SPOT_TYPES == HOT_SPOT_TYPES
