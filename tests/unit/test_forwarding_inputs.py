"""open_case's ``forwarded_from``: what a portal may give, and the one-line error for each mistake.

Every refusal is a ValidationError naming the field, raised before anything is written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest

from engine.errors import ValidationError
from engine.inputs import LEVELS, CaseInput, Level
from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 02/03/2026, 09:00
ROOT = Path(__file__).resolve().parents[2]


def parse(channel: str = "forwarded", forwarded_from: Any = None) -> CaseInput:
    return CaseInput.parse(received_at=NOW, petitioners=[{"name": "Nguyễn Văn A"}], respondent="UBND xã Tân Lập",
                           subject="Thu hồi đất", content="", channel=channel, now=NOW,
                           forwarded_from=forwarded_from)


def test_the_levels_accepted_are_the_documented_ones() -> None:
    """The type the input checks against and engine.inputs.LEVELS name the same levels, lowest first."""
    assert get_args(Level) == LEVELS == ("commune", "department", "province", "central")


@pytest.mark.parametrize("level", LEVELS)
def test_a_forwarded_letter_names_its_body_and_level(level: str) -> None:
    """Every level is accepted; the body is kept as given."""
    data = parse(forwarded_from={"body": "Thanh tra Chính phủ", "level": level})
    assert data.forwarded_from is not None
    assert data.forwarded_from.model_dump() == {"body": "Thanh tra Chính phủ", "level": level}


def test_a_forwarded_letter_may_still_come_without_it() -> None:
    """Callers from before forwarded_from existed keep working."""
    assert parse().forwarded_from is None


@pytest.mark.parametrize(("forwarded_from", "field", "words"), [
    ({"body": "Thanh tra Chính phủ", "level": "district"}, "forwarded_from.level", "commune"),
    ({"body": "", "level": "central"}, "forwarded_from.body", "at least 1"),
    ({"body": "   ", "level": "central"}, "forwarded_from.body", "blank"),
    ({"body": "x" * 301, "level": "central"}, "forwarded_from.body", "300"),
    ({"body": 7, "level": "central"}, "forwarded_from.body", "string"),
    ({"level": "central"}, "forwarded_from.body", "required"),
    ({"body": "Thanh tra Chính phủ"}, "forwarded_from.level", "required"),
    ({"body": "Thanh tra Chính phủ", "level": "central", "officer": "Nguyễn Văn B"},
     "forwarded_from.officer", "unknown field"),
    ("Thanh tra Chính phủ", "forwarded_from", "dictionary"),
])
def test_each_mistake_in_forwarded_from_names_its_field(forwarded_from: Any, field: str, words: str) -> None:
    """A wrong level, an empty, blank or too long body, a missing or extra key: one line naming it."""
    with pytest.raises(ValidationError) as caught:
        parse(forwarded_from=forwarded_from)
    assert caught.value.field == field
    assert words in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("channel", ["post", "reception", "portal"])
def test_forwarded_from_is_refused_on_a_letter_not_forwarded(channel: str) -> None:
    """Only a forwarded letter has a forwarding body."""
    with pytest.raises(ValidationError) as caught:
        parse(channel, {"body": "Thanh tra Chính phủ", "level": "central"})
    assert caught.value.field == "forwarded_from" and "forwarded" in str(caught.value)


def test_a_refused_forwarded_from_writes_nothing() -> None:
    """open_case refuses before the first write: no case, no event."""
    eng = memory_engine(ManualClock(NOW), ROOT / "workflows")
    with pytest.raises(ValidationError, match="forwarded_from"):
        eng.open_case("complaint", received_at=NOW, petitioners=[{"name": "Nguyễn Văn A"}],
                      respondent="UBND xã Tân Lập", subject="Thu hồi đất", channel="post",
                      forwarded_from={"body": "Thanh tra Chính phủ", "level": "central"})
    assert eng.events() == []
    with eng.runtime.store.reader() as tx:
        assert list(tx.iter_cases()) == []
