"""A citizen's window is not an officer's overrun (``owner: citizen`` on a deadline).

Over the memory, SQLite and PostgreSQL stores: two complaints of one group, decided and
delivered, whose appeal windows then run out raise no ``prolonged`` hot spot, while two missed
resolution deadlines do; the appeal window's ``deadline.overdue`` says ``owner: citizen``; a
report's ``overdue_now`` leaves it out. Then the definition side: the shipped owners, the default,
and a kind's reported time limit refused as the citizen's.

The clock starts Mon 02/03/2026 09:00 in Hà Nội; each letter moves it on by 20 hours, so the two
letters are received Mon 02/03 09:00 and Tue 03/03 05:00, and every act below is on Wed 04/03
(01:00). No public holiday falls between March and the first days of April 2026.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from engine.groups import grouping_reactors, hot_spots
from engine.loader import load_directory
from engine.model import Event
from engine.reports import COUNTING
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import ROOT, TZ
from tests.integration.engines import with_reactors
from tests.integration.test_groups import group_of, letter, spot_events
from tests.unit.broken_copy import broken_copy

# 30 calendar days from an act on Wed 04/03, the day itself not counted: Thu 05/03 is day 1,
# Tue 31/03 day 27, Wed 01/04 day 28, Thu 02/04 day 29, Fri 03/04 day 30 (a working day): both the
# appeal window (from confirm_delivery) and the resolution (from accept) are due by the end of
# Fri 03/04/2026, the moment 00:00 of Sat 04/04. The ticks below run on Mon 06/04 at noon, past that.
DUE_AT = datetime(2026, 4, 4, 0, 0, tzinfo=TZ)


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The fixture's engine with the grouping reactors (default policy: two overdues make a group prolonged)."""
    return with_reactors(engine, grouping_reactors())


def after_due() -> datetime:
    """Mon 06/04/2026 12:00 local: past both 30-day clocks started on Wed 04/03."""
    return datetime(2026, 4, 6, 12, 0, tzinfo=TZ)


def two_letters(eng: Engine, clock: ManualClock) -> tuple[str, str]:
    """Two complaints about one matter, in one group, both received before either is decided."""
    first, second = letter(eng, clock, 0), letter(eng, clock, 1)
    assert group_of(eng, second) == group_of(eng, first)
    return first, second


def decide_and_deliver(eng: Engine, case_id: str) -> None:
    """Accept, verify, decide, send the decision and record its delivery: the appeal window starts."""
    for event, role in (("accept", "inspector"), ("start_verification", "inspector"),
                        ("draft_decision", "inspector"), ("decide", "head_of_unit"),
                        ("send_decision", "clerk"), ("confirm_delivery", "clerk")):
        eng.fire(case_id, event, actor="cb01", role=role)


def overdue(eng: Engine) -> list[Event]:
    """The feed's ``deadline.overdue`` events."""
    return [e for e in eng.events(limit=10_000) if e.type == "deadline.overdue"]


def prolonged(eng: Engine) -> list[tuple[str, str]]:
    """The feed's prolonged hot-spot events, as (type, hot-spot type)."""
    return [e for e in spot_events(eng) if e[1] == "prolonged"]


def test_two_appeal_windows_running_out_in_one_group_are_not_prolonged(eng: Engine, clock: ManualClock) -> None:
    """The complainants did not appeal in time: their window, not the office's lateness; no hot spot."""
    first, second = two_letters(eng, clock)
    for case_id in (first, second):
        decide_and_deliver(eng, case_id)
        assert eng.get(case_id).deadlines["appeal_window"].due_at == DUE_AT
    eng.tick(after_due())
    windows = [e for e in overdue(eng) if e.data["deadline"] == "appeal_window"]
    assert sorted(e.case_id or "" for e in windows) == sorted([first, second])
    assert [e.data["owner"] for e in windows] == ["citizen", "citizen"]
    assert [e for e in overdue(eng) if e.data["owner"] == "office"] == []
    assert prolonged(eng) == []
    assert [h.type for h in hot_spots(eng.runtime)] == []


