"""Who a notification reaches, and on which channels (engine/routing.py, pure parts)."""

from __future__ import annotations

import pytest

from engine.errors import KntcError
from engine.people import Directory, Person
from engine.routing import Routing, recipients

PEOPLE = Directory.of([
    Person("gd01", "Trần Văn Giám", "van_phong", ("director",), "gd01@so.example"),
    Person("tp01", "Lê Thị Trưởng", "thanh_tra", ("head_of_unit",), "tp01@so.example", channels=("sms",)),
    Person("tp02", "Võ Văn Quản", "phong_quan_ly", ("head_of_unit",), "tp02@so.example"),
    Person("cb01", "Nguyễn Thị Lan", "thanh_tra", ("clerk", "inspector")),
])
ROUTING = Routing(default_channels=("email",), role_channels={"director": ("email", "portal")},
                  default_unit="thanh_tra")


def ids(found: list[tuple[Person, str | None]]) -> list[tuple[str, str | None]]:
    return [(person.id, role) for person, role in found]


def test_a_role_reaches_its_holders_in_the_unit_the_director_in_any() -> None:
    assert ids(recipients({"role": "head_of_unit"}, None, PEOPLE, ROUTING)) == [("tp01", "head_of_unit")]
    assert ids(recipients({"role": "head_of_unit", "unit": "phong_quan_ly"}, None, PEOPLE, ROUTING)) == [
        ("tp02", "head_of_unit")]
    assert ids(recipients({"role": "director", "unit": "thanh_tra"}, None, PEOPLE, ROUTING)) == [("gd01", "director")]
    # no unit anywhere: every holder of the body
    assert ids(recipients({"role": "head_of_unit"}, None, PEOPLE, Routing())) == [
        ("tp01", "head_of_unit"), ("tp02", "head_of_unit")]


def test_a_named_officer_is_reached_and_an_unknown_one_is_an_error() -> None:
    assert ids(recipients({"person": "cb01"}, None, PEOPLE, ROUTING)) == [("cb01", None)]
    with pytest.raises(KntcError, match="no officer 'xx9'"):
        recipients({"person": "xx9"}, None, PEOPLE, ROUTING)


def test_nobody_holding_the_role_is_an_error_naming_role_and_unit() -> None:
    with pytest.raises(KntcError, match="nobody holds role 'inspector' in unit 'van_phong'"):
        recipients({"role": "inspector", "unit": "van_phong"}, None, PEOPLE, ROUTING)


def test_channels_rule_first_then_officer_then_role_then_default() -> None:
    tp01, gd01, cb01 = (PEOPLE.people[i] for i in ("tp01", "gd01", "cb01"))
    assert ROUTING.channels_for(tp01, "head_of_unit", "portal") == ("portal",)
    assert ROUTING.channels_for(tp01, "head_of_unit", None) == ("sms",)
    assert ROUTING.channels_for(gd01, "director", None) == ("email", "portal")
    assert ROUTING.channels_for(cb01, "clerk", None) == ("email",)
