"""Content groups, the pure part: normalised text, signatures, LSH bands, confirmation, hot-spot rules.

No I/O here (DESIGN.md §6). A letter's *signature* is computed from its normalised text
(:func:`normalise`: Unicode NFD with combining marks dropped, đ/Đ as d, lower case, punctuation
as spaces), so a letter typed without Vietnamese diacritics reads the same as one typed with
them. The text is cut into word shingles (:data:`SHINGLE_WORDS` words; a shorter text is one
shingle) and summarised by a MinHash of :data:`PERMUTATIONS` values. The MinHash is the
*one-permutation* kind (Li, Owen & Zhang 2012, densified by rotation as in Shrivastava & Li 2014):
each shingle is hashed once with ``blake2b`` (64 bits, stable across processes), its low bits pick
a bin and the rest is its value, each bin keeps its minimum, and an empty bin borrows the next
filled one's. It estimates the Jaccard similarity of shingle sets like a classic MinHash, for one
hash per shingle instead of one per shingle and permutation (a 2,000-character letter costs
≈ 0.1 ms, not ≈ 2 ms, without numpy).

The values are cut into :data:`BANDS` bands of :data:`ROWS` rows; each band's key is stored in an
indexed table, so the letters sharing a band with a new one come from an index lookup
(locality-sensitive hashing: two letters of Jaccard similarity s share a band with probability
``1 - (1 - s**4)**16``: 0.64 at s = 0.5, 0.98 at 0.7). A candidate is then *confirmed*
(:func:`confirm`) by a second measure, rapidfuzz's ``token_set_ratio`` over the normalised texts
(word order does not matter), together with a similar respondent and comparable lengths.

:mod:`engine.hot_spot_rules` computes the group hot spots of a group's members from the
:class:`GroupMember` rows and the :class:`GroupingPolicy` defined here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import ValidationError
from engine.inputs import LEVELS

__all__ = [
    "BANDS",
    "GROUP_HOT_SPOT_TYPES",
    "PERMUTATIONS",
    "ROWS",
    "RULE_ROLE",
    "SHINGLE_WORDS",
    "SIGNATURE_VERSION",
    "Candidate",
    "Detection",
    "GroupMember",
    "GroupingPolicy",
    "HotSpotRecord",
    "Signature",
    "confirm",
    "decode_signature",
    "encode_signature",
    "jaccard",
    "may_confirm",
    "minhash",
    "normalise",
    "respondent_key",
    "shingles",
    "signature",
    "workflow_states",
]

#: words per shingle
SHINGLE_WORDS = 3
#: LSH shape: BANDS bands of ROWS values (the MinHash has BANDS * ROWS values)
BANDS = 16
ROWS = 4
PERMUTATIONS = BANDS * ROWS
_BIN_BITS = 6  # 2**6 == PERMUTATIONS bins
_BIN_MASK = (1 << _BIN_BITS) - 1
_EMPTY = 1 << 64
#: the format of a stored MinHash (:func:`encode_signature`): bump it whenever normalising,
#: shingling or hashing changes, so stored values from before are recomputed, never compared
SIGNATURE_VERSION = 1
_STORED_EMPTY = (1 << 64) - 1  # an empty bin, stored (a filled bin's value has 58 bits)
#: the types of hot spot computed from a group's members, in the order a refresh reports them
#: (the same names as engine.periods.HOT_SPOT_TYPES)
GROUP_HOT_SPOT_TYPES = ("crowded", "early_crowded", "complex", "prolonged", "skip_level", "circular_forwarding")

#: the role the rule "a crowded complaint is complex" fires ``mark_complex`` as (the workflows let
#: only timers fire as ``system``; the head of unit makes the written complexity finding)
RULE_ROLE = "head_of_unit"

# combining marks: the Vietnamese tones and vowel marks after NFD (đ/Đ, which NFD keeps whole, apart)
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NOT_WORD = re.compile(r"[\W_]+")
# administrative abbreviations a respondent is written with either way
_RESPONDENT_WORDS = (("uy ban nhan dan", "ubnd"), ("hoi dong nhan dan", "hdnd"), ("thanh pho", "tp"))


@dataclass(frozen=True, slots=True)
class GroupingPolicy:
    """Thresholds of content groups and their hot spots (``config.yaml``'s ``grouping``, wired by the integrator).

    ``similarity``: the least estimated Jaccard similarity (MinHash) of two letters' shingles for
    them to be candidates of the same matter; ``confirm_ratio``: the least rapidfuzz
    ``token_set_ratio`` (0-100) of their normalised texts; ``respondent_ratio``: the least
    ``token_set_ratio`` of their normalised respondents; ``length_ratio``: the least ratio of the
    shorter text's word count to the longer's (a short generic letter never joins a long one);
    ``max_candidates``: how many groups are confirmed at most per new letter; ``window_days``: the
    window in which a group's petitioners are counted; ``crowded_threshold``: petitioners (one
    letter's signatories, or a group's distinct cases' petitioners summed) that make a group
    ``crowded``; ``early_threshold``: the count that raises ``early_crowded``, the early warning;
    ``prolonged_overdues``: the ``deadline.overdue`` events (over the group's cases) that make it
    ``prolonged``; ``prolonged_open_days``: a member received more than this many days before now
    and still open makes its group ``prolonged``; ``own_level``: the organisation's level
    (engine.inputs.LEVELS: a letter forwarded from a higher one is ``skip_level``);
    ``final_states``: by workflow kind, the states in which a case is closed (with ``resolved_at``
    they decide whether a member is still open); ``complex_states``: by kind, the states in which
    :data:`RULE_ROLE` may fire ``mark_complex`` (where the rule "a crowded complaint is complex"
    may act). The last two come from the compiled workflows (:func:`workflow_states`).
    """

    similarity: float = 0.5
    confirm_ratio: float = 80.0
    respondent_ratio: float = 85.0
    length_ratio: float = 0.5
    max_candidates: int = 5
    window_days: int = 7
    crowded_threshold: int = 5
    early_threshold: int = 3
    prolonged_overdues: int = 2
    prolonged_open_days: int = 365
    own_level: str = "department"
    final_states: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    complex_states: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        for name in ("similarity", "length_ratio"):
            if not 0 < getattr(self, name) <= 1:
                raise ValidationError(f"grouping.{name}", f"lies in (0, 1], got {getattr(self, name)!r}")
        for name in ("confirm_ratio", "respondent_ratio"):
            if not 0 < getattr(self, name) <= 100:
                raise ValidationError(f"grouping.{name}", f"lies in (0, 100], got {getattr(self, name)!r}")
        if self.window_days <= 0:
            raise ValidationError("grouping.window_days", f"must be at least 1, got {self.window_days!r}")
        if self.prolonged_open_days < 1:
            raise ValidationError("grouping.prolonged_open_days",
                                  f"must be at least 1, got {self.prolonged_open_days!r}")
        if self.own_level not in LEVELS:
            raise ValidationError("grouping.own_level", f"must be one of {', '.join(LEVELS)}, got {self.own_level!r}")
        if self.max_candidates < 1:
            raise ValidationError("grouping.max_candidates", f"must be at least 1, got {self.max_candidates!r}")
        for name in ("crowded_threshold", "early_threshold", "prolonged_overdues"):
            if getattr(self, name) < 2:
                raise ValidationError(f"grouping.{name}", f"must be at least 2, got {getattr(self, name)!r}")
        if self.early_threshold >= self.crowded_threshold:
            raise ValidationError("grouping.early_threshold", f"must be below crowded_threshold "
                                  f"({self.crowded_threshold}), got {self.early_threshold!r}")


@dataclass(frozen=True, slots=True)
class Signature:
    """A letter's normalised text, its MinHash values and its LSH band keys."""

    text: str
    words: int
    values: tuple[int, ...]
    bands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored case sharing ``matches`` band keys with a new letter, and its group.

    What confirming it needs comes with it (read in the same statement): its stored signature
    (:func:`encode_signature`; None when stored before it was kept), respondent, subject and
    content (None: the store did not read them, the case is to be read).
    """

    case_id: str
    group_id: str
    matches: int
    signature: bytes | None = None
    respondent: str | None = None
    subject: str = ""
    content: str = ""


@dataclass(frozen=True, slots=True)
class GroupMember:
    """What hot-spot rules read of a group's case (no names: those stay with the case's parties).

    ``resolved_at``: when the case was resolved (decided, concluded, answered; None: not yet);
    ``overdues``: how many of its deadlines ran out unmet (``deadline.overdue``), cycles included.
    """

    case_id: str
    received_at: datetime
    petitioner_count: int
    state: str
    kind: str
    channel: str
    resolved_at: datetime | None = None
    overdues: int = 0
    #: {"body", "level"} of a forwarded letter (engine.inputs.LEVELS), else None
    forwarded_from: Mapping[str, str] | None = None
    #: the bodies this case was transferred to (``transfer`` events' ``to_body``), in order
    transferred_to: tuple[str, ...] = ()
    #: the case's stored flags (CaseRecord.flags): officers' and rules' marks such as complex
    flags: tuple[Mapping[str, Any], ...] = ()
    #: the case's workflow fields (e.g. a reception's ``delegation_size``)
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class HotSpotRecord:
    """The stored row of a hot spot: one per group and type, open while its rule still holds."""

    id: str
    type: str
    group_id: str
    case_ids: list[str]
    reasons: list[dict[str, Any]]
    detected_at: datetime
    updated_at: datetime
    is_open: bool = True


@dataclass(frozen=True, slots=True)
class Detection:
    """A hot-spot rule that holds for a group now: the cases it counts and why."""

    type: str
    case_ids: tuple[str, ...]
    reasons: tuple[dict[str, Any], ...] = field(default_factory=tuple)


class _Folded(dict[int, str]):
    """Code point -> what :func:`normalise` makes of it, filled as characters are met (``str.translate``)."""

    def __missing__(self, code: int) -> str:
        plain = _MARKS.sub("", unicodedata.normalize("NFD", chr(code))).lower().replace("đ", "d")
        folded = _NOT_WORD.sub(" ", plain)
        if len(self) < 20_000:  # bounded: a text of unusual characters does not grow it without end
            self[code] = folded
        return folded


_FOLDED = _Folded()


def normalise(text: str) -> str:
    """``text`` without diacritics (đ -> d), in lower case, punctuation as spaces, single-spaced.

    Character by character (NFD, marks dropped, lower case, đ -> d, a non-word character as a
    space), each character's result kept, then single-spaced: the same text as doing it to the
    whole string, in one ``str.translate``. A text with a capital sigma goes the long way, since
    lower-casing it depends on its neighbours (a word-final ς).
    """
    if "\u03a3" in text:
        plain = _MARKS.sub("", unicodedata.normalize("NFD", text)).lower().replace("đ", "d")
        return _NOT_WORD.sub(" ", plain).strip()
    return " ".join(text.translate(_FOLDED).split())


def respondent_key(respondent: str) -> str:
    """The respondent as compared: normalised, common administrative names abbreviated (ubnd, hdnd)."""
    key = normalise(respondent)
    for long, short in _RESPONDENT_WORDS:
        key = key.replace(long, short)
    return key


def shingles(words: Sequence[str], k: int = SHINGLE_WORDS) -> set[str]:
    """The ``k``-word shingles of ``words``; a text shorter than ``k`` words is one shingle (none if empty)."""
    if len(words) < k:
        return {" ".join(words)} if words else set()
    if k == 3:  # the usual size, without a slice per shingle
        return {f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)}
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def minhash(items: Iterable[str]) -> tuple[int, ...]:
    """The one-permutation MinHash (:data:`PERMUTATIONS` values) of a set of strings (densified)."""
    return _densify(_bins(items))


def _bins(items: Iterable[str]) -> list[int]:
    """Each bin's least value over ``items`` (``_EMPTY`` where no item fell)."""
    bins = [_EMPTY] * PERMUTATIONS
    blake, from_bytes = hashlib.blake2b, int.from_bytes
    for item in items:
        h = from_bytes(blake(item.encode(), digest_size=8).digest(), "little")
        b, v = h & _BIN_MASK, h >> _BIN_BITS
        if v < bins[b]:
            bins[b] = v
    return bins


def _densify(bins: Sequence[int]) -> tuple[int, ...]:
    if all(v == _EMPTY for v in bins):
        return tuple(bins)
    out = list(bins)
    for i, v in enumerate(bins):
        if v == _EMPTY:  # rotation: the next filled bin's value, offset by the distance
            d = 1
            while bins[(i + d) % PERMUTATIONS] == _EMPTY:
                d += 1
            out[i] = bins[(i + d) % PERMUTATIONS] + d * _EMPTY
    return tuple(out)


def encode_signature(sig: Signature) -> bytes:
    """What is stored of a grouped case's signature: version, word count and the MinHash bins (517 bytes).

    The bins are kept before densification (8 bytes each); :func:`decode_signature` redoes it.
    """
    bins = [v if v < _EMPTY else _STORED_EMPTY for v in sig.values]  # a borrowed value is >= _EMPTY
    return bytes([SIGNATURE_VERSION]) + min(sig.words, 0xFFFFFFFF).to_bytes(4, "little") + \
        b"".join(v.to_bytes(8, "little") for v in bins)


def decode_signature(blob: bytes | None) -> tuple[int, tuple[int, ...]] | None:
    """(word count, MinHash values) of a stored signature; None if absent or of another version."""
    if not blob or len(blob) != 5 + 8 * PERMUTATIONS or blob[0] != SIGNATURE_VERSION:
        return None
    words = int.from_bytes(blob[1:5], "little")
    bins = [int.from_bytes(blob[i:i + 8], "little") for i in range(5, len(blob), 8)]
    return words, _densify([_EMPTY if v == _STORED_EMPTY else v for v in bins])


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The Jaccard similarity two MinHashes estimate (the share of equal values)."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def _bands(values: Sequence[int]) -> tuple[str, ...]:
    keys = []
    for band in range(BANDS):
        chunk = ",".join(map(str, values[band * ROWS:(band + 1) * ROWS])).encode()
        keys.append(f"{band:02d}{hashlib.blake2b(chunk, digest_size=10).hexdigest()}")
    return tuple(keys)


def signature(text: str) -> Signature:
    """The signature of a letter's text (subject and content together)."""
    norm = normalise(text)
    words = norm.split()
    values = minhash(shingles(words))
    return Signature(text=norm, words=len(words), values=values, bands=_bands(values))


def may_confirm(new: Signature, new_respondent: str, other_words: int, other_values: Sequence[int],
                other_respondent: str, policy: GroupingPolicy) -> bool:
    """Whether a stored case passes :func:`confirm`'s cheap checks (lengths, respondent, MinHash) on what is stored.

    ``other_words`` and ``other_values``: its word count and MinHash (:func:`decode_signature`);
    its text is not needed, so a candidate that fails here is never normalised.
    """
    from rapidfuzz import fuzz  # ≈ 14 ms to import: only where a letter is grouped, not at CLI start

    if not new.words or not other_words:
        return False
    if min(new.words, other_words) / max(new.words, other_words) < policy.length_ratio:
        return False
    if new_respondent != other_respondent and \
            fuzz.token_set_ratio(new_respondent, other_respondent) < policy.respondent_ratio:
        return False
    return jaccard(new.values, other_values) >= policy.similarity


def confirm(new: Signature, new_respondent: str, other: Signature, other_respondent: str,
            policy: GroupingPolicy) -> float | None:
    """The confirm score (rapidfuzz ``token_set_ratio``, 0-100) if ``other`` is about the same matter, else None.

    Same matter: a similar respondent (keys from :func:`respondent_key`), comparable lengths, an
    estimated Jaccard similarity of at least ``policy.similarity`` (:func:`may_confirm`) and a
    confirm score of at least ``policy.confirm_ratio``.
    """
    from rapidfuzz import fuzz

    if not may_confirm(new, new_respondent, other.words, other.values, other_respondent, policy):
        return None
    score = float(fuzz.token_set_ratio(new.text, other.text))
    return score if score >= policy.confirm_ratio else None


def workflow_states(workflows: Mapping[str, Any]) -> dict[str, dict[str, frozenset[str]]]:
    """``final_states`` and ``complex_states`` for :class:`GroupingPolicy`, read from compiled workflows.

    ``workflows``: name -> engine.machines.CompiledWorkflow (as ``Runtime.workflows``). Use as
    ``dataclasses.replace(policy, **workflow_states(workflows))``.
    """
    final: dict[str, frozenset[str]] = {}
    complex_: dict[str, frozenset[str]] = {}
    for name, compiled in workflows.items():
        defn = compiled.definition
        final[name] = frozenset(s for s, spec in defn.states.items() if spec.final)
        states = frozenset(state for t in defn.transitions if t.event == "mark_complex" and RULE_ROLE in t.roles
                           for state in defn.sources(t))
        if states:
            complex_[name] = states
    return {"final_states": final, "complex_states": complex_}
