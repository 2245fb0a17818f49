"""Content groups, the pure part: normalisation, signatures, bands, confirmation and the hot-spot rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import ValidationError
from engine.grouping import (
    BANDS,
    Detection,
    GroupingPolicy,
    GroupMember,
    confirm,
    jaccard,
    minhash,
    normalise,
    respondent_key,
    shingles,
    signature,
)
from engine.hot_spot_rules import detect
from tests.letters import GENERIC, OTHER_MATTER, OTHER_RESPONDENT, RESPONDENT, SAME_MATTER

POLICY = GroupingPolicy()
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_normalised_text_has_no_diacritics_case_or_punctuation() -> None:
    """A letter typed with or without Vietnamese marks, in any case and punctuation, normalises alike."""
    assert normalise("Đơn KHIẾU nại, về “bồi thường” — GPMB!") == "don khieu nai ve boi thuong gpmb"
    assert normalise("Don khieu nai ve boi thuong GPMB") == normalise("Đơn khiếu nại về bồi thường GPMB")
    assert normalise("  ...  ") == ""


def test_respondents_written_in_full_or_abbreviated_have_one_key() -> None:
    """'Ủy ban nhân dân huyện Đông Anh' and 'UBND huyen Dong Anh' are the same respondent."""
    assert respondent_key("Ủy ban nhân dân huyện Đông Anh") == respondent_key("UBND huyen Dong Anh") \
        == "ubnd huyen dong anh"


def test_short_texts_are_one_shingle() -> None:
    """A text of fewer words than a shingle is one shingle, an empty one none."""
    assert shingles(["don", "de"]) == {"don de"}
    assert shingles([]) == set()
    assert shingles(["a", "b", "c", "d"]) == {"a b c", "b c d"}


def test_signatures_are_stable_and_sized() -> None:
    """The same text always gives the same values and one band key per band (stable across processes)."""
    a, b = signature("Khiếu nại bồi thường"), signature("khieu nai boi thuong")
    assert a == b and len(a.bands) == BANDS and len(set(a.bands)) == BANDS
    assert minhash([]) == minhash(set())


def test_the_six_letters_of_one_matter_confirm_each_other() -> None:
    """Every pair of the six land-clearance letters shares a band and is confirmed as the same matter."""
    key = respondent_key(RESPONDENT)
    sigs = [signature(f"{s} {c}") for s, c in SAME_MATTER]
    for a, b in itertools.combinations(sigs, 2):
        assert set(a.bands) & set(b.bands)
        assert confirm(a, key, b, key, POLICY) is not None
    assert jaccard(sigs[0].values, sigs[1].values) == 1.0  # diacritics stripped: the same text


def test_decoys_are_not_confirmed() -> None:
    """Another matter of the same respondent, the same matter of another respondent, a generic letter: no match."""
    key = respondent_key(RESPONDENT)
    letter = signature(" ".join(SAME_MATTER[0]))
    assert confirm(letter, key, signature(" ".join(OTHER_MATTER)), key, POLICY) is None
    assert confirm(letter, key, letter, respondent_key(OTHER_RESPONDENT), POLICY) is None
    assert confirm(letter, key, signature(" ".join(GENERIC)), key, POLICY) is None
    assert not set(letter.bands) & set(signature(" ".join(GENERIC)).bands)


def _members(*counts: tuple[int, int]) -> list[GroupMember]:
    return [GroupMember(f"c{i}", T0 + timedelta(days=day), n, "received", "complaint", "post")
            for i, (day, n) in enumerate(counts)]


def test_a_group_is_early_crowded_at_three_and_crowded_at_five_petitioners() -> None:
    """Petitioners summed over a group's cases raise early_crowded at 3 and crowded at 5, within the window."""
    assert detect(_members((0, 1), (1, 1)), POLICY) == []
    assert [d.type for d in detect(_members((0, 1), (1, 1), (2, 1)), POLICY)] == ["early_crowded"]
    found = detect(_members((0, 1), (1, 1), (2, 1), (2, 1), (3, 1)), POLICY)
    assert [d.type for d in found] == ["crowded", "early_crowded"]
    assert found[0].case_ids == ("c0", "c1", "c2", "c3", "c4")
    assert found[0].reasons[0]["rule"] == "group_petitioners" and found[0].reasons[0]["petitioners"] == 5


def test_petitioners_outside_the_window_do_not_count() -> None:
    """Letters further apart than the window are never counted together."""
    assert detect(_members((0, 1), (10, 1), (20, 1), (30, 1)), POLICY) == []


def test_one_letter_with_six_signatories_is_crowded() -> None:
    """A single letter with at least 5 petitioners is crowded by itself, with that reason."""
    found = detect(_members((0, 6)), POLICY)
    assert found[0].type == "crowded" and found[0].reasons == ({"rule": "letter_signatories", "threshold": 5,
                                                                 "case_ids": ["c0"]},)


@pytest.mark.parametrize(("name", "value"), [("crowded_threshold", 1), ("early_threshold", 1), ("window_days", 0),
                                             ("similarity", 0.0), ("confirm_ratio", 101.0),
                                             ("prolonged_overdues", 1)])
def test_bad_thresholds_are_refused_naming_the_field(name: str, value: float) -> None:
    """Thresholds below 2, windows of no day and ratios out of range are a ValidationError naming the field."""
    with pytest.raises(ValidationError, match=f"grouping.{name}"):
        GroupingPolicy(**{name: value})  # type: ignore[arg-type]


def _member(case_id: str, day: int, *, resolved: int | None = None, overdues: int = 0) -> GroupMember:
    at = T0 + timedelta(days=resolved) if resolved is not None else None
    return GroupMember(case_id, T0 + timedelta(days=day), 1, "received", "complaint", "post", at, overdues)


def test_a_filing_after_a_resolution_is_prolonged() -> None:
    """A letter received after another member's resolution makes the group prolonged, naming both."""
    found = detect([_member("c0", 0, resolved=2), _member("c1", 5)], GroupingPolicy())
    assert found == [Detection("prolonged", ("c0", "c1"), ({"rule": "refiled_after_resolution",
                                                            "resolved_case_ids": ["c0"], "new_case_id": "c1"},))]


def test_a_filing_before_the_resolution_is_not_prolonged() -> None:
    """A letter received before the other member was resolved is no refiling."""
    assert detect([_member("c0", 0, resolved=9), _member("c1", 5)], GroupingPolicy()) == []


@pytest.mark.parametrize("counts", [(1, 1), (2, 0)])
def test_two_overdues_in_a_group_are_prolonged(counts: tuple[int, int]) -> None:
    """Two overdue deadlines, on two cases or twice on one, make the group prolonged (repeated_overdue)."""
    members = [_member("c0", 0, overdues=counts[0]), _member("c1", 1, overdues=counts[1])]
    (found,) = detect(members, GroupingPolicy())
    overdue = [m.case_id for m in members if m.overdues]
    assert found == Detection("prolonged", tuple(overdue), ({"rule": "repeated_overdue", "case_ids": overdue},))


def test_one_overdue_is_not_prolonged_under_the_default() -> None:
    """A single overdue deadline is below the default prolonged_overdues of 2."""
    assert detect([_member("c0", 0, overdues=1), _member("c1", 1)], GroupingPolicy()) == []
