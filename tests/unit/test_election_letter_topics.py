"""The election-letter classifier (engine/election_letters.py) over the shipped topics: pure, no store."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from engine.election_letters import ElectionLetters, ElectionTopic, classify
from tests.conftest import shipped_settings

TOPICS = shipped_settings().election_letters.topics


def topic_of(subject: str, content: str = "") -> str | None:
    """The shipped topic a letter falls under, or None."""
    match = classify(subject, content, TOPICS)
    return match.topic.id if match else None


@pytest.mark.parametrize(("subject", "content", "expected"), [
    ("Khiếu nại về danh sách cử tri",
     "Gia đình tôi có 4 người đủ tuổi nhưng không có tên trong danh sách cử tri niêm yết tại nhà văn hóa thôn 3.",
     "voter_list"),
    ("Khieu nai ve danh sach cu tri",  # no diacritics, as typed on a phone
     "Gia dinh toi khong co ten trong DANH SACH CU TRI tai thon 3, de nghi bo sung.", "voter_list"),
    ("Đơn đề nghị", "Tôi chưa nhận được thẻ cử tri dù đã đăng ký thường trú từ năm 2024.", "voter_list"),
    ("Tố cáo người ứng cử đại biểu HĐND tỉnh",
     "Ông X, người ứng cử tại đơn vị bầu cử số 2, kê khai tài sản không trung thực.", "candidates"),
    ("Phản ánh", "Ung cu vien o don vi bau cu so 5 da mua chuoc cu tri.", "candidates"),
    ("Khiếu nại kết quả bầu cử", "Việc kiểm phiếu tại khu vực bỏ phiếu số 7 không đúng quy định, đề nghị bầu cử lại.",
     "results"),
])
def test_letters_about_the_election_are_recognised(subject: str, content: str, expected: str) -> None:
    """Voter list (with and without diacritics, upper case), candidates, results."""
    assert topic_of(subject, content) == expected


@pytest.mark.parametrize(("subject", "content"), [
    # a land complaint whose writers call themselves voters, in passing
    ("Khiếu nại về bồi thường giải phóng mặt bằng",
     "Chúng tôi là cử tri của xã Tân Hà, đề nghị xem xét lại đơn giá bồi thường đất nông nghiệp."),
    # a land clearance that posts a list of households (not the voter list)
    ("Đề nghị bồi thường", "UBND xã đã niêm yết danh sách các hộ được bồi thường nhưng thiếu tên gia đình tôi."),
    # an election word inside another word sequence: "người ứng cử" is whole words only
    ("Kiến nghị", "Tôi đề nghị tuyển dụng người ứng tuyển có năng lực."),
    ("Đơn", ""),
])
def test_decoys_are_not_election_letters(subject: str, content: str) -> None:
    """Mentioning voters, a posted list, or nothing at all is not an election matter."""
    assert topic_of(subject, content) is None


def test_the_topic_with_most_phrases_wins() -> None:
    """A result complaint that mentions a candidate once: results (kết quả bầu cử, kiểm phiếu) over candidates."""
    content = "Kết quả bầu cử tại đơn vị số 3 sai vì kiểm phiếu gian lận, làm người ứng cử của chúng tôi thất cử."
    assert topic_of("Khiếu nại", content) == "results"


def topic(**changes: Any) -> dict[str, Any]:
    """A topic in its config shape."""
    return {"id": "voter_list", "label": "Danh sách cử tri", "phrases": ["danh sách cử tri"],
            "route_to": "UBND cấp xã", "legal_basis": "Luật Bầu cử Điều 33", **changes}


@pytest.mark.parametrize(("raw", "message"), [
    ({"topics": [topic(phrases=["bầu  "])]}, "phrase 'bầu  ' is a single syllable"),
    ({"topics": [topic(phrases=[])]}, "at least 1 item"),
    ({"topics": [topic(), topic()]}, "topic id 'voter_list' is declared twice"),
    ({"topics": [topic(), topic(id="other", phrases=["Danh sach cu tri"])]},
     "phrase 'danh sach cu tri' is in topics 'voter_list' and 'other'"),
    ({"topics": [topic(resolve_days=0)]}, "greater than 0"),
])
def test_bad_topics_are_refused(raw: dict[str, Any], message: str) -> None:
    """One-word phrases, no phrases, a topic or a phrase twice, a zero clock."""
    with pytest.raises(ValidationError, match=message):
        ElectionLetters.model_validate(raw)


def test_shipped_topics_carry_the_law_s_clocks() -> None:
    """Voter list 5 days (Điều 33), results 7 (Điều 87), candidates frozen 10 days before (Điều 61 k2)."""
    by_id = {t.id: t for t in TOPICS}
    assert (by_id["voter_list"].resolve_days, by_id["results"].resolve_days) == (5, 7)
    assert by_id["candidates"].freeze_days_before == 10
    assert all(isinstance(t, ElectionTopic) and t.route_to for t in TOPICS)
