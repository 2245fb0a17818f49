"""Election letters at intake, end to end with the shipped configuration (engine/election_letters.py).

`build()` with config.yaml as shipped (SQLite; the reactor only reads the case and fires one
event, the same on every store): the 2026 election period, whose phases run 05/01–15/05/2026,
and the topics voter_list, candidates, results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.bootstrap import build
from adapters.config import load_settings
from engine.errors import ConfigError
from engine.outbox import list_messages
from engine.service import Engine
from engine.testing import ManualClock
from tests.conftest import ROOT, shipped_settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NAME = "Nguyễn Văn An"


@pytest.fixture
def clock() -> ManualClock:
    """Mon 02/03/2026 09:00, in the election's `before` phase."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))


@pytest.fixture
def eng(tmp_path: Path, clock: ManualClock) -> Iterator[Engine]:
    """The shipped configuration over a fresh SQLite file."""
    engine = build(shipped_settings(), database_url=f"sqlite:///{tmp_path / 'k.db'}", clock=clock)
    yield engine
    engine.close()


def letter(engine: Engine, clock: ManualClock, subject: str, content: str, kind: str = "letter") -> Any:
    """A letter (or another kind of case) received now from one petitioner."""
    return engine.open_case(kind, received_at=clock.now(), petitioners=[{"name": NAME, "id_number": "068123456789"}],
                            respondent="UBND xã Tân Hà", subject=subject, content=content)


def told(engine: Engine, case_id: str) -> dict[str, dict[str, Any]]:
    """The election-letter messages of a case, by role."""
    return {m.data["role"]: m.data for m in list_messages(engine.runtime) if m.kind == "election_letter"
            and m.case_id == case_id}


def test_a_voter_list_letter_is_marked_clocked_and_announced(eng: Engine, clock: ManualClock) -> None:
    """Received Mon 02/03/2026 (phase `before`), without diacritics: topic voter_list, a routing clock of one
    working day, the clerk and the head of unit told where it goes; no name or content in any message."""
    case = letter(eng, clock, "Khieu nai ve danh sach cu tri",
                  "Gia dinh toi khong co ten trong danh sach cu tri niem yet tai thon 3.")
    assert (case.state, case.fields["election_topic"]) == ("received", "voter_list")
    # 1 working day from Mon 02/03: Tue 03/03 is day 1, due at its end (04/03 00:00)
    assert case.deadlines["election_routing"].due_at == datetime(2026, 3, 4, tzinfo=TZ)
    messages = told(eng, case.id)
    assert sorted(messages) == ["clerk", "head_of_unit"]
    clerk = messages["clerk"]
    assert (clerk["topic"], clerk["route_to"], clerk["resolve_days"]) == (
        "voter_list", "Ủy ban nhân dân cấp xã đã lập danh sách cử tri", 5)
    assert "Điều 33" in clerk["legal_basis"] and (clerk["period"], clerk["phase"]) == ("bau_cu_2026", "before")
    assert "not_considered" not in clerk
    written = json.dumps([m.data for m in list_messages(eng.runtime)] + [e.data for e in eng.events()],
                         ensure_ascii=False)
    assert NAME not in written and "068123456789" not in written and "thon 3" not in written
    [marked] = [e for e in eng.events() if e.type == "case.transitioned"]
    assert (marked.data["event"], marked.case_id) == ("mark_election_matter", case.id)


def test_a_friday_letter_is_due_after_the_weekend(eng: Engine, clock: ManualClock) -> None:
    """Received Fri 27/02/2026 16:00: Sat 28/02 and Sun 01/03 are not counted, Mon 02/03 is day 1 (due 03/03 00:00)."""
    clock.set(datetime(2026, 2, 27, 16, 0, tzinfo=TZ))
    case = letter(eng, clock, "Đề nghị", "Tôi chưa nhận được thẻ cử tri.")
    assert case.deadlines["election_routing"].due_at == datetime(2026, 3, 3, tzinfo=TZ)


def test_routing_the_letter_stops_its_clock(eng: Engine, clock: ManualClock) -> None:
    """classify then route_election: the routing clock stops (and with it the letter's other clocks)."""
    case = letter(eng, clock, "Khiếu nại về danh sách cử tri", "Không có tên trong danh sách cử tri.")
    eng.fire(case.id, "classify", actor="cb01", role="clerk")
    routed = eng.fire(case.id, "route_election", actor="cb01", role="clerk")
    assert routed.state == "routed_election"
    assert routed.deadlines["election_routing"].status == "met"


