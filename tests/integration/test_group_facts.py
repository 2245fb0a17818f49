"""Facts across cases through content groups (issue 10 item 3; DOMAIN L4, K12; engine/group_facts.py).

"Transfer only once" (TT 05/2021 Điều 14 k1, LTC Điều 24 k2) and "guide only once" (TT 05/2021
Mẫu 02) for the same content read the letter's content group: two letters of the land-clearance
matter, the first transferred (guided), the second's transfer (guidance) is refused naming
``group.transferred`` (``group.guided``); a letter of another matter is not affected; with grouping
off, ``fields.transferred_before`` / ``guided_before`` still apply (over memory and SQLite). K12
(LKN Điều 11 k8) on a small complaint workflow whose ``accept`` carries the guard proposed for the
shipped file: the window runs 30 days from the termination notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.config import Settings
from engine.errors import NotAllowedError
from engine.groups import grouping_reactors
from engine.service import Case, Engine
from engine.testing import ManualClock, memory_engine
from tests.conftest import TZ
from tests.integration.engines import with_reactors
from tests.integration.test_groups import group_of
from tests.integration.test_hot_spots_complex import shipped_policy, store_engine
from tests.letters import OTHER_MATTER, RESPONDENT, SAME_MATTER

#: a small complaint workflow whose accept carries the K12 guard proposed for complaint.yaml
K12_WORKFLOWS = Path(__file__).parent / "group_facts_workflows"


@pytest.fixture(params=["memory", "sqlite"])
def base(request: pytest.FixtureRequest, clock: ManualClock, settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """An engine without reactors (grouping off) over memory and SQLite."""
    engine = store_engine(request.param, clock, settings, tmp_path)
    yield engine
    engine.close()


@pytest.fixture
def eng(base: Engine) -> Engine:
    """The engine with content grouping on."""
    return with_reactors(base, grouping_reactors(shipped_policy()))


def letter(eng: Engine, clock: ManualClock, text: tuple[str, str], **fields: Any) -> str:
    """A letter of ``text`` received now, put in classification; then 20 hours pass."""
    subject, content = text
    case = eng.open_case("letter", received_at=clock.now(), petitioners=[{"name": "Nguyễn Văn A"}],
                         respondent=RESPONDENT, subject=subject, content=content, fields=fields)
    eng.fire(case.id, "classify", actor="cb01", role="clerk")
    clock.advance(timedelta(hours=20))
    return case.id


def transfer(eng: Engine, case_id: str) -> Case:
    return eng.fire(case_id, "transfer", actor="cb01", role="clerk", payload={"to_body": "UBND thành phố"})


def test_a_second_letter_of_the_same_matter_is_not_transferred_again(eng: Engine, clock: ManualClock) -> None:
    """First letter transferred; the second (same matter, typed without diacritics) is refused, nothing changed."""
    first, second = letter(eng, clock, SAME_MATTER[0]), letter(eng, clock, SAME_MATTER[1])
    assert group_of(eng, first) == group_of(eng, second)
    assert "transfer" in eng.allowed_events(second, role="clerk")
    assert transfer(eng, first).state == "transferred"
    before = eng.get(second)
    assert "transfer" not in eng.allowed_events(second, role="clerk")
    with pytest.raises(NotAllowedError, match=r"group\.transferred") as refused:
        transfer(eng, second)
    assert refused.value.why == "guard" and "transfer" not in refused.value.allowed
    after = eng.get(second)
    assert (after.state, after.version) == ("classifying", before.version)
    assert eng.fire(second, "file", actor="cb01", role="clerk").state == "filed"  # what remains: file it


def test_a_letter_of_another_matter_is_transferred(eng: Engine, clock: ManualClock) -> None:
    """Same respondent, another matter: its own group, its transfer allowed."""
    first, other = letter(eng, clock, SAME_MATTER[0]), letter(eng, clock, OTHER_MATTER)
    assert group_of(eng, first) != group_of(eng, other)
    transfer(eng, first)
    assert transfer(eng, other).state == "transferred"


def test_a_second_letter_of_the_same_matter_is_not_guided_again(eng: Engine, clock: ManualClock) -> None:
    """First letter guided; the second's guidance is refused naming group.guided; another matter's is not."""
    first, second = letter(eng, clock, SAME_MATTER[0]), letter(eng, clock, SAME_MATTER[2])
    other = letter(eng, clock, OTHER_MATTER)
    assert eng.fire(first, "guide", actor="cb01", role="clerk").state == "guided"
    assert "guide" not in eng.allowed_events(second, role="clerk")
    with pytest.raises(NotAllowedError, match=r"group\.guided"):
        eng.fire(second, "guide", actor="cb01", role="clerk")
    assert eng.get(second).state == "classifying"
    assert eng.fire(other, "guide", actor="cb01", role="clerk").state == "guided"
    assert transfer(eng, second).state == "transferred"  # guided once is not transferred once


def test_with_grouping_off_the_callers_fields_still_apply(base: Engine, clock: ManualClock) -> None:
    """No content groups: transferred_before / guided_before refuse; without them both letters may be transferred."""
    marked = letter(base, clock, SAME_MATTER[0], transferred_before=True, guided_before=True)
    with pytest.raises(NotAllowedError, match="transferred_before"):
        transfer(base, marked)
    with pytest.raises(NotAllowedError, match="guided_before"):
        base.fire(marked, "guide", actor="cb01", role="clerk")
    first, second = letter(base, clock, SAME_MATTER[0]), letter(base, clock, SAME_MATTER[1])
    assert group_of(base, first) is None
    assert transfer(base, first).state == transfer(base, second).state == "transferred"


def test_the_fields_still_apply_with_grouping_on(eng: Engine, clock: ManualClock) -> None:
    """A caller's own record refuses even when the group knows of no transfer."""
    marked = letter(eng, clock, SAME_MATTER[0], transferred_before=True)
    with pytest.raises(NotAllowedError, match="transferred_before"):
        transfer(eng, marked)


