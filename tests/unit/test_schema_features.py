"""The schema features the law needs (issue 10 item 6), walked on tests/unit/schema_workflows/detours.yaml.

A self-loop declared once (`@same` or no `to`), guards that read dates and a deadline's status,
and `@previous` that unwinds nested detours step by step. Dates are Hà Nội local dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.definitions import SAME, WorkflowDefinition, previous_top, stack_after
from engine.errors import NotAllowedError
from engine.service import Engine
from engine.testing import ManualClock, memory_engine

HN = ZoneInfo("Asia/Ho_Chi_Minh")
FOLDER = Path(__file__).parent / "schema_workflows"
PEOPLE = [{"name": "Người khiếu nại"}]


def opened(received: datetime, now: datetime | None = None) -> tuple[Engine, ManualClock, str]:
    """An engine on the test workflow, and a case of it received at ``received``."""
    clock = ManualClock(now or received + timedelta(hours=1))
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("detours", received_at=received, petitioners=PEOPLE, respondent="UBND huyện",
                            subject="Thu hồi đất")
    return engine, clock, case.id


def fire(engine: Engine, case_id: str, event: str, role: str = "inspector", **payload: object) -> str:
    """Fire ``event`` and return the case's state after it."""
    return engine.fire(case_id, event, actor="cb01", role=role, payload=payload).state