def test_a_candidate_letter_in_the_last_ten_days_says_it_is_no_longer_considered(
        eng: Engine, clock: ManualClock) -> None:
    """Election day Sun 15/03: the last 10 days before it are 05/03..14/03 (Điều 61 k2). Wed 04/03 is outside
    them (no note), Thu 05/03 inside (the message says so)."""
    content = "Tố cáo người ứng cử đại biểu HĐND tỉnh tại đơn vị bầu cử số 2 kê khai không trung thực."
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=TZ))
    early = letter(eng, clock, "Tố cáo", content)
    assert "not_considered" not in told(eng, early.id)["clerk"]
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=TZ))
    late = letter(eng, clock, "Tố cáo", content)
    note = told(eng, late.id)["head_of_unit"]
    assert note["topic"] == "candidates" and "within the last 10 days before election day 2026-03-15" in \
        note["not_considered"]


def test_a_results_letter_after_election_day(eng: Engine, clock: ManualClock) -> None:
    """Mon 23/03/2026, phase `after`: results, to the election council / committee, 7 days of theirs."""
    clock.set(datetime(2026, 3, 23, 9, 0, tzinfo=TZ))
    case = letter(eng, clock, "Khiếu nại kết quả bầu cử", "Việc kiểm phiếu tại khu vực bỏ phiếu số 7 sai.")
    message = told(eng, case.id)["clerk"]
    assert (message["topic"], message["phase"], message["resolve_days"]) == ("results", "after", 7)


def test_outside_the_period_and_for_decoys_nothing_happens(eng: Engine, clock: ManualClock) -> None:
    """A land complaint by 'cử tri' in `before`; a voter-list complaint received as a complaint case, not a
    letter; the same voter-list letter on Mon 01/06/2026, after the period: no field, no clock, no message."""
    decoy = letter(eng, clock, "Khiếu nại bồi thường giải phóng mặt bằng",
                   "Chúng tôi là cử tri của xã Tân Hà, đề nghị xem xét lại đơn giá bồi thường.")
    complaint = letter(eng, clock, "Khiếu nại về danh sách cử tri", "Không có tên trong danh sách cử tri.",
                       kind="complaint")
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
    late = letter(eng, clock, "Khiếu nại về danh sách cử tri", "Không có tên trong danh sách cử tri.")
    for case in (decoy, late):
        assert case.fields["election_topic"] == "" and "election_routing" not in case.deadlines
    assert complaint.kind == "complaint"
    assert [m for m in list_messages(eng.runtime) if m.kind == "election_letter"] == []
    assert [e for e in eng.events() if e.type == "case.transitioned"] == []


def test_a_letter_workflow_without_the_event_is_refused_at_build(tmp_path: Path) -> None:
    """A department's own letter.yaml whose mark_election_matter the system may not fire: build() says so (never
    a rolled-back opening)."""
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    for source in (ROOT / "workflows").glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "letter.yaml":
            system = "    roles: [system]\n    payload:\n      topic:"
            text = text.replace(system, system.replace("system", "clerk"))
        (workflows / source.name).write_text(text, encoding="utf-8")
    settings = shipped_settings().model_copy(update={"workflows_dir": str(workflows), "base_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match="election_letters: the 'letter' workflow has no 'mark_election_matter' "
                                          "transition from 'received'"):
        build(settings, database_url=f"sqlite:///{tmp_path / 'k.db'}")


def test_a_one_word_phrase_is_refused_at_its_line(tmp_path: Path) -> None:
    """`bầu` (to elect; also in other words) alone would catch letters that use it in passing: file:line."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace('"thẻ cử tri"', '"bầu"')
    text = text.replace("workflows_dir: workflows", f"workflows_dir: {ROOT / 'workflows'}")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"bầu"' in ln)
    with pytest.raises(ConfigError, match=rf"config\.yaml:{line}:\d+: election_letters\.topics\.0\.phrases.*"
                                          r"a single syllable"):
        load_settings(path)
