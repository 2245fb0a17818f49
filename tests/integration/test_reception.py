"""Citizen reception (DOMAIN.md §7, §13.6–13.7; DOMAIN-2026 §5, §7): delegations, matters taken as letters, refusals.

workflows/reception.yaml and engine/reception.py: a wrong count of representatives is refused citing LTCD Điều 29;
a delegation without representatives is not heard; each matter taken at a visit opens, in the same transaction, a
linked letter in its content group that carries the 10-working-day reply (LTCD Điều 28 k1), met by the reply and not
by closing the visit; a refusal records its ground and its article. Dates are counted by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine import Case, Engine, NotAllowedError, ValidationError
from engine.errors import DefinitionError, ReactionError
from engine.groups import grouping_reactors
from engine.loader import parse_definition
from engine.reactors import Effect, Reaction
from engine.reception import PERSISTENT_GROUNDS, REFUSAL_GROUNDS, refusal_payload, take_letter
from engine.testing import ManualClock
from tests.integration.engines import with_reactors
from tests.legal_desk import ACTORS, TZ, BaseDesk, at
from tests.letters import RESPONDENT, SAME_MATTER

VISITOR = [{"name": "Người đại diện"}]


class Desk(BaseDesk):
    """Visits received at the reception office."""

    def visit(self, received: datetime, **fields: Any) -> Case:
        """A visit (a delegation when ``delegation_size`` >= 5) checked in at ``received``."""
        return self.open_case("reception", received, channel="reception", fields=fields)

    def heard(self, received: datetime) -> Case:
        """A single visitor checked in, identified and heard at ``received``."""
        case = self.visit(received)
        case = self.fire(case, "verify_identity", received, "clerk")
        return self.fire(case, "hear", received, "inspector")


@pytest.fixture
def desk() -> Desk:
    return Desk(at(2026, 3, 2))


def requested(desk: Desk, size: int) -> Case:
    """A delegation of ``size`` asked on Mon 02/03/2026 to appoint its representatives."""
    case = desk.visit(at(2026, 3, 2, 8, 30), delegation_size=size)
    return desk.fire(case, "request_representatives", at(2026, 3, 2, 8, 40), "clerk")


# ===================================================================== representatives (LTCD Điều 29)


@pytest.mark.parametrize(("size", "count"), [(5, 1), (5, 2), (10, 2), (12, 5), (11, 1)])
def test_a_count_within_dieu_29_is_appointed(desk: Desk, size: int, count: int) -> None:
    case = desk.fire(requested(desk, size), "appoint_representatives", at(2026, 3, 2, 9), "clerk", count=count)
    assert case.state == "representatives_appointed"
    assert desk.fire(case, "verify_identity", at(2026, 3, 2, 9, 5), "clerk").state == "identity_verified"


@pytest.mark.parametrize(("size", "count"), [(5, 3), (10, 3), (12, 6), (7, 0), (12, 0)])
def test_a_wrong_count_is_refused_citing_dieu_29(desk: Desk, size: int, count: int) -> None:
    """5–10 people: 1–2 representatives; more than 10: at most 5; none is never a count. Nothing changes."""
    case = requested(desk, size)
    refusal = desk.refusal(case, "appoint_representatives", at(2026, 3, 2, 9), "clerk", count=count)
    assert refusal.why == "guard"
    message = str(refusal)
    assert "'representatives_requested'" in message and "'appoint_representatives'" in message
    assert "LTCD Điều 29" in message and "1–2" in message and "tối đa 5" in message
    assert desk.get(case).state == "representatives_requested"


def test_a_delegation_declaring_no_representatives_is_refused_at_opening(desk: Desk) -> None:
    """``representatives: 0`` names the field; no case is opened, nothing is in the feed."""
    with pytest.raises(ValidationError) as refusal:
        desk.visit(at(2026, 3, 2, 9), delegation_size=6, representatives=0)
    assert refusal.value.field == "fields.representatives"
    assert "\n" not in str(refusal.value)
    assert desk.engine.events() == []


def test_a_delegation_without_representatives_is_not_heard_before_appointing(desk: Desk) -> None:
    case = desk.visit(at(2026, 3, 2, 9), delegation_size=8)
    refusal = desk.refusal(case, "verify_identity", at(2026, 3, 2, 9, 5), "clerk")
    assert refusal.why == "guard" and "LTCD Điều 29" in str(refusal)
    assert desk.refused(case, "hear", at(2026, 3, 2, 9, 5), "inspector") == "state"
    case = desk.fire(case, "request_representatives", at(2026, 3, 2, 9, 10), "clerk")
    assert desk.refused(case, "verify_identity", at(2026, 3, 2, 9, 15), "clerk") == "state"
    case = desk.fire(case, "appoint_representatives", at(2026, 3, 2, 9, 30), "clerk", count=2)
    case = desk.fire(case, "verify_identity", at(2026, 3, 2, 9, 35), "clerk")
    assert desk.fire(case, "hear", at(2026, 3, 2, 9, 40), "head_of_unit").state == "heard"


def test_representatives_appointed_before_arrival_are_counted_too(desk: Desk) -> None:
    """Seven people arriving with three appointed in writing: too many for 5–10 people (at most 2)."""
    case = desk.visit(at(2026, 3, 2, 9), delegation_size=7, representatives=3)
    assert "LTCD Điều 29" in str(desk.refusal(case, "verify_identity", at(2026, 3, 2, 9, 5), "clerk"))
    case = desk.visit(at(2026, 3, 2, 10), delegation_size=7, representatives=2)
    assert desk.fire(case, "verify_identity", at(2026, 3, 2, 10, 5), "clerk").state == "identity_verified"


def test_a_guard_message_without_a_guard_is_a_load_error_naming_the_line() -> None:
    text = """\
