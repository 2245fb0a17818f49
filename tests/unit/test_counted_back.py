"""Deadlines counted back from a date in the case (issue 10 items 3 and 6, K13 and L12; DESIGN.md §3),
walked on tests/unit/schema_workflows/dialogues.yaml (invite at least 5 days before the dialogue)
and head_receptions.yaml (post the schedule at least 5 WD before the reception day). Dates are Hà
Nội local dates; 2026: 31/08-02/09 off (Quốc khánh), Saturday 22/08 worked in exchange for 31/08.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError as PydanticValidationError

from engine.definitions import DeadlineSpec, WorkflowDefinition
from engine.errors import ValidationError
from engine.loader import validate_files
from engine.service import Engine
from engine.testing import ManualClock, default_calendar, memory_engine

HN = ZoneInfo("Asia/Ho_Chi_Minh")
FOLDER = Path(__file__).parent / "schema_workflows"
PEOPLE = [{"name": "Người khiếu nại"}]


def at(day: int, month: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=HN)


def verifying(now: datetime) -> tuple[Engine, ManualClock, str]:
    """A `dialogues` case received and accepted at ``now``."""
    clock = ManualClock(now)
    engine = memory_engine(clock, FOLDER)
    case = engine.open_case("dialogues", received_at=now, petitioners=PEOPLE, respondent="UBND huyện",
                            subject="Thu hồi đất")
    engine.fire(case.id, "accept", actor="cb01", role="clerk")
    return engine, clock, case.id


def schedule(engine: Engine, case_id: str, on: str, event: str = "schedule_dialogue") -> Any:
    return engine.fire(case_id, event, actor="tt01", role="inspector", payload={"dialogue_date": on})


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    return engine.get(case_id), engine.history(case_id), engine.events(after=0, limit=10_000)


class TestDialogueInvitation:
    def test_due_five_days_before_the_dialogue(self) -> None:
        """Dialogue Wed 15/07/2026: 14, 13, 12, 11, 10 counted back -> by the end of Fri 10/07 (15 - 5 = 10)."""
        engine, _, case_id = verifying(at(2, 7))
        invitation = schedule(engine, case_id, "2026-07-15").deadlines["dialogue_invitation"]
        assert (invitation.status, invitation.due_date, invitation.amount, invitation.unit) == (
            "running", date(2026, 7, 10), 5, "calendar")
        assert invitation.due_at == datetime(2026, 7, 11, 0, 0, tzinfo=HN)

    def test_warnings_at_fractions_of_the_days_from_scheduling_to_due(self) -> None:
        """Scheduled Thu 02/07, due Fri 10/07: 8 days; 0.5 -> 4th day, end of 06/07; 0.8 -> 6th, end of 08/07."""
        engine, _, case_id = verifying(at(2, 7))
        invitation = schedule(engine, case_id, "2026-07-15").deadlines["dialogue_invitation"]
        assert invitation.warn_at == (datetime(2026, 7, 7, tzinfo=HN), datetime(2026, 7, 9, tzinfo=HN))

    def test_invited_on_the_last_day_is_met(self) -> None:
        engine, clock, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        clock.set(at(10, 7, 16))
        assert engine.fire(case_id, "invite", actor="tt01", role="inspector").deadlines[
            "dialogue_invitation"].status == "met"

    def test_a_late_invitation_is_recorded_as_missed_even_before_any_tick(self) -> None:
        """Invited Sat 11/07 for Wed 15/07: only 4 days' notice; the act is kept, the duty missed."""
        engine, clock, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        clock.set(at(11, 7))
        late = engine.fire(case_id, "invite", actor="tt01", role="inspector")
        assert late.state == "dialogue_scheduled"
        assert late.deadlines["dialogue_invitation"].status == "missed"

    def test_the_daemon_marks_it_overdue_at_the_end_of_the_due_day(self) -> None:
        engine, _, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        engine.tick(at(11, 7, 0))  # 00:00 Sat 11/07 = the end of Fri 10/07
        types = [e.type for e in engine.events(after=0, limit=1000) if e.type.startswith("deadline.")]
        assert types == ["deadline.warning", "deadline.warning", "deadline.overdue"]
        assert engine.get(case_id).deadlines["dialogue_invitation"].status == "missed"

    def test_a_new_date_re_projects_the_running_clock(self) -> None:
        """Moved to Mon 20/07: 20 - 5 = Wed 15/07."""
        engine, _, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        moved = schedule(engine, case_id, "2026-07-20", event="reschedule_dialogue")
        assert moved.deadlines["dialogue_invitation"].due_date == date(2026, 7, 15)

    def test_a_due_day_off_moves_back_never_forward(self) -> None:
        """Dialogue Fri 17/07: 17 - 5 = Sun 12/07, a day off -> Fri 10/07 (Mon 13/07 would leave only 4 days)."""
        engine, _, case_id = verifying(at(2, 7))
        assert schedule(engine, case_id, "2026-07-17").deadlines["dialogue_invitation"].due_date == date(2026, 7, 10)

    def test_a_date_in_the_past_is_refused_naming_the_payload_field(self) -> None:
        engine, _, case_id = verifying(at(2, 7))
        before = snapshot(engine, case_id)
        with pytest.raises(ValidationError) as refused:
            schedule(engine, case_id, "2026-07-01")
        assert refused.value.field == "payload.dialogue_date" and "in the past" in str(refused.value)
        assert snapshot(engine, case_id) == before

    def test_a_date_closer_than_the_lead_is_refused_naming_field_and_rule(self) -> None:
        """Scheduled Thu 02/07 for Sun 05/07: due 05 - 5 = 30/06, already past: less than 5 days' notice."""
        engine, _, case_id = verifying(at(2, 7))
        before = snapshot(engine, case_id)
        with pytest.raises(ValidationError) as refused:
            schedule(engine, case_id, "2026-07-05")
        message = str(refused.value)
        assert refused.value.field == "payload.dialogue_date"
        assert "less than the lead of 5 calendar day(s)" in message and "NĐ 124/2020 Điều 28 k1" in message
        assert snapshot(engine, case_id) == before

    def test_a_too_close_new_date_is_refused_too(self) -> None:
        """On Thu 09/07, moving the dialogue of 15/07 to Mon 13/07 (due 08/07) is refused; the clock is as it was."""
        engine, clock, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        clock.set(at(9, 7))
        with pytest.raises(ValidationError, match="less than the lead"):
            schedule(engine, case_id, "2026-07-13", event="reschedule_dialogue")
        assert engine.get(case_id).deadlines["dialogue_invitation"].due_date == date(2026, 7, 10)

    def test_emptying_the_date_while_the_clock_runs_is_refused_naming_the_field(self) -> None:
        engine, _, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        before = snapshot(engine, case_id)
        with pytest.raises(ValidationError) as refused:
            engine.fire(case_id, "clear_date", actor="tt01", role="inspector")
        assert refused.value.field == "fields.dialogue_date" and "'clear_date' needs it" in str(refused.value)
        assert snapshot(engine, case_id) == before

    def test_the_final_state_closes_it(self) -> None:
        engine, _, case_id = verifying(at(2, 7))
        schedule(engine, case_id, "2026-07-15")
        decided = engine.fire(case_id, "decide", actor="gd01", role="director")
        assert decided.deadlines["dialogue_invitation"].status == "met"


