"""Personal data never reaches a log line (issue 13, DESIGN §8): each pattern, each key, what survives."""

from __future__ import annotations

import io
import json
import logging
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.cli.common import LogFormatter, configure_logging
from adapters.config import LoggingSettings, Settings
from engine.inputs import Party
from engine.log_redaction import REDACTED, is_sensitive_key, redact_fields, redact_text, redact_value
from engine.logs import ROOT_LOGGER, RedactingFilter, bound, get_logger, merge_bound, redact

CASE_ID = "3f2a9c1d0b4e4f5a8c7d6e5f4a3b2c1d"  # a hex uuid, as Runtime.new_id makes them


@pytest.mark.parametrize("text", [
    "nguyen.van.a@example.vn",
    "Yến.Lê+đơn@sở-khcn.gov.vn",
    unicodedata.normalize("NFD", "Yến.Lê@sở-khcn.gov.vn"),  # decomposed letters still read as one address
    "0912345678", "091 234 5678", "0912.345.678", "091-234-5678",  # a mobile: 0 + 9 digits
    "+84912345678", "+84 912 345 678", "(+84) 912 345 678", "0084912345678",
    "024 3825 1234", "02438251234",  # a landline: 0 + area code + number, 11 digits
    "079203001234",  # a CCCD: 12 digits
    "123456789",  # a CMND: 9 digits
    "０９１２３４５６７８",  # full-width digits
])
def test_each_pattern_is_redacted_inside_any_text(text: str) -> None:
    """The value alone, and inside a sentence, reads as [redacted] and leaves the rest."""
    assert redact_text(text) == REDACTED
    assert redact_text(f"gọi {text}, rồi gửi.") == f"gọi {REDACTED}, rồi gửi."


@pytest.mark.parametrize("text", [
    CASE_ID,
    "123456789012abcdef0123456789abcd",  # a hex id whose first 12 characters are digits
    "550e8400-e29b-41d4-a716-446655440000",  # a dashed uuid whose last part is 12 digits
    "2026-03-15", "2026-03-15T08:00:00+07:00", "15/03/2026", "2026-03-15 08:00:00.123456",
    "resolve", "acceptance_notice", "case.transitioned", "seq=42", "attempts=3/5",
    "LKN Điều 11 k4", "NĐ 124/2020",
])
def test_ids_dates_and_names_of_things_survive(text: str) -> None:
    """Case ids, ISO dates, deadline and event names are not personal data: unchanged."""
    assert redact_text(text) == text


def test_numbers_dates_and_flags_pass_unchanged() -> None:
    """Seqs and counts are numbers, not text: even a nine-digit seq stays itself."""
    moment = datetime(2026, 3, 15, 8, tzinfo=timezone(timedelta(hours=7)))
    values = {"seq": 123456789, "count": 3, "ratio": 0.5, "ok": True, "none": None, "day": date(2026, 3, 15),
              "at": moment, "case_id": CASE_ID, "deadline": "resolve"}
    assert redact_fields(values) == values


@pytest.mark.parametrize("key", ["name", "full_name", "fullName", "petitioner", "petitioners", "petitioner_name",
                                 "id_number", "idNumber", "address", "home_address", "phone", "contact_phone",
                                 "email", "e-mail", "content", "subject", "respondent", "Subject", "payload",
                                 "reason"])
def test_a_sensitive_key_loses_its_whole_value(key: str) -> None:
    """The value of a key naming personal data is redacted whatever it is: text, number, list, mapping."""
    assert is_sensitive_key(key)
    for value in ("Lê Thị B", 42, ["a", "b"], {"x": 1}):
        assert redact_fields({key: value, "seq": 7}) == {key: REDACTED, "seq": 7}


@pytest.mark.parametrize("key", ["deadline", "deadline_name", "event_name", "channel", "kind", "case_id", "seq",
                                 "state", "job_subject", "subjects_count", "reason_code"])
def test_keys_of_things_keep_their_values(key: str) -> None:
    """kntc's own names of things are not personal data."""
    assert not is_sensitive_key(key)


def test_nested_mappings_lists_and_dataclasses_are_redacted_all_the_way_down() -> None:
    """Personal data in any field: nested mappings, lists, tuples and dataclasses are walked."""
    @dataclass
    class Party:
        name: str
        role: str

    data = {"data": {"items": [{"full_name": "Trần C", "seq": 5}, ("x", "mail a@b.vn")],
                     "who": Party("Trần C", "petitioner"), "remark": "CCCD 079203001234 nộp"}}
    assert redact_value(data) == {"data": {
        "items": [{"full_name": REDACTED, "seq": 5}, ["x", f"mail {REDACTED}"]],
        "who": {"name": REDACTED, "role": "petitioner"}, "remark": f"CCCD {REDACTED} nộp"}}


def test_a_pydantic_party_is_read_by_its_fields() -> None:
    """A petitioner as the engine parses it (engine.inputs.Party): every personal field redacted by key."""
    party = Party(name="Lê Thị B", id_number="079203001234", phone="0912345678", email="b@c.vn", address="Số 1")
    assert redact_value(party) == dict.fromkeys(("name", "id_number", "address", "phone", "email"), REDACTED)