name: w
label: W
initial: a
states: {a: {label: A}, b: {label: B, final: true}}
transitions:
  - event: go
    from: a
    to: b
    roles: [clerk]
    guard_message: "never shown"
"""
    with pytest.raises(DefinitionError, match="guard_message") as refusal:
        parse_definition(text, source="w.yaml")
    assert refusal.value.line == 6


# ===================================================================== a matter taken as a letter


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The fixture's engine (every store) with the content-group reactors."""
    return with_reactors(engine, grouping_reactors())


def heard_visit(eng: Engine, clock: ManualClock) -> Case:
    """A visitor checked in on Mon 02/03/2026 09:00 (the clock's start), identified and heard at once."""
    case = eng.open_case("reception", received_at=clock.now(), petitioners=VISITOR, respondent=RESPONDENT,
                         subject=SAME_MATTER[0][0], channel="reception")
    eng.fire(case.id, "verify_identity", actor=ACTORS["clerk"], role="clerk")
    return eng.fire(case.id, "hear", actor=ACTORS["inspector"], role="inspector")


def taken(eng: Engine, visit: Case, index: int = 0, **extra: Any) -> tuple[Case, Case]:
    subject, content = SAME_MATTER[index]
    args: dict[str, Any] = {"subject": subject, "content": content, "respondent": RESPONDENT,
                            "petitioners": VISITOR, **extra}
    done = take_letter(eng.runtime, visit.id, actor=ACTORS["clerk"], role="clerk", **args)
    return eng.get(done.reception_id), eng.get(done.letter_id)


def group_of(eng: Engine, case_id: str) -> str | None:
    with eng.runtime.store.reader() as tx:
        return tx.case_group(case_id)


def test_take_letter_opens_a_linked_letter_in_its_group_with_the_10_wd_reply(eng: Engine, clock: ManualClock) -> None:
    """Visit Mon 02/03/2026: Tue 03 (1), Wed 04 (2), Thu 05 (3), Fri 06 (4) | weekend | Mon 09 (5) .. Fri 13 (9)
    | weekend | Mon 16/03 (10): the reply is due by the end of Mon 16/03/2026 (no holiday in March 2026)."""
    earlier = eng.open_case("letter", received_at=at(2026, 2, 23, 9), petitioners=[{"name": "Người khác"}],
                            respondent=RESPONDENT, subject=SAME_MATTER[3][0], content=SAME_MATTER[3][1])
    visit = heard_visit(eng, clock)
    visit, letter = taken(eng, visit)
    assert visit.state == "letter_taken"
    assert visit.deadlines["reply"].status == "met"  # the letter carries the reply now
    assert eng.history(visit.id)[-1].payload == {"letter_case": letter.id}
    assert (letter.kind, letter.state, letter.channel) == ("letter", "received", "reception")
    assert letter.received_at == visit.received_at == at(2026, 3, 2, 9)
    assert letter.fields["reception_case"] == visit.id
    assert group_of(eng, letter.id) is not None and group_of(eng, letter.id) == group_of(eng, earlier.id)
    reply = letter.deadlines["reply_visitor"]
    assert (reply.due_date, reply.status, reply.amount, reply.unit) == (date(2026, 3, 16), "running", 10, "working")