class TestSelfLoop:
    def test_a_transition_without_to_stays_in_each_of_its_sources(self) -> None:
        """`mark_complex` is declared once for three states; in each it keeps the state and sets the field."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        assert fire(engine, case_id, "mark_complex") == "verifying"
        assert engine.get(case_id).fields["complex"] is True
        fire(engine, case_id, "clarify")
        assert fire(engine, case_id, "mark_complex") == "clarifying"

    def test_a_self_loop_keeps_where_previous_returns(self) -> None:
        """A self-loop inside a detour does not change where `@previous` goes back to."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        fire(engine, case_id, "clarify")
        fire(engine, case_id, "mark_complex")
        assert fire(engine, case_id, "clarified") == "verifying"

    def test_marking_complex_lengthens_the_running_resolution_clock(self) -> None:
        """The variant reads the field the self-loop set: 30 -> 45 calendar days."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")  # 01/07/2026 10:00
        # 30 CD from 01/07: day 1 = 02/07 ... day 30 = 31/07/2026 (Friday)
        assert engine.get(case_id).deadlines["resolution"].due_date == datetime(2026, 7, 31).date()
        fire(engine, case_id, "mark_complex")
        # 45 CD from 01/07: 30 to 31/07, 15 more in August = 15/08/2026 (Saturday) -> Monday 17/08/2026
        assert engine.get(case_id).deadlines["resolution"].due_date == datetime(2026, 8, 17).date()

    def test_no_to_means_same(self) -> None:
        """In the model, a transition written without `to` targets `@same`."""
        definition = WorkflowDefinition.model_validate({
            "name": "w", "label": "W", "initial": "a",
            "states": {"a": {"label": "A"}, "z": {"label": "Z", "final": True}},
            "transitions": [{"event": "note", "from": "a", "roles": ["clerk"]},
                            {"event": "end", "from": "a", "to": "z", "roles": ["clerk"]}]})
        assert definition.transitions[0].to == SAME
        assert definition.transitions[0].target("a") == "a"


class TestPreviousStack:
    def test_a_detour_from_a_detour_returns_step_by_step(self) -> None:
        """Suspended inside a clarification inside verification: resume -> clarifying, clarified -> verifying."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        fire(engine, case_id, "clarify")
        assert fire(engine, case_id, "suspend") == "suspended"
        assert fire(engine, case_id, "resume") == "clarifying"
        assert fire(engine, case_id, "clarified") == "verifying"
        with pytest.raises(NotAllowedError):  # verifying is no detour: nothing to return from
            fire(engine, case_id, "resume")

    def test_suspending_straight_from_verification_returns_there(self) -> None:
        """One level only: resume goes back to verifying."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        fire(engine, case_id, "suspend")
        assert fire(engine, case_id, "resume") == "verifying"

    def test_the_stack_is_kept_in_the_previous_state_column(self) -> None:
        """Bottom first, joined by '>'; a forward move out of the detours starts it again; it fits 64 chars."""
        detours = frozenset({"clarifying", "suspended"})
        stack = stack_after(None, "received", "verifying", returned=False, detours=detours)
        stack = stack_after(stack, "verifying", "clarifying", returned=False, detours=detours)
        stack = stack_after(stack, "clarifying", "suspended", returned=False, detours=detours)
        assert stack == "received>verifying>clarifying"
        assert previous_top(stack) == "clarifying"
        assert stack_after(stack, "suspended", "suspended", returned=False, detours=detours) == stack
        assert stack_after(stack, "suspended", "clarifying", returned=True, detours=detours) == "received>verifying"
        assert stack_after(stack, "clarifying", "decided", returned=False, detours=detours) == "clarifying"
        deep = "a" * 30 + ">" + "b" * 30
        assert stack_after(deep, "c" * 20, "suspended", returned=False, detours=detours) == "b" * 30 + ">" + "c" * 20

    def test_a_plain_stored_previous_state_still_works(self) -> None:
        """A value written before the stack (one state name) is its own top."""
        assert previous_top("verifying") == "verifying"
        assert previous_top(None) is None


class TestDatesInGuards:
    def test_a_transition_exists_only_for_cases_received_from_1_july_2026(self) -> None:
        """`suspend` guards on `received_at >= date('2026-07-01')`, the local date of receipt."""
        engine, _, before = opened(datetime(2026, 6, 30, 23, 30, tzinfo=HN))
        fire(engine, before, "accept", role="clerk")
        with pytest.raises(NotAllowedError) as refused:
            fire(engine, before, "suspend")
        assert refused.value.why == "guard"
        # 00:30 on 01/07 in Hà Nội is still 30/06 in UTC: the local date counts
        engine, _, after = opened(datetime(2026, 7, 1, 0, 30, tzinfo=HN))
        fire(engine, after, "accept", role="clerk")
        assert fire(engine, after, "suspend") == "suspended"

    def test_a_guard_compares_a_payload_date_with_now(self) -> None:
        """`payload.on > now`: a dialogue today is refused, tomorrow is recorded (state unchanged)."""
        engine, _, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN), datetime(2026, 7, 2, 16, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        with pytest.raises(NotAllowedError):
            fire(engine, case_id, "schedule_dialogue", on="2026-07-02")
        assert fire(engine, case_id, "schedule_dialogue", on="2026-07-03") == "verifying"
        assert engine.get(case_id).fields["dialogue_date"] == "2026-07-03"

    @staticmethod
    def decided_on_6_july() -> tuple[Engine, ManualClock, str]:
        """A case decided on Monday 06/07/2026 at 10:00: its appeal window starts."""
        engine, clock, case_id = opened(datetime(2026, 7, 1, 9, 0, tzinfo=HN))
        fire(engine, case_id, "accept", role="clerk")
        with pytest.raises(NotAllowedError):  # no decision yet: the window is absent
            fire(engine, case_id, "appeal", role="clerk")
        clock.set(datetime(2026, 7, 6, 10, 0, tzinfo=HN))
        fire(engine, case_id, "decide", role="director")
        return engine, clock, case_id

    def test_appeal_is_open_on_the_last_day_of_its_window(self) -> None:
        """`appeal` reads `deadlines.appeal_window`: still receivable on the window's last day."""
        engine, clock, case_id = self.decided_on_6_july()
        # 30 CD from Monday 06/07/2026: day 1 = 07/07, day 25 = 31/07, day 30 = Wednesday 05/08/2026
        assert engine.get(case_id).deadlines["appeal_window"].due_date == datetime(2026, 8, 5).date()
        clock.set(datetime(2026, 8, 5, 16, 0, tzinfo=HN))
        assert fire(engine, case_id, "appeal", role="clerk") == "appealed"

    def test_appeal_is_refused_the_day_after_its_window(self) -> None:
        """On 06/08/2026 the window (last day 05/08) is over: refused by the guard, nothing changed."""
        engine, clock, case_id = self.decided_on_6_july()
        clock.set(datetime(2026, 8, 6, 8, 0, tzinfo=HN))
        with pytest.raises(NotAllowedError) as refused:
            fire(engine, case_id, "appeal", role="clerk")
        assert refused.value.why == "guard"
        assert engine.get(case_id).state == "decided"