# K12 ----------------------------------------------------------------------------------------
@pytest.fixture(params=["test_workflow", "shipped"])
def k12(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A complaint workflow whose accept carries the K12 guard (group_facts_workflows/, the shipped one); grouped."""
    clock = ManualClock(datetime(2026, 7, 6, 9, 0, tzinfo=TZ))
    base = memory_engine(clock, K12_WORKFLOWS if request.param == "test_workflow" else None)
    yield with_reactors(base, grouping_reactors(shipped_policy()))
    base.close()


def at(eng: Engine, month: int, day: int, hour: int = 9) -> datetime:
    """Move the engine's clock to ``day``/``month``/2026 at ``hour``, Hà Nội time."""
    clock = eng.runtime.clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2026, month, day, hour, 0, tzinfo=TZ))
    return clock.now()


def complaint(eng: Engine, text: tuple[str, str]) -> str:
    """A complaint of ``text`` received at the engine's clock."""
    subject, content = text
    return eng.open_case("complaint", received_at=eng.runtime.now(), petitioners=[{"name": "Trần Thị B"}],
                         respondent=RESPONDENT, subject=subject, content=content).id


def accept(eng: Engine, case_id: str) -> Case:
    return eng.fire(case_id, "accept", actor="tt01", role="inspector")


def terminated(eng: Engine, *, notice: tuple[int, int] | None = (7, 10), end: str = "terminate") -> str:
    """A complaint received Mon 06/07/2026, accepted, terminated (or withdrawn) Fri 10/07/2026, notice on ``notice``."""
    first = complaint(eng, SAME_MATTER[0])
    accept(eng, first)
    at(eng, 7, 10, 10)
    if end == "terminate":
        eng.fire(first, "terminate", actor="lead", role="head_of_unit", payload={"reason": "Điều 11a"})
    else:
        eng.fire(first, "withdraw", actor="cb01", role="clerk")
    if notice is not None:
        at(eng, *notice, 15)
        eng.fire(first, "send_termination_decision", actor="cb01", role="clerk")
    return first


def refiled(eng: Engine, month: int, day: int) -> str:
    """The same matter (edited) filed again on ``day``/``month``/2026; its state after accept, or 'refused'."""
    at(eng, month, day, 8)
    again = complaint(eng, SAME_MATTER[3])
    try:
        return accept(eng, again).state
    except NotAllowedError as exc:
        assert exc.why == "guard" and "group.refile_by" in str(exc)
        assert eng.get(again).state == "intake_check"
        return "refused"


@pytest.mark.parametrize(("day", "outcome"), [
    # terminated and notified Fri 10/07/2026; 30 calendar days from the next day (BLDS Điều 147):
    # 21 days of July (11..31) + 9 of August end on Sun 09/08, a day off, so the window ends
    # Mon 10/08 (Điều 148 k5, as every calendar-day period of kntc)
    (9, "accepted"),   # Sun 09/08: day 30
    (10, "accepted"),  # Mon 10/08: day 31, the working day after the last day (a Sunday)
    (11, "refused"),   # Tue 11/08: day 32, after the window
])
def test_k12_a_terminated_complaint_refiled_after_30_days_is_not_accepted(k12: Engine, day: int,
                                                                           outcome: str) -> None:
    """The same matter filed again within the window is accepted; after it, accept is refused naming refile_by."""
    terminated(k12)
    assert refiled(k12, 8, day) == outcome


def test_k12_the_window_counts_from_the_notice(k12: Engine) -> None:
    """Terminated Fri 10/07, notice sent Tue 14/07/2026: 17 days of July (15..31) + 13 = Thu 13/08, a working day."""
    terminated(k12, notice=(7, 14))
    assert refiled(k12, 8, 13) == "accepted"
    assert refiled(k12, 8, 14) == "refused"  # Fri 14/08: day 31


def test_k12_no_window_runs_before_the_notice(k12: Engine) -> None:
    """Terminated Fri 10/07/2026, no notice sent yet: the complainant was not told, a filing of 31/08 is accepted."""
    terminated(k12, notice=None)
    assert refiled(k12, 8, 31) == "accepted"


def test_k12_a_withdrawal_after_acceptance_is_a_termination(k12: Engine) -> None:
    """Withdrawn Fri 10/07 after acceptance (LKN Điều 10 k2: the resolution is terminated), notified the same day."""
    terminated(k12, end="withdraw")
    assert refiled(k12, 8, 10) == "accepted" and refiled(k12, 8, 11) == "refused"


def test_k12_a_withdrawal_before_acceptance_and_another_matter_do_not_count(k12: Engine) -> None:
    """A complaint withdrawn at intake (nothing terminated) and another matter filed 31/08 are accepted."""
    first = complaint(k12, SAME_MATTER[0])
    at(k12, 7, 10, 10)
    k12.fire(first, "withdraw", actor="cb01", role="clerk")
    assert refiled(k12, 8, 31) == "accepted"
    terminated(k12)  # terminated and notified 10/07: its window ended 10/08
    at(k12, 8, 31, 8)
    assert accept(k12, complaint(k12, OTHER_MATTER)).state == "accepted"