def test_closing_the_visit_does_not_meet_the_letters_reply_the_reply_does(eng: Engine, clock: ManualClock) -> None:
    """Due Mon 16/03/2026 (counted above): the visit closed on 02/03 leaves it running; the letter's reply
    (guided, on the last day at 16:00) meets it."""
    visit, letter = taken(eng, heard_visit(eng, clock))
    assert eng.fire(visit.id, "close", actor=ACTORS["clerk"], role="clerk").state == "closed"
    clock.set(at(2026, 3, 16, 9))
    eng.tick()
    assert eng.get(letter.id).deadlines["reply_visitor"].status == "running"
    eng.fire(letter.id, "classify", actor=ACTORS["clerk"], role="clerk")
    clock.set(at(2026, 3, 16, 16))
    letter = eng.fire(letter.id, "guide", actor=ACTORS["clerk"], role="clerk")
    assert letter.deadlines["reply_visitor"].status == "met"


def test_take_letter_is_one_transaction(engine: Engine, eng: Engine, clock: ManualClock) -> None:
    """A letter refused (bad petitioners), or whose opening fails after the visit's step is written (a reactor of
    case.opened raises), leaves the visit heard; a visit not heard opens no letter."""
    visit = heard_visit(eng, clock)
    with pytest.raises(ValidationError, match="petitioners"):
        take_letter(eng.runtime, visit.id, actor=ACTORS["clerk"], role="clerk", subject="x", content="x",
                    respondent=RESPONDENT, petitioners="Người đại diện")  # type: ignore[arg-type]
    assert (eng.get(visit.id).state, eng.get(visit.id).version) == ("heard", visit.version)

    def broken(reaction: Reaction) -> list[Effect]:
        if reaction.case is not None and reaction.case.kind == "letter":
            raise RuntimeError("grouping index unavailable")
        return []

    failing = with_reactors(engine, {"case.opened": [broken]})
    before = len(eng.events(limit=10_000))
    with pytest.raises(ReactionError):
        taken(failing, visit)
    assert (eng.get(visit.id).state, eng.get(visit.id).version) == ("heard", visit.version)
    assert len(eng.events(limit=10_000)) == before
    fresh = eng.open_case("reception", received_at=clock.now(), petitioners=VISITOR, respondent=RESPONDENT,
                          subject=SAME_MATTER[0][0], channel="reception")
    before = len(eng.events(limit=10_000))
    with pytest.raises(NotAllowedError, match="checked_in"):
        taken(eng, fresh)
    assert len(eng.events(limit=10_000)) == before  # no case.opened of a letter


def test_take_letter_on_a_letter_names_the_field(eng: Engine, clock: ManualClock) -> None:
    letter = eng.open_case("letter", received_at=clock.now(), petitioners=VISITOR, respondent=RESPONDENT,
                           subject=SAME_MATTER[0][0])
    with pytest.raises(ValidationError, match="reception_id"):
        taken(eng, letter)


# ===================================================================== the visit's own reply (LTCD Điều 28 k1)


def test_a_visit_closed_without_an_answer_still_owes_it(desk: Desk) -> None:
    """Heard Mon 02/03/2026, due Mon 16/03 (counted above). Closed the same day: the clock runs on; answered
    Tue 17/03: late (missed), and only then is the visit closed."""
    case = desk.fire(desk.heard(at(2026, 3, 2, 9)), "close", at(2026, 3, 2, 11), "clerk")
    assert (case.state, case.deadlines["reply"].status) == ("answer_pending", "running")
    assert case.deadlines["reply"].due_date == date(2026, 3, 16)
    assert desk.ticked(case, at(2026, 3, 17, 8)).deadlines["reply"].status == "missed"
    case = desk.fire(case, "answer", at(2026, 3, 17, 9), "inspector")
    assert (case.state, case.deadlines["reply"].status) == ("closed", "missed")


