"""Personal data out of log lines: every kntc log record passes through :func:`redact_fields`.

Two rules, applied to every field of a line, nested mappings, sequences and dataclasses too:

- by key: the value of a key that names personal data (``name``, ``full_name``, ``petitioner(s)``,
  ``id_number``, ``address``, ``phone``, ``email``, ``content``, ``subject``, ``respondent``, an
  event's ``payload``, free-text ``reason`` or ``note``, and compounds such as
  ``petitioner_name`` or ``home_address``) is replaced whole by :data:`REDACTED`, whatever it holds;
- by pattern, in any text: e-mail addresses, Vietnamese phone numbers (``0xxxxxxxxx``,
  ``+84 ...``, ``0084...``, with spaces, dots or dashes) and 9- or 12-digit id numbers (CMND,
  CCCD) become :data:`REDACTED`.

What a line is for survives: case ids (hex uuids), seqs and counts (numbers are not text),
ISO dates and times, deadline and event names. The rules are pure functions; the
patterns compile at their first use, not at import.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import cache
from typing import Any

__all__ = ["REDACTED", "is_sensitive_key", "normalize_key", "redact_fields", "redact_text", "redact_value"]

#: What a redacted value reads as.
REDACTED = "[redacted]"

#: Keys whose value is personal data, whatever it holds (normalized: lower case, ``_`` separated).
SENSITIVE_KEYS = frozenset({
    "name", "full_name", "fullname", "first_name", "last_name", "given_name", "family_name", "display_name",
    "petitioner", "petitioners", "denouncer", "denouncers", "complainant", "complainants", "party", "parties",
    "id_number", "id_no", "idno", "identity_number", "national_id", "cmnd", "cccd", "passport",
    "address", "phone", "phone_number", "mobile", "tel", "email", "e_mail", "email_address",
    "content", "subject", "respondent", "body", "text",
    # free text an officer enters (an event's payload, its reasons) may name anyone
    "payload", "reason", "note", "notes", "comment", "comments", "description",
})
#: Key endings that name personal data (``petitioner_name``, ``home_address``, ``contact_phone``).
SENSITIVE_SUFFIXES = ("_name", "_full_name", "_id_number", "_address", "_phone", "_phone_number", "_email",
                      "_petitioner", "_petitioners", "_respondent", "_cccd", "_cmnd")
#: Keys ending like a sensitive key that are not personal data: kntc's own names of things.
SAFE_KEYS = frozenset({
    "event_name", "deadline_name", "workflow_name", "state_name", "channel_name", "job_name", "kind_name",
    "logger_name", "rung_name", "template_name", "file_name", "filename", "host_name", "hostname",
})

_SCALARS = (int, float, bool, date, datetime, time, timedelta, Enum, type(None))


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    # digits may be grouped by a space, a dot or a dash; never inside a word, a hex id or a dashed uuid
    sep = r"[ .\-]?"
    edge_l, edge_r = r"(?<![\w\-.+@])", r"(?![\w\-@]|\.\d)"
    email = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
    phone = re.compile(edge_l + r"(?:\+84|0084|\(\+84\)|0)" + sep + r"\d" + rf"(?:{sep}\d){{7,9}}" + edge_r)
    ident = re.compile(edge_l + r"(?:\d{12}|\d{9})" + edge_r)
    return email, phone, ident


def normalize_key(key: object) -> str:
    """``key`` as the rules compare it: text, camelCase split, lower case, ``-``/``.``/space as ``_``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(key))
    return re.sub(r"[\s.\-]+", "_", text).lower()


def is_sensitive_key(key: object) -> bool:
    """Whether a field named ``key`` holds personal data (then its whole value is redacted)."""
    name = normalize_key(key)
    if name in SAFE_KEYS:
        return False
    return name in SENSITIVE_KEYS or name.endswith(SENSITIVE_SUFFIXES) or name.startswith("petitioner")


def redact_text(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and id numbers replaced by :data:`REDACTED`."""
    if not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # the common case: nothing any pattern could match
    folded = unicodedata.normalize("NFKC", text)  # decomposed letters, full-width digits: read as usual
    found = 0
    for pattern in _patterns():
        folded, count = pattern.subn(REDACTED, folded)
        found += count
    return folded if found else text


def redact_value(value: Any) -> Any:
    """``value`` with personal data redacted: texts by pattern, mappings by key then value, recursively.

    Numbers, dates, booleans and None pass unchanged; a dataclass or a pydantic model reads as
    the mapping of its fields; any other object as its text (then by pattern).
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return redact_fields(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact_fields({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    dump = getattr(value, "model_dump", None)  # a pydantic model (a Party): its fields, by key
    if callable(dump) and not isinstance(value, type):
        dumped = dump()
        if isinstance(dumped, Mapping):
            return redact_fields(dumped)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return REDACTED
    return redact_text(str(value))


def redact_fields(fields: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``fields``: sensitive keys' values replaced by :data:`REDACTED`, the others redacted inside."""
    return {key: REDACTED if is_sensitive_key(key) else redact_value(value) for key, value in fields.items()}