def test_two_missed_resolutions_in_one_group_are_prolonged(eng: Engine, clock: ManualClock) -> None:
    """Both complaints accepted and left undecided past their 30 days: the office's overrun, prolonged once."""
    first, second = two_letters(eng, clock)
    for case_id in (first, second):
        eng.fire(case_id, "accept", actor="cb01", role="inspector")
        assert eng.get(case_id).deadlines["resolution"].due_at == DUE_AT
    eng.tick(after_due())
    missed = [e for e in overdue(eng) if e.data["deadline"] == "resolution"]
    assert sorted(e.case_id or "" for e in missed) == sorted([first, second])
    assert [e.data["owner"] for e in missed] == ["office", "office"]
    assert prolonged(eng) == [("hotspot.detected", "prolonged")]
    (spot,) = [h for h in hot_spots(eng.runtime) if h.type == "prolonged"]
    assert [r["rule"] for r in spot.reasons] == ["repeated_overdue"]
    assert sorted(spot.reasons[0]["case_ids"]) == sorted([first, second])


def test_the_report_leaves_the_appeal_window_out_of_overdue_now(eng: Engine, clock: ManualClock) -> None:
    """One complaint decided in time whose appeal window ran out, one whose resolution did: overdue now is 1."""
    decided, undecided = two_letters(eng, clock)
    decide_and_deliver(eng, decided)
    eng.fire(undecided, "accept", actor="cb01", role="inspector")
    clock.set(after_due())
    eng.tick()
    assert sorted(e.data["deadline"] for e in overdue(eng)) == ["appeal_window", "resolution"]
    (row,) = [r for r in eng.report(date(2026, 3, 1), date(2026, 4, 30)).tables["summary_by_kind"]
              if r["kind"] == "complaint"]
    # by hand: received 2 (both in March); resolved 1, `decided` on Wed 04/03 with its resolution
    # met (on time 1, late 0); overdue now 1: `undecided`'s resolution, past due since Fri 03/04 and
    # open at the report's end (now, Mon 06/04); `decided`'s appeal window, past due too, is the
    # complainant's and is not counted.
    assert (row["received"], row["resolved"], row["resolved_on_time"], row["resolved_late"],
            row["overdue_now"]) == (2, 1, 1, 0, 1)


# the definitions ---------------------------------------------------------------------------------
CITIZENS = {("complaint", "limitation"), ("complaint", "appeal_window"), ("complaint", "legal_effect"),
            ("complaint", "second_complaint_window"), ("disciplinary_complaint", "limitation"),
            ("disciplinary_complaint", "appeal_window"), ("disciplinary_complaint", "lawsuit_window"),
            ("letter", "retention")}


def test_the_shipped_citizen_deadlines_and_every_reported_time_limit_is_the_offices() -> None:
    """The windows of the citizen (and passive periods) are marked; every other deadline, and each kind's
    reported time limit, is the office's (the default)."""
    workflows = load_directory(ROOT / "workflows")
    owners = {(kind, name): spec.owner for kind, w in workflows.items()
              for name, spec in w.definition.deadlines.items()}
    assert {key for key, owner in owners.items() if owner == "citizen"} == CITIZENS
    assert owners[("denunciation", "further_review")] == "office"  # the office reviews a further denunciation
    for kind, counting in COUNTING.items():
        if counting.time_limit is not None and (kind, counting.time_limit) in owners:
            assert owners[(kind, counting.time_limit)] == "office"


def test_a_reported_time_limit_said_to_be_the_citizens_is_refused_at_its_line(tmp_path: Path) -> None:
    """``owner: citizen`` on the complaint's resolution: one error naming the file, line and the deadline."""
    old = '  resolution:\n    label: "Thời hạn giải quyết khiếu nại"\n'
    good = ROOT / "workflows" / "complaint.yaml"
    line = good.read_text(encoding="utf-8").split(old)[0].count("\n") + 3
    message = broken_copy(good, tmp_path, old, old + "    owner: citizen\n")
    assert f"complaint.yaml:{line}" in message
    assert "'resolution'" in message and "office" in message


def test_an_unknown_owner_is_refused(tmp_path: Path) -> None:
    """Only ``office`` and ``citizen`` are owners: a typo is named, not taken as the default."""
    old = "    owner: citizen  # the citizen's time to appeal\n"
    message = broken_copy(ROOT / "workflows" / "complaint.yaml", tmp_path, old, "    owner: citzen\n")
    assert "complaint.yaml:" in message and "owner" in message