def test_a_visit_answered_on_the_last_day_is_in_time(desk: Desk) -> None:
    case = desk.heard(at(2026, 3, 2, 9))
    case = desk.fire(case, "answer", at(2026, 3, 16, 16), "inspector")  # Mon 16/03: the 10th working day
    assert (case.state, case.deadlines["reply"].status) == ("answered", "met")
    assert desk.fire(case, "close", at(2026, 3, 16, 17), "clerk").state == "closed"


# ================================================================= refusal grounds (LTCD Điều 9; NĐ 154/2026 Điều 4)


def test_a_refusal_records_its_ground_and_article(desk: Desk) -> None:
    case = desk.visit(at(2026, 3, 2, 9))
    payload = refusal_payload("threat_or_breach_of_rules", "Có lời lẽ xúc phạm cán bộ tiếp công dân")
    case = desk.fire(case, "refuse", at(2026, 3, 2, 9, 10), "clerk", **payload)
    assert case.state == "refused"
    entry = desk.engine.history(case.id)[-1]
    assert (entry.event, entry.payload["ground"], entry.payload["article"]) == (
        "refuse", "threat_or_breach_of_rules", "LTCD Điều 9 k2")


def test_a_persistent_refusal_records_dieu_9_k3(desk: Desk) -> None:
    case = desk.visit(at(2026, 8, 20, 10))
    payload = refusal_payload("persistent_after_resolution", "Vụ việc đã được rà soát, trả lời", persistent=True)
    case = desk.fire(case, "refuse_persistent", at(2026, 8, 20, 10, 30), "clerk", **payload)
    assert desk.engine.history(case.id)[-1].payload["article"].startswith("LTCD Điều 9 k3")
    with pytest.raises(ValidationError, match=r"payload\.ground"):
        refusal_payload("persistent_after_resolution", "x")  # a persistent ground is not one of `refuse`


def test_an_unknown_ground_is_refused_naming_the_field(desk: Desk) -> None:
    case = desk.visit(at(2026, 3, 2, 9))
    with pytest.raises(ValidationError) as refusal:
        desk.fire(case, "refuse", at(2026, 3, 2, 9, 10), "clerk", reason="x", ground="looks_suspicious")
    assert refusal.value.field == "payload.ground"
    assert desk.get(case).version == case.version
    with pytest.raises(ValidationError, match=r"payload\.ground"):
        refusal_payload("looks_suspicious", "x")


def test_grounds_of_nd_154_exist_from_1_july_2026(desk: Desk) -> None:
    """Tue 30/06/2026: NĐ 64/2014 still governs; Wed 01/07/2026: NĐ 154/2026 Điều 4 k1 (Điều 44)."""
    payload = refusal_payload("weapons_not_deposited", "Mang dao, không gửi")
    case = desk.visit(at(2026, 6, 30, 9))
    refusal = desk.refusal(case, "refuse", at(2026, 6, 30, 9, 10), "clerk", **payload)
    assert refusal.why == "guard" and "01/07/2026" in str(refusal)
    case = desk.visit(at(2026, 7, 1, 9))
    case = desk.fire(case, "refuse", at(2026, 7, 1, 9, 10), "clerk", **payload)
    assert desk.engine.history(case.id)[-1].payload["article"] == "LTCD Điều 9 k4; NĐ 154/2026 Điều 4 k1"


def test_the_workflow_lists_exactly_the_grounds_of_the_table(desk: Desk) -> None:
    """The YAML choices and engine/reception.py REFUSAL_GROUNDS cannot drift apart."""
    compiled = desk.engine.runtime.workflow("reception")
    by_event = {t.event: t for t in compiled.definition.transitions}
    assert set(by_event["refuse"].payload["ground"].choices or []) == set(REFUSAL_GROUNDS) - PERSISTENT_GROUNDS
    assert set(by_event["refuse_persistent"].payload["ground"].choices or []) == PERSISTENT_GROUNDS
    before_nd154 = {code for code, g in REFUSAL_GROUNDS.items() if g.since is None} - PERSISTENT_GROUNDS
    guard = by_event["refuse"].guard or ""
    assert all(f"'{code}'" in guard for code in before_nd154)
    assert not any(f"'{code}'" in guard for code in set(REFUSAL_GROUNDS) - before_nd154)
    assert datetime(2026, 7, 1, tzinfo=TZ).date().isoformat() in guard