def reception(received: datetime, day: str | None) -> tuple[Engine, ManualClock, Any]:
    clock = ManualClock(received)
    engine = memory_engine(clock, FOLDER)
    fields = {} if day is None else {"reception_date": day}
    case = engine.open_case("head_receptions", received_at=received, petitioners=[], respondent="Giám đốc Sở",
                            subject="Lịch tiếp công dân", fields=fields)
    return engine, clock, case


class TestReceptionSchedule:
    def test_posted_five_working_days_before_over_the_national_day(self) -> None:
        """Reception Mon 07/09/2026, 5 WD back: Fri 04/09 (1), Thu 03/09 (2), [Wed 02, Tue 01, Mon 31/08 off,
        Sun 30, Sat 29/08], Fri 28/08 (3), Thu 27/08 (4), Wed 26/08 (5) -> by the end of Wed 26/08/2026."""
        _, _, case = reception(at(17, 8), "2026-09-07")
        posting = case.deadlines["schedule_posting"]
        assert (posting.status, posting.due_date, posting.unit) == ("running", date(2026, 8, 26), "working")

    def test_opening_without_the_date_is_refused_naming_the_field(self) -> None:
        with pytest.raises(ValidationError) as refused:
            reception(at(17, 8), None)
        assert refused.value.field == "fields.reception_date"

    def test_opening_too_close_to_the_day_is_refused(self) -> None:
        """On Thu 27/08 the schedule for Mon 07/09 was due by Wed 26/08: less than 5 WD are left."""
        with pytest.raises(ValidationError, match="less than the lead of 5 working day"):
            reception(at(27, 8), "2026-09-07")

    def test_postponing_after_posting_starts_a_new_posting_duty(self) -> None:
        """Posted Mon 24/08, postponed on Tue 25/08 to Thu 10/09: 09/09 (1), 08/09 (2), 07/09 (3), 04/09 (4),
        03/09 (5) -> post again by the end of Thu 03/09/2026."""
        engine, clock, case = reception(at(17, 8), "2026-09-07")
        clock.set(at(24, 8))
        assert engine.fire(case.id, "post_schedule", actor="cb01", role="clerk").deadlines[
            "schedule_posting"].status == "met"
        clock.set(at(25, 8))
        moved = engine.fire(case.id, "postpone", actor="gd01", role="director",
                            payload={"reception_date": "2026-09-10"})
        posting = moved.deadlines["schedule_posting"]
        assert (moved.state, posting.status, posting.due_date) == ("planned", "running", date(2026, 9, 3))


