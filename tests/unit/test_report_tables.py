"""engine.report_compute.build_report: the store's aggregates laid out as the §6c tables (pure, no store)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import ValidationError
from engine.periods import Period
from engine.report_compute import build_report, phase_of, require_period
from engine.reports import TABLE_TITLES, ReportFigures

D = date
PERIOD = Period.model_validate({"id": "tet", "kind": "tet", "label": "Tết", "phases": {
    "before": {"from": "2026-02-10", "to": "2026-02-16"}, "during": {"from": "2026-02-17", "to": "2026-02-22"}}})


def figures(**changes: object) -> ReportFigures:
    base: dict[str, object] = {"received": [], "acts": [], "resolved": [], "carried_over": {}, "overdue": {},
                               "extensions": [], "hot_spots": [], "escalations": []}
    return ReportFigures(**{**base, **changes})  # type: ignore[arg-type]


def test_every_table_is_there_and_empty_figures_give_zero_rows_per_kind() -> None:
    report = build_report(figures(), D(2026, 1, 1), D(2026, 3, 31), kinds=["complaint", "letter"], periods=[])
    assert list(report.tables) == list(TABLE_TITLES)
    assert [r["kind"] for r in report.tables["summary_by_kind"]] == ["complaint", "letter"]
    assert report.tables["summary_by_kind"][0]["kind_label"] == "Khiếu nại"
    assert all(r["received"] == 0 for r in report.tables["summary_by_kind"])
    assert report.tables["reception"] == [{"visits": 0, "persons": 0, "crowded_delegations": 0, "head_days_held": 0}]
    # 01/01/2026 is a Thursday: its week starts Monday 29/12/2025; 31/03 lies in the week of 30/03: 14 weeks
    weeks = [r["week"] for r in report.tables["weekly"]]
    assert (weeks[0], weeks[-1], len(weeks)) == ("2025-12-29", "2026-03-30", 14)


def test_days_fall_in_their_phase_and_their_week() -> None:
    found = figures(
        received=[("complaint", "post", D(2026, 2, 9), 2, 2, 0), ("complaint", "post", D(2026, 2, 11), 3, 3, 0),
                  ("reception", "reception", D(2026, 2, 18), 1, 12, 1)],
        resolved=[("complaint", D(2026, 2, 18), False, 1), ("complaint", D(2026, 2, 19), True, 2)],
        hot_spots=[("crowded", D(2026, 2, 18), 1)], escalations=[(D(2026, 2, 12), 4)],
        acts=[("reception_schedule", "hold", D(2026, 2, 12), 1), ("reception_schedule", "hold", D(2026, 2, 12), 1)],
        extensions=[("c1", "denunciation", "extend_intake", D(2026, 2, 9), "xác minh thêm"),
                    ("c2", "complaint", "extend", D(2026, 2, 10), "")])
    report = build_report(found, D(2026, 2, 9), D(2026, 2, 22), kinds=["complaint", "reception"], periods=[PERIOD])
    # 09/02 lies before the period; 11/02 and 12/02 in "before"; 18/02 and 19/02 in "during"
    assert report.tables["by_phase"] == [
        {"phase": "", "received": 2, "resolved": 0, "hot_spots": 0, "escalations": 0},
        {"phase": "tet:before", "received": 3, "resolved": 0, "hot_spots": 0, "escalations": 4},
        {"phase": "tet:during", "received": 1, "resolved": 3, "hot_spots": 1, "escalations": 0}]
    assert report.tables["weekly"] == [{"week": "2026-02-09", "received": 5, "resolved": 0},
                                       {"week": "2026-02-16", "received": 1, "resolved": 3}]
    complaint = report.tables["summary_by_kind"][0]
    assert (complaint["resolved"], complaint["resolved_on_time"], complaint["resolved_late"]) == (3, 1, 2)
    # two holds on one day are one head's day
    assert report.tables["reception"] == [{"visits": 1, "persons": 12, "crowded_delegations": 1, "head_days_held": 1}]
    assert [(r["case_id"], r["deadline"]) for r in report.tables["extensions"]] == [("c1", "acceptance"),
                                                                                   ("c2", "resolution")]
    assert report.notes["phases"] == ["tet:before", "tet:during"]


def test_phase_of_a_day() -> None:
    assert phase_of([PERIOD], D(2026, 2, 16)) == "tet:before"
    assert phase_of([PERIOD], D(2026, 2, 23)) == ""


@pytest.mark.parametrize(("start", "end", "field"), [
    (D(2026, 2, 1), D(2026, 1, 31), "start"), ("2026-01-01", D(2026, 1, 31), "start"), (D(2026, 1, 1), 20260131, "end"),
])
def test_a_bad_period_names_its_field(start: object, end: object, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        require_period(start, end)
    assert refused.value.field == field
