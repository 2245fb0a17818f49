"""Citizen reception use cases: a matter received at a visit becomes a letter; refusals with their article.

:func:`take_letter` fires ``take_letter`` on a ``reception`` visit and opens the ``letter`` (or
another kind) it yields in ONE transaction, through the same pipeline as
:meth:`engine.service.Engine.fire` and :meth:`~engine.service.Engine.open_case`
(:func:`engine.commands.decide` / :func:`~engine.commands.decide_open`, then
:func:`engine.pipeline.commit`): the letter has channel ``reception``, the visit's date and
time of receipt and ``reception_case`` naming the visit, and the visit's history entry names
the letter (``letter_case``). The letter is placed in its content group by the reactors of
``case.opened`` like any other, and carries the 10-working-day reply to the visitor
(``letter.reply_visitor``, LTCD Điều 28 k1), met by the letter's outcome, not by closing the visit.

:data:`REFUSAL_GROUNDS` is the closed list of refusal grounds (workflows/reception.yaml
``refuse`` / ``refuse_persistent`` payload ``ground``), each with its article;
:func:`refusal_payload` builds the payload that records both in the history.
Nothing here reads a clock or the network: the moment is the runtime's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.commands import decide, decide_open
from engine.errors import ConflictError, ValidationError
from engine.group_facts import group_names, reads_group
from engine.inputs import CaseInput, require_int, require_text
from engine.pipeline import commit
from engine.runtime import Runtime

__all__ = ["PERSISTENT_GROUNDS", "REFUSAL_GROUNDS", "LetterTaken", "RefusalGround", "refusal_payload",
           "take_letter"]

#: The workflow a visit is recorded in, and the event of a matter taken as a letter.
RECEPTION = "reception"
TAKE_LETTER = "take_letter"


@dataclass(frozen=True, slots=True)
class RefusalGround:
    """A ground for refusing to receive a citizen: its article, and from when it exists (None: always)."""

    article: str
    label: str
    since: str | None = None  # ISO date the ground came into force


_ND154 = "2026-07-01"  # NĐ 154/2026 replaces NĐ 64/2014 (Điều 44)
# The letter (a..h) of NĐ 154/2026 Điều 4 k1 holding each added ground is not verified (DOMAIN-2026 §5, M).
_ND154_K1 = "LTCD Điều 9 k4; NĐ 154/2026 Điều 4 k1"

#: Every refusal ground, keyed by the code the ``ground`` payload takes (workflows/reception.yaml).
REFUSAL_GROUNDS: Mapping[str, RefusalGround] = {
    "intoxicated_or_incapacitated": RefusalGround(
        "LTCD Điều 9 k1", "Người say do dùng chất kích thích, mắc bệnh làm mất khả năng nhận thức, điều khiển hành vi"),
    "threat_or_breach_of_rules": RefusalGround(
        "LTCD Điều 9 k2", "Đe dọa, xúc phạm người tiếp công dân hoặc vi phạm nội quy nơi tiếp công dân"),
    "persistent_after_resolution": RefusalGround(
        "LTCD Điều 9 k3; NĐ 154/2026 Điều 4 k1 h",
        "Khiếu nại, tố cáo kéo dài về vụ việc đã giải quyết đúng pháp luật, đã được rà soát, trả lời bằng văn bản"),
    "other_legal_ground": RefusalGround("LTCD Điều 9 k4", "Trường hợp khác theo quy định của pháp luật"),
    "weapons_not_deposited": RefusalGround(_ND154_K1, "Mang vũ khí, vật dụng nguy hiểm không gửi", _ND154),
    "refused_security_check": RefusalGround(_ND154_K1, "Không chấp hành kiểm tra an ninh", _ND154),
    "unauthorised_recording": RefusalGround(_ND154_K1, "Ghi âm, ghi hình, phát trực tiếp trái phép sau khi được nhắc",
                                            _ND154),
    "incitement_or_disorder": RefusalGround(_ND154_K1, "Kích động, gây rối trật tự", _ND154),
    "incapable_without_representative": RefusalGround(_ND154_K1, "Mất năng lực hành vi mà không có người đại diện",
                                                      _ND154),
    "representative_without_proof": RefusalGround(_ND154_K1, "Người đại diện không có giấy tờ chứng minh", _ND154),
    "outside_scope": RefusalGround(_ND154_K1, "Nội dung không thuộc phạm vi tiếp công dân", _ND154),
    "answered_without_new_facts": RefusalGround(
        _ND154_K1, "Kiến nghị, phản ánh đã được trả lời, không có tình tiết mới", _ND154),
    "final_court_judgment": RefusalGround(
        _ND154_K1, "Bản án, quyết định của Tòa án đã có hiệu lực, không thuộc diện xem xét lại", _ND154),
    "pending_elsewhere": RefusalGround(_ND154_K1, "Vụ việc đang được cơ quan có thẩm quyền khác giải quyết", _ND154),
}

#: The grounds of ``refuse_persistent`` (written notice, NĐ 154/2026 Điều 4 k3); the others are ``refuse``.
PERSISTENT_GROUNDS = frozenset({"persistent_after_resolution"})


def refusal_payload(ground: str, reason: str, *, persistent: bool = False) -> dict[str, Any]:
    """The payload of ``refuse`` (or ``refuse_persistent``) recording ``ground`` and its article.

    ``reason``: the officer's explanation (no personal data). An unknown ground, or one of the
    other event's list, is refused naming ``payload.ground``.
    """
    require_text("payload.reason", reason)
    allowed = PERSISTENT_GROUNDS if persistent else frozenset(REFUSAL_GROUNDS) - PERSISTENT_GROUNDS
    if ground not in allowed:
        event = "refuse_persistent" if persistent else "refuse"
        raise ValidationError("payload.ground", f"{ground!r} is not a ground of {event!r} "
                                                f"(one of: {', '.join(sorted(allowed))})")
    return {"ground": ground, "article": REFUSAL_GROUNDS[ground].article, "reason": reason}


@dataclass(frozen=True, slots=True)
class LetterTaken:
    """What :func:`take_letter` wrote: the visit and the case opened from the matter."""

    reception_id: str
    letter_id: str


def take_letter(rt: Runtime, reception_id: str, *, actor: str, role: str, subject: str, content: str,
                respondent: str, petitioners: Sequence[Mapping[str, Any]], kind: str = "letter",
                fields: Mapping[str, Any] | None = None, expected_version: int | None = None) -> LetterTaken:
    """Fire ``take_letter`` on visit ``reception_id`` and open the ``kind`` case of its matter, in one transaction.

    The new case has channel ``reception``, the visit's moment of receipt and (when its workflow
    declares it) ``reception_case``; the visit's entry records ``letter_case``. A refusal of
    either (the visit not ``heard``, a bad subject, a stale ``expected_version``) writes nothing.
    """
    require_text("actor", actor)
    require_text("role", role)
    if expected_version is not None:
        require_int("expected_version", expected_version, 1)
    compiled_letter = rt.workflow(kind)
    now = rt.now()
    with rt.store.transaction() as tx:
        visit = rt.load(tx, reception_id, for_update=True)
        if visit.kind != RECEPTION:
            raise ValidationError("reception_id", f"case {visit.id} is a {visit.kind!r} case, not a reception visit")
        if expected_version is not None and expected_version != visit.version:
            raise ConflictError(visit.id, expected_version, visit.version)
        data = CaseInput.parse(received_at=visit.received_at, petitioners=petitioners, respondent=respondent,
                               subject=subject, content=content, channel="reception", now=now,
                               limits=rt.limits)
        rt.limits.check_fields(fields)
        values = dict(fields or {})
        if "reception_case" in compiled_letter.definition.fields:
            values["reception_case"] = visit.id
        letter = decide_open(compiled_letter, rt.keeper(compiled_letter), case_id=rt.new_id(), data=data,
                             fields=values, actor=actor, role=role, now=now)
        compiled_visit = rt.workflow_of(tx, visit)
        group = group_names(tx, visit, rt.calendar, compiled_visit) if reads_group(compiled_visit) else None
        taken = decide(compiled_visit, rt.keeper(compiled_visit), visit, tx.get_deadlines(visit.id), TAKE_LETTER,
                       actor=actor, role=role, payload={"letter_case": letter.record.id}, now=now, group=group)
        commit(rt, tx, taken)
        commit(rt, tx, letter)
        return LetterTaken(reception_id=visit.id, letter_id=letter.record.id)