class TestCalendar:
    def test_counting_back_over_a_worked_saturday(self) -> None:
        """8 WD before Mon 07/09/2026: 04/09 (1), 03/09 (2), 28/08 (3), 27/08 (4), 26/08 (5), 25/08 (6),
        24/08 (7), Sat 22/08 (8: worked in exchange for 31/08)."""
        assert default_calendar().count_back(date(2026, 9, 7), 8, "working") == date(2026, 8, 22)

    def test_counting_back_over_tet(self) -> None:
        """5 CD before Mon 23/02/2026 is Wed 18/02, in Tết (14-22/02 off) -> back to Fri 13/02/2026."""
        assert default_calendar().count_back(date(2026, 2, 23), 5, "calendar") == date(2026, 2, 13)

    def test_counting_back_a_month(self) -> None:
        """1 month before Tue 31/03/2026 is Sat 28/02 -> back to Fri 27/02/2026."""
        assert default_calendar().count_back(date(2026, 3, 31), 1, "month") == date(2026, 2, 27)


BASE = {"starts_on": ["opened"], "stops_on": ["post"], "legal_basis": "LTCD Điều 24 k4"}


class TestSchema:
    def test_the_lead_is_the_budget(self) -> None:
        """`before` fills `budget`, so `kntc deadlines` and the case view show the lead."""
        spec = DeadlineSpec.model_validate({**BASE, "before": {"field": "day", "amount": 5, "unit": "working"}})
        assert (spec.budget.amount, spec.budget.unit) == (5, "working")
        assert DeadlineSpec.model_validate(spec.model_dump(by_alias=True)) == spec  # a stored definition reloads

    def test_budget_and_before_together_are_refused(self) -> None:
        with pytest.raises(PydanticValidationError, match="leave `budget` out"):
            DeadlineSpec.model_validate({**BASE, "before": {"field": "day", "amount": 5, "unit": "working"},
                                         "budget": {"amount": 3, "unit": "working"}})

    @pytest.mark.parametrize(("old", "new", "needle", "message"), [
        ("  dialogue_date: {type: date,", "  dialogue_date: {type: str,", "before:",
         "field 'dialogue_date' is a str, not a date"),
        ("before: {field: dialogue_date,", "before: {field: dialog_date,", "before:",
         "field 'dialog_date' is not declared"),
        ("    stops_on: [invite]\n", "    stops_on: [invite]\n    pauses_in: [verifying]\n", "pauses_in:",
         "a deadline counted back from a date (`before`) has no `pauses_in`: its due day moves only with the date"),
    ])
    def test_mistakes_are_reported_at_their_line(self, tmp_path: Path, old: str, new: str, needle: str,
                                                 message: str) -> None:
        text = (FOLDER / "dialogues.yaml").read_text(encoding="utf-8")
        assert old in text
        broken = text.replace(old, new)
        path = tmp_path / "dialogues.yaml"
        path.write_text(broken, encoding="utf-8")
        found = [(p.line, str(p).split(": ", 1)[1]) for p in validate_files([path])]
        assert found == [(broken[:broken.index(needle)].count("\n") + 1, message)]

    def test_the_json_schema_asks_for_budget_or_before(self) -> None:
        schema = WorkflowDefinition.model_json_schema(by_alias=True)["$defs"]["DeadlineSpec"]
        assert "budget" not in schema.get("required", [])
        assert schema["anyOf"] == [{"required": ["budget"]}, {"required": ["before"]}]
        assert set(schema["properties"]) >= {"before", "outlives_final"}
