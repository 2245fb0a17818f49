"""``kntc demo``: a simulated election season (02/01/2026 .. 31/05/2026) on the embedded SQLite.

:func:`run_demo` plays the script of :mod:`adapters.demo.season` through the public API: the
engine's clock (a ManualClock) moves day by day on the real calendar (Tết included); the daemon
(``Daemon.run_once``, with the configured channels and the notification router) ticks every day
at 08:00 and 17:00; letters arrive on working days; officers act at 15:00 with the roles the
workflows allow (``fire``), as their plans say; the duty roster (one officer a day, one hole) is
stored with ``Transaction.replace_duties``. Then the feed goes to ``feed.jsonl`` and the summary
(:mod:`adapters.demo.summary`, computed from the feed and the histories) is printed.

Everything is drawn from ``random.Random(seed)``: the same seed prints the same summary. The
library's log lines (the log channel's among them) go to ``kntc-demo.log`` in the out folder, not
to the console.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from adapters.bootstrap import build
from adapters.channels import build_channels, router
from adapters.config import Settings
from adapters.daemon import Daemon
from adapters.demo.outputs import hold_due, schedule_days, write_outputs
from adapters.demo.season import FIRST_DAY, LAST_DAY, Arrival, Step, plan, roster_days, season
from adapters.demo.summary import Summary, summarise, write_feed
from engine.errors import NotAllowedError, ValidationError
from engine.logs import ROOT_LOGGER, RedactingFilter
from engine.roster import Duty
from engine.service import Engine
from engine.testing import ManualClock

__all__ = ["DemoResult", "run_demo"]

#: who acts in each role (the shipped people of config.yaml)
OFFICERS = {"clerk": "cb01", "inspector": "tt01", "head_of_unit": "tp01", "director": "gd01"}
#: the reception duty rotates among them
ON_DUTY = ("cb01", "tt01", "tp01")
TICKS = (time(8, 0), time(17, 0))
ACTS_AT = time(15, 0)
#: the roster runs past the season, so that the last days' look-ahead finds June covered
ROSTER_UNTIL = LAST_DAY + timedelta(days=31)


@dataclass
class DemoResult:
    """What a run left: its summary, and the files it wrote."""

    summary: Summary
    database: Path
    files: dict[str, Path] = field(default_factory=dict)
    #: planned acts the workflow refused (a guard: e.g. no second extension): not an error
    refused: int = 0


@dataclass
class _Plan:
    case_id: str
    steps: list[Step]
    due: date
    #: the visit's matter (a reception visit's `take_letter` opens its letter from it)
    arrival: Arrival | None = None


def run_demo(settings: Settings, *, database: Path, out_dir: Path, letters: int = 300, seed: int = 2026,
             console: Console | None = None) -> DemoResult:
    """Simulate the season into ``database`` (recreated) and write the feed to ``out_dir``; print the summary."""
    console = console or Console()
    if letters < 0:
        raise ValidationError("letters", f"{letters} is negative; give 0 or more")
    out_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    tz = ZoneInfo(settings.timezone)
    clock = ManualClock(datetime.combine(FIRST_DAY, time(7, 0), tzinfo=tz))
    with _logs_to(out_dir / "kntc-demo.log"):
        eng = build(settings, database_url=f"sqlite:///{database.resolve()}", clock=clock)
        ids = random.Random(seed)  # noqa: S311 -- case ids drawn from the seed too: groups meet in the same order
        eng.runtime.new_id = lambda: f"{ids.getrandbits(128):032x}"
        try:
            refused = _play(eng, settings, clock, tz, seed=seed, letters=letters, console=console)
            summary = summarise(eng, tz)
            files = {"feed": write_feed(eng, out_dir / "feed.jsonl"),
                     **write_outputs(eng, settings, out_dir, FIRST_DAY, LAST_DAY)}
        finally:
            eng.close()
    files["log"] = out_dir / "kntc-demo.log"
    out = DemoResult(summary=summary, database=database, files=files, refused=refused)
    summary.print(console, files=files, database=database, settings=settings)
    return out


def _play(eng: Engine, settings: Settings, clock: ManualClock, tz: ZoneInfo, *, seed: int, letters: int,
          console: Console) -> int:
    calendar = eng.runtime.calendar
    days = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    working = [d for d in days if calendar.is_working_day(d)]
    index = {d: i for i, d in enumerate(working)}
    _store_roster(eng, settings, calendar.is_working_day)
    reception = schedule_days(eng, settings, working)
    arrivals = season(seed, letters, working, tz)
    letters_rng = random.Random(seed + 1)  # noqa: S311 -- the plans of the letters taken at reception
    by_day: dict[date, list[Arrival]] = {}
    for arrival in arrivals:
        by_day.setdefault(arrival.at.date(), []).append(arrival)
    daemon = Daemon(eng, tick_seconds=60, channels=build_channels(settings), router=router(settings),
                    holder="kntc-demo")
    plans: list[_Plan] = []
    refused = 0
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[day]}"))
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("mùa bầu cử 2026", total=len(days), day="")
            for day in days:
                progress.update(task, day=f"{day:%d/%m/%Y}")
                _tick(daemon, clock, day, TICKS[0], tz)
                for arrival in by_day.get(day, ()):
                    clock.set(arrival.at)
                    case = eng.open_case(arrival.kind, received_at=arrival.at,
                                         petitioners=[{"name": n} for n in arrival.petitioners],
                                         respondent=arrival.matter.respondent, subject=arrival.matter.subject,
                                         content=arrival.matter.content, channel=arrival.channel,
                                         fields=arrival.fields, forwarded_from=arrival.forwarded_from)
                    if arrival.steps:
                        plans.append(_Plan(case.id, list(arrival.steps), _after(working, index, day,
                                                                               arrival.steps[0].delay), arrival))
                if day in index:
                    clock.set(datetime.combine(day, ACTS_AT, tzinfo=tz))
                    hold_due(eng, reception, day)
                    refused += _officers(eng, plans, working, index, day, letters_rng)
                    plans = [p for p in plans if p.steps]
                _tick(daemon, clock, day, TICKS[1], tz)
                progress.advance(task)
    finally:
        daemon.close()
    return refused


def _tick(daemon: Daemon, clock: ManualClock, day: date, at: time, tz: ZoneInfo) -> None:
    moment = datetime.combine(day, at, tzinfo=tz)
    clock.set(moment)
    daemon.run_once(moment)


def _after(working: list[date], index: dict[date, int], day: date, delay: int) -> date:
    """``delay`` working days after the working day ``day`` (the last day of the season at most)."""
    return working[min(index[day] + delay, len(working) - 1)] if delay else day


def _officers(eng: Engine, plans: list[_Plan], working: list[date], index: dict[date, int], day: date,
              rng: random.Random) -> int:
    """Every plan due today does its next acts (those of no delay the same day); returns the refused ones.

    A letter taken at a reception visit gets a plan of its own, from ``rng``.
    """
    refused = 0
    for current in list(plans):
        while current.steps and current.due <= day:
            step = current.steps.pop(0)
            done, letter_id = _fire(eng, current.case_id, step, current.arrival)
            refused += not done
            if letter_id is not None:
                steps = list(plan(rng, "letter"))
                plans.append(_Plan(letter_id, steps, _after(working, index, day, steps[0].delay)))
            if current.steps:
                current.due = _after(working, index, day, current.steps[0].delay)
    return refused


def _fire(eng: Engine, case_id: str, step: Step, arrival: Arrival | None = None) -> tuple[bool, str | None]:
    """Fire ``step`` as the officer of the first role the workflow gives it: (done, the letter taken, if any).

    A visit's ``take_letter`` opens the letter of its matter (linked, in its content group) in the
    same transaction (:meth:`Engine.take_letter`).
    """
    case = eng.get(case_id)
    workflow = eng.runtime.workflow(case.kind)
    candidates = workflow.candidates(step.event, case.state, case.previous_state)
    if not candidates:
        return False, None
    spec = candidates[0].spec
    role = next((r for r in spec.roles if r in OFFICERS), None)
    if role is None:
        return False, None
    payload = {name: _sample(field_spec.type, field_spec.choices) for name, field_spec in spec.payload.items()
               if field_spec.required}
    payload.update(step.payload)
    try:
        if step.event == "take_letter" and arrival is not None:
            matter = arrival.matter
            _, letter = eng.take_letter(case_id, actor=OFFICERS[role], role=role, subject=matter.subject,
                                        content=matter.content, respondent=matter.respondent,
                                        petitioners=[{"name": n} for n in arrival.petitioners])
            return True, letter.id
        eng.fire(case_id, step.event, actor=OFFICERS[role], role=role, payload=payload)
    except (NotAllowedError, ValidationError):
        return False, None
    return True, None


def _sample(kind: str, choices: list[str] | None) -> object:
    if choices:
        return choices[0]
    return {"int": 1, "bool": True, "list": [], "str": "Theo hồ sơ vụ việc"}.get(kind, "Theo hồ sơ vụ việc")


def _store_roster(eng: Engine, settings: Settings, is_working_day: Callable[[date], bool]) -> None:
    """One officer on duty a day (working days, and every day of a phase with ``roster: every_day``), one hole."""
    span = _every_day_span(settings)
    duties = [Duty(day, ON_DUTY[n % len(ON_DUTY)], place="Trụ sở tiếp công dân")
              for n, day in enumerate(roster_days(is_working_day, span, ROSTER_UNTIL))]
    with eng.runtime.store.transaction() as tx:
        tx.replace_duties(FIRST_DAY, ROSTER_UNTIL, duties)


def _every_day_span(settings: Settings) -> tuple[date, date]:
    """The first and last day of the phases whose policy asks for cover every day (none: an empty span)."""
    days: list[date] = []
    for period in settings.periods:
        for name, span in period.phases.items():
            if period.policy_of(name).roster == "every_day":
                days += [span.from_, span.to]
    return (min(days), max(days)) if days else (LAST_DAY, FIRST_DAY)


@contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """Send the ``kntc`` loggers to ``path`` (not the console) while the demo runs."""
    root = logging.getLogger(ROOT_LOGGER)
    saved = (root.handlers[:], root.propagate, root.level)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers[:], root.propagate = saved[0], saved[1]
        root.setLevel(saved[2])
        handler.close()