def test_other_objects_are_read_as_their_text() -> None:
    """An object the rules do not know is logged as its text, redacted by pattern."""
    class Opaque:
        def __str__(self) -> str:
            return "Opaque(phone=0912345678)"

    assert redact_value(Opaque()) == f"Opaque(phone={REDACTED})"


def test_the_structlog_processor_keeps_event_and_exc_info() -> None:
    """The processor redacts the fields, keeps structlog's own keys and redacts the event text by pattern."""
    out = redact(None, "info", {"event": "mail a@b.vn", "exc_info": True, "name": "X", "seq": 2})
    assert out == {"event": f"mail {REDACTED}", "exc_info": True, "name": REDACTED, "seq": 2}


def test_bound_values_merge_under_the_lines_own() -> None:
    """Inside ``bound``, a line gets the bound case_id; its own value wins; it ends with the ``with``."""
    with bound(case_id="c1"):
        assert merge_bound(None, "info", {"event": "e"}) == {"event": "e", "case_id": "c1"}
        assert merge_bound(None, "info", {"event": "e", "case_id": "c2"})["case_id"] == "c2"
        with bound(case_id="c3"):
            assert merge_bound(None, "info", {})["case_id"] == "c3"
        assert merge_bound(None, "info", {})["case_id"] == "c1"
    assert merge_bound(None, "info", {}) == {}


def _record(msg: str, *args: Any, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("kntc.test", logging.ERROR, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_filter_redacts_a_foreign_record_message_and_its_exception() -> None:
    """A plain stdlib record (``%s`` arguments, an exception) is redacted when a kntc handler receives it."""
    record = _record("sent to %s", "a@b.vn")
    try:
        raise RuntimeError("no route to 0912345678")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"sent to {REDACTED}"
    assert record.exc_text is not None and "0912345678" not in record.exc_text and REDACTED in record.exc_text


def test_the_filter_rebuilds_a_kntc_message_from_redacted_fields_and_the_bound_case() -> None:
    """A kntc record's fields are redacted, the bound case_id added, numbers left intact in the message."""
    record = _record("x", kntc_event="delivered", kntc_fields={"seq": 123456789, "email": "a@b.vn"})
    with bound(case_id=CASE_ID):
        RedactingFilter().filter(record)
    assert record.kntc_fields == {"case_id": CASE_ID, "seq": 123456789, "email": REDACTED}  # type: ignore[attr-defined]
    assert record.getMessage() == f"delivered case_id={CASE_ID} seq=123456789 email={REDACTED}"


@pytest.fixture
def kntc_root() -> Iterator[logging.Logger]:
    """The ``kntc`` logger, restored after a test that configured it like the CLI does."""
    root = logging.getLogger(ROOT_LOGGER)
    handlers, level, propagate = list(root.handlers), root.level, root.propagate
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    root.propagate = propagate


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_configure_logging_writes_redacted_lines_to_stderr_only(fmt: str, kntc_root: logging.Logger,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's logging: stderr only, one line per record (json: one object), redaction on in both formats."""
    configure_logging(Settings(logging=LoggingSettings(format=fmt, level="debug")))  # type: ignore[arg-type]
    configure_logging(Settings(logging=LoggingSettings(format=fmt, level="debug")))  # type: ignore[arg-type]
    with bound(case_id=CASE_ID):
        get_logger("test").debug("noted", seq=7, petitioners=[{"name": "Lê Thị B"}], remark="gọi 0912345678")
        logging.getLogger("kntc.plain").warning("mail to %s failed", "b@c.vn")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2  # configured twice: still one handler
    for secret in ("Lê Thị B", "0912345678", "b@c.vn"):
        assert secret not in err
    if fmt == "json":
        first, second = (json.loads(line) for line in lines)
        assert first["event"] == "noted" and first["level"] == "debug" and first["logger"] == "kntc.test"
        assert (first["case_id"], first["seq"], first["petitioners"]) == (CASE_ID, 7, REDACTED)
        assert second["event"] == f"mail to {REDACTED} failed" and second["case_id"] == CASE_ID
    else:
        assert lines[0].endswith(f"[debug  ] noted case_id={CASE_ID} seq=7 petitioners={REDACTED} "
                                 f"remark=gọi {REDACTED}")
        assert f"mail to {REDACTED} failed case_id={CASE_ID}" in lines[1]


def test_the_formatter_writes_the_redacted_exception_text() -> None:
    """An exception's text is written as the filter redacted it, under its line."""
    record = _record("failed", kntc_event="failed", kntc_fields={})
    try:
        raise RuntimeError("bounce from a@b.vn")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = LogFormatter("console", UTC).format(record)
    assert "a@b.vn" not in text and f"RuntimeError: bounce from {REDACTED}" in text
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(record)  # another host's formatter reads the same redacted exc_text
    assert "a@b.vn" not in stream.getvalue()
