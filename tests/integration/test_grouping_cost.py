"""What grouping keeps so that placing a letter stays cheap: stored signatures, one read of the candidates.

Each grouped case keeps its signature (``kntc_case_groups.signature``: format version, word count,
MinHash bins). A new letter's candidates come with it, their respondent and their text in one
statement, so no candidate case is read apart nor signed again. The stored signature must stay the
one computed from the case's text: a change of normalising, shingling or hashing that forgets to
bump ``SIGNATURE_VERSION`` fails :func:`test_the_signature_format_is_pinned`. A signature of
another version, or none (a case grouped before migration 0007), is recomputed from the text and
stored when the case is next a candidate.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import adapters.sql.transaction as sql_tx
from engine.grouping import (
    BANDS,
    SIGNATURE_VERSION,
    decode_signature,
    encode_signature,
    normalise,
    signature,
)
from engine.groups import grouping_reactors
from engine.service import Engine
from engine.testing import ManualClock
from tests.integration.engines import with_reactors
from tests.letters import RESPONDENT, SAME_MATTER

#: a letter whose signature is pinned below (typed with its marks, punctuation and a line break)
PINNED = ("Khiếu nại việc bồi thường\nĐề nghị UBND huyện Đông Anh xem xét lại quyết định thu hồi đất số 12/QĐ-UBND, "
          "vì giá bồi thường thấp hơn giá thị trường; gia đình tôi chưa được bố trí tái định cư.")
#: blake2b (16 bytes) of encode_signature(signature(PINNED)) under SIGNATURE_VERSION 1
PINNED_DIGEST = "a450233d4c687763fbf5cc744afe806a"


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The fixture's engine (memory, SQLite, PostgreSQL) with the grouping reactors."""
    return with_reactors(engine, grouping_reactors())


def open_letter(eng: Engine, clock: ManualClock, index: int) -> str:
    subject, content = SAME_MATTER[index]
    case = eng.open_case("complaint", received_at=clock.now(), petitioners=[{"name": f"Người {index}"}],
                         respondent=RESPONDENT, subject=subject, content=content)
    clock.advance(timedelta(hours=20))
    return str(case.id)


def stored_signatures(eng: Engine, case_ids: list[str]) -> dict[str, tuple[bytes | None, str]]:
    """Each case's stored signature, as a candidate lookup returns it (its own band keys find it), and its text."""
    out: dict[str, tuple[bytes | None, str]] = {}
    with eng.runtime.store.reader() as tx:
        for case_id in case_ids:
            record = tx.get_case(case_id)
            assert record is not None
            text = f"{record.subject}\n{record.content}"
            found = {c.case_id: c for c in tx.group_candidates(signature(text).bands, 50)}
            out[case_id] = found[case_id].signature, text
    return out


def test_the_stored_signature_of_a_case_is_the_one_its_text_gives(eng: Engine, clock: ManualClock) -> None:
    """Every grouped case's stored word count and MinHash equal those computed again from its subject and content."""
    ids = [open_letter(eng, clock, i) for i in range(4)]
    for blob, text in stored_signatures(eng, ids).values():
        sig = signature(text)
        assert blob is not None and blob[0] == SIGNATURE_VERSION
        assert decode_signature(blob) == (sig.words, sig.values)


def test_the_signature_format_is_pinned() -> None:
    """If this fails, normalising, shingling or hashing changed: bump SIGNATURE_VERSION, then re-pin the digest."""
    blob = encode_signature(signature(PINNED))
    assert SIGNATURE_VERSION == 1
    assert (len(blob), hashlib.blake2b(blob, digest_size=16).hexdigest()) == (517, PINNED_DIGEST)


def test_a_signature_of_another_version_or_none_is_not_read() -> None:
    """Another version's bytes, a truncated value and NULL all read as no signature (recomputed from the text)."""
    blob = encode_signature(signature(PINNED))
    assert decode_signature(blob) is not None
    assert decode_signature(bytes([SIGNATURE_VERSION + 1]) + blob[1:]) is None
    assert decode_signature(blob[:-1]) is None
    assert decode_signature(None) is None and decode_signature(b"") is None


def test_a_short_letter_round_trips_with_its_borrowed_bins() -> None:
    """A letter of a few shingles leaves most bins empty (densified by borrowing): stored and read back alike."""
    for text in ("Đơn đề nghị", "a", "", "Tôi đề nghị được trả lời bằng văn bản."):
        sig = signature(text)
        assert decode_signature(encode_signature(sig)) == (sig.words, sig.values)
        assert len(sig.bands) == BANDS


def _whole_string(text: str) -> str:
    """normalise as it was written first: the whole string at once."""
    import re
    marks = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
    plain = marks.sub("", unicodedata.normalize("NFD", text)).lower().replace("đ", "d")
    return re.sub(r"[\W_]+", " ", plain).strip()


@pytest.mark.parametrize("text", [
    PINNED, PINNED.upper(), "  Đơn   khiếu nại\t(lần 2) — về việc: bồi thường…  ", "Ông NGUYỄN VĂN Ẩn_Đức 12/3",
    "ΟΔΟΣ ΣΟΦΙΑΣ", "İstanbul straße ﬁ", "e\u0301 đ\u0323", "", "___", "\u00a0Thu hồi đất\u200b ở",
])
def test_normalise_gives_what_the_whole_string_gives(text: str) -> None:
    """The per-character normalise reads Vietnamese with or without marks, punctuation and odd letters as before."""
    assert normalise(text) == _whole_string(text)


@pytest.fixture
def statements() -> Iterator[Counter[str]]:
    """Counts of the named SQL statements run (SQLite and PostgreSQL stores)."""
    counts: Counter[str] = Counter()
    original = sql_tx.SqlTransaction._run

    def counted(self: Any, name: str, values: Any = None) -> Any:
        counts[name] += 1
        return original(self, name, values)

    sql_tx.SqlTransaction._run = counted  # type: ignore[method-assign]
    yield counts
    sql_tx.SqlTransaction._run = original  # type: ignore[method-assign]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"], indirect=True)  # statements are the SQL stores'
def test_confirming_candidates_reads_no_case_apart(eng: Engine, clock: ManualClock,
                                                   statements: Counter[str]) -> None:
    """A letter joining a group is confirmed on what the candidate lookup returned: no case read, nothing re-signed.

    (Two petitioners: no hot spot yet, so no rule reads a case either.)
    """
    first = open_letter(eng, clock, 0)
    statements.clear()
    joined = open_letter(eng, clock, 1)
    with eng.runtime.store.reader() as tx:
        assert tx.case_group(joined) == tx.case_group(first) is not None
    assert statements["get_case_one"] == 0 and statements["save_signature"] == 0
    assert statements["group_candidates_all"] == 1
