"""Deadline projection (DESIGN.md §4, §9; issue #5 item 4): microseconds per projection over a year.

kntc precomputes the business calendar as a sorted array of working-day ordinals, so counting is
a ``bisect``; a naive implementation walks the days one by one, asking for each whether it is a
working day (weekday, holiday set, swapped Saturdays). Both count the same deadlines, each
started on every day of 2026, and their answers are checked equal. Runs alternate (kntc, naive,
kntc, ...); each figure is the median of 5 runs.

- calendar-level: ``BusinessCalendar.due_date`` for the shipped complaint budgets (10 working,
  7 working, 30 / 45 / 60 calendar days); for a year-long budget (250 working days); for 30
  calendar days with two suspensions in the ledger;
- deadline-level: ``DeadlineKeeper.project`` of the complaint's ``resolution`` clock (budget chosen
  by CEL variants, warning rungs at 50 % and 80 %, due moment), on a fresh keeper (its projection
  cache cold) and again (warm), against the naive walk computing the same three moments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from bench.common import CONFIG, Context, median, progress
from bench.table import Row, Target

NAME = "projection"
ONE_DAY = timedelta(days=1)
TARGET_US = 1000.0  # "microseconds, not milliseconds"
Pause = tuple[date, date | None]
YEAR = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]


class NaiveCalendar:
    """Day-by-day counting over a set of holidays (what kntc's calendar replaces)."""

    def __init__(self, calendar: Any, first: date, last: date) -> None:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        # the same days off as kntc's calendar, as a naive implementation would hold them
        self.holidays = {d for d in days if d.weekday() < 5 and not calendar.is_working_day(d)}
        self.worked_weekends = {d for d in days if d.weekday() >= 5 and calendar.is_working_day(d)}

    def is_working_day(self, d: date) -> bool:
        return d in self.worked_weekends or (d.weekday() < 5 and d not in self.holidays)

    def count_date(self, start: date, n: int, unit: str, pauses: Sequence[Pause] = ()) -> date | None:
        day, counted = start, 0
        while counted < n:
            day += ONE_DAY
            paused = False
            for paused_on, resumed_on in pauses:
                if paused_on < day and (resumed_on is None or day <= resumed_on):
                    if resumed_on is None:
                        return None
                    paused = True
            if paused:
                continue
            if unit == "calendar" or self.is_working_day(day):
                counted += 1
        return day

    def due_date(self, start: date, n: int, unit: str, pauses: Sequence[Pause] = ()) -> date | None:
        last = self.count_date(start, n, unit, pauses)
        while last is not None and not self.is_working_day(last):
            last += ONE_DAY
        return last


def run(ctx: Context) -> None:
    from adapters.config import load_settings
    from engine.deadlines import DeadlineKeeper
    from engine.loader import load_directory
    from engine.model import DeadlineLedger

    settings = load_settings(CONFIG)
    calendar = settings.build_calendar()
    workflow = load_directory(settings.workflows_path())["complaint"]
    naive = NaiveCalendar(calendar, date(2025, 1, 1), date(2028, 12, 31))
    runs = 5
    progress(f"projection: {len(YEAR)} start days x budgets, {runs} alternating runs each")

    shipped = [(10, "working"), (7, "working"), (30, "calendar"), (45, "calendar"), (60, "calendar")]
    cases: list[tuple[str, list[tuple[date, int, str, tuple[Pause, ...]]]]] = [
        ("due date, complaint budgets (10/7 working, 30/45/60 calendar)",
         [(d, n, u, ()) for d in YEAR for n, u in shipped]),
        ("due date, a year-long budget (250 working days)", [(d, 250, "working", ()) for d in YEAR]),
        ("due date, 30 calendar days with 2 suspensions",
         [(d, 30, "calendar", ((d + timedelta(days=3), d + timedelta(days=10)),
                               (d + timedelta(days=15), d + timedelta(days=20)))) for d in YEAR]),
    ]
    for label, work in cases:
        fast = [calendar.due_date(s, n, u, p) for s, n, u, p in work]
        slow = [naive.due_date(s, n, u, p) for s, n, u, p in work]
        if fast != slow:
            bad = next(i for i, (a, b) in enumerate(zip(fast, slow, strict=True)) if a != b)
            raise AssertionError(f"projection: kntc and the naive walk disagree on {work[bad]}: "
                                 f"{fast[bad]} vs {slow[bad]}")
        k, v = _alternate(runs, lambda w=work: [calendar.due_date(s, n, u, p) for s, n, u, p in w],
                          lambda w=work: [naive.due_date(s, n, u, p) for s, n, u, p in w])
        per_k, per_v = k / len(work) * 1e6, v / len(work) * 1e6
        ctx.add(Row(NAME, f"BusinessCalendar.{label}", per_k, "µs", "naive day-by-day loop", per_v,
                    Target("<=", TARGET_US, on="figure"), note=f"{len(work):,} projections"))

    # deadline level: the resolution clock of a complaint, started on each day of 2026
    spec = workflow.definition.deadlines["resolution"]
    context = {"fields": workflow.validate_fields({}), "payload": {}, "role": "system",
               "case": {"state": "accepted", "channel": "post", "petitioner_count": 1, "kind": "complaint"}}
    states = [DeadlineLedger(case_id="c", name="resolution", status="running",
                            started_at=calendar.start_of_day(d), start_date=d) for d in YEAR]

    def naive_project(state: Any) -> tuple[datetime | None, ...]:
        amount = 30  # the first-instance budget the variants choose for these fields
        moments: list[datetime | None] = []
        for fraction in spec.warn_at:
            units = max(1, int(fraction * amount))
            day = naive.count_date(state.start_date, units, "calendar") if units < amount else None
            moments.append(calendar.end_of_day(day) if day else None)
        due = naive.due_date(state.start_date, amount, "calendar")
        moments.append(calendar.end_of_day(due) if due else None)
        return tuple(moments)

    check = DeadlineKeeper(workflow, calendar)
    if [check.project(spec, s, context).rungs for s in states] != [naive_project(s) for s in states]:
        raise AssertionError("projection: DeadlineKeeper.project and the naive walk disagree")
    cold, warm = [], []
    naive_times = []
    for _ in range(runs):
        keeper = DeadlineKeeper(workflow, calendar)
        cold.append(_time(lambda k=keeper: [k.project(spec, s, context) for s in states]))
        warm.append(_time(lambda k=keeper: [k.project(spec, s, context) for s in states]))
        naive_times.append(_time(lambda: [naive_project(s) for s in states]))
    n = len(states)
    ref = median(naive_times) / n * 1e6
    ctx.add(Row(NAME, "DeadlineKeeper.project, cold cache (budget, 2 warnings, due)", median(cold) / n * 1e6, "µs",
                "naive day-by-day loop, same 3 moments", ref, Target("<=", TARGET_US, on="figure"),
                note=f"{n} start days"))
    ctx.add(Row(NAME, "DeadlineKeeper.project, warm cache", median(warm) / n * 1e6, "µs",
                "naive day-by-day loop, same 3 moments", ref, Target("<=", TARGET_US, on="figure")))


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.process_time()  # pure Python: CPU time, which a busy neighbour does not inflate
    fn()
    return time.process_time() - t0


def _alternate(runs: int, a: Callable[[], Any], b: Callable[[], Any]) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(runs):
        ta.append(_time(a))
        tb.append(_time(b))
    return median(ta), median(tb)
