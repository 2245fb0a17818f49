"""The deterministic script of the demo's season: who writes when, and what the officers then do.

:func:`season` draws, from one ``random.Random(seed)``, the letters of 02/01/2026 .. 31/05/2026:
``letters`` background letters spread over the working days (a multinomial draw, so a
Poisson-like count per day; more before election day 15/03/2026 and in the fortnight of result
complaints after it, fewer in the week before Tết), and the matters the season stages on purpose:
three crowded groups, a refiled matter after a decision, a letter forwarded by the Government
Inspectorate (skip-level), a circular transfer and a crowded delegation at reception. Each
arrival carries its officers' plan: events with the delay, in working days, before each; some
officers are slow and some cases are forgotten, so that deadlines run out. Nothing here touches
the engine; :mod:`adapters.demo` plays the script.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.demo.content import Matter, background_matter, person_name, plain, reword, special_matter

__all__ = ["FIRST_DAY", "LAST_DAY", "Arrival", "Step", "day_weight", "plan", "roster_days", "season"]

FIRST_DAY = date(2026, 1, 2)
LAST_DAY = date(2026, 5, 31)
ELECTION_DAY = date(2026, 3, 15)
#: the Sunday before election day left without anyone on reception duty (the roster's hole)
ROSTER_HOLE = date(2026, 3, 8)
KINDS = ("letter", "complaint", "denunciation", "petition", "reception")
_KIND_WEIGHTS = (34, 24, 12, 20, 10)
_CHANNELS = ("post", "post", "portal", "portal", "post")


@dataclass(frozen=True, slots=True)
class Step:
    """One officer's act: ``event`` (with ``payload``) ``delay`` working days after the previous one."""

    event: str
    delay: int
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One letter or visit: when, what, from whom, and the plan its officers follow."""

    at: datetime
    kind: str
    matter: Matter
    petitioners: tuple[str, ...]
    channel: str
    steps: tuple[Step, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    forwarded_from: dict[str, str] | None = None
    #: what the season staged it for ("" for a background letter)
    staged: str = ""


def day_weight(day: date) -> float:
    """How many letters a working day brings, relative to an ordinary one."""
    if date(2026, 2, 9) <= day <= date(2026, 2, 13):
        return 0.5  # the week before Tết
    if date(2026, 2, 23) <= day < ELECTION_DAY:
        return 1.7  # the last weeks before election day
    if ELECTION_DAY < day <= date(2026, 3, 31):
        return 1.4  # result complaints, the new bodies' first sessions
    return 0.9 if day.month >= 4 else 1.0


def roster_days(is_working_day: Callable[[date], bool], every_day: tuple[date, date], until: date) -> list[date]:
    """The days on duty up to ``until``: every working day and every day of ``every_day``, but ROSTER_HOLE."""
    out, day = [], FIRST_DAY
    while day <= until:
        if (is_working_day(day) or every_day[0] <= day <= every_day[1]) and day != ROSTER_HOLE:
            out.append(day)
        day += timedelta(days=1)
    return out


def season(seed: int, letters: int, working_days: list[date], tz: ZoneInfo) -> list[Arrival]:
    """The season's arrivals, in order of receipt: ``letters`` background ones and the staged matters."""
    rng = random.Random(seed)  # noqa: S311 -- a simulation, not a secret
    days = rng.choices(working_days, weights=[day_weight(d) for d in working_days], k=max(letters, 0))
    arrivals = [_background(rng, serial, day, tz) for serial, day in enumerate(sorted(days))]
    arrivals += _staged(rng, working_days, tz)
    return sorted(arrivals, key=lambda a: (a.at, a.staged, a.matter.subject))


def _moment(rng: random.Random, day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 14), rng.randrange(0, 60, 5)), tzinfo=tz)


def _pace(rng: random.Random) -> float:
    """An officer's pace: most on time, some slow (two and a half times the delays)."""
    return 2.5 if rng.random() < 0.15 else 1.0


def _delay(rng: random.Random, low: int, high: int, pace: float) -> int:
    return round(rng.randint(low, high) * pace)


def plan(rng: random.Random, kind: str, *, delegation: bool = False) -> tuple[Step, ...]:
    """What the officers do with a case of ``kind``, with delays drawn from ``rng``."""
    pace = _pace(rng)

    def s(event: str, low: int, high: int, **payload: Any) -> Step:
        return Step(event, _delay(rng, low, high, pace), payload)

    steps: list[Step]
    if kind == "complaint":
        if rng.random() < 0.1:
            return (s("reject", 2, 6, reason="Khiếu nại không thuộc thẩm quyền giải quyết"),)
        steps = [s("accept", 2, 8), s("start_verification", 1, 3), s("draft_decision", 8, 20), s("decide", 1, 4),
                 s("send_decision", 1, 3), s("confirm_delivery", 2, 6)]
    elif kind == "denunciation":
        steps = [s("start_check", 1, 3), s("accept", 2, 6), s("notify_parties", 1, 2), s("start_verification", 1, 3)]
        if rng.random() < 0.3:
            steps.append(s("extend", 10, 20, reason="Vụ việc phức tạp, cần xác minh nhiều nơi"))
        steps += [s("conclude", 8, 16), s("send_conclusion", 1, 3), s("act", 1, 4)]
    elif kind == "petition":
        steps = [s("classify", 1, 2), s("accept", 1, 3), s("assign", 1, 2, unit="phong_quan_ly"),
                 s("answer", 4, 12), s("close", 1, 3)]
    elif kind == "letter":
        outcome = rng.choices(["accept", "guide", "transfer", "file", "no_action"], weights=[30, 30, 20, 15, 5])[0]
        extra = {"accept": {"target_kind": rng.choice(["complaint", "denunciation", "petition"])},
                 "transfer": {"to_body": "Sở Nông nghiệp và Môi trường tỉnh Lâm Đồng"}}.get(outcome, {})
        steps = [s("classify", 0, 2), s(outcome, 1, 6, **extra)]
    else:  # a visit: heard the same day
        steps = [Step("request_representatives", 0), Step("appoint_representatives", 0, {"count": 3})] \
            if delegation else []
        ending = "take_letter" if delegation or rng.random() < 0.6 else "guide"
        steps += [Step("verify_identity", 0), Step("hear", 0), Step(ending, 0), Step("close", 0)]
        return tuple(steps)
    if rng.random() < 0.06:  # forgotten half-way: its deadlines run out
        steps = steps[: rng.randint(1, max(1, len(steps) - 1))]
    return tuple(steps)


def _background(rng: random.Random, serial: int, day: date, tz: ZoneInfo) -> Arrival:
    kind = rng.choices(KINDS, weights=_KIND_WEIGHTS)[0]
    name = person_name(rng)
    matter = background_matter(rng, kind, serial)
    matter = Matter(matter.subject, matter.content.replace("{name}", name), matter.respondent)
    if rng.random() < 0.12:  # typed without diacritics
        matter = Matter(plain(matter.subject), plain(matter.content), matter.respondent)
    fields: dict[str, Any] = {}
    if kind == "complaint":
        fields = {"remote_area": rng.random() < 0.15}
    channel = "reception" if kind == "reception" else rng.choice(_CHANNELS)
    return Arrival(_moment(rng, day, tz), kind, matter, (name,), channel, plan(rng, kind), fields)


def _on_or_after(working_days: list[date], day: date, offset: int = 0) -> date:
    """The working day ``offset`` working days after the first one on or after ``day``."""
    index = next((i for i, d in enumerate(working_days) if d >= day), len(working_days) - 1)
    return working_days[min(index + offset, len(working_days) - 1)]


def _staged(rng: random.Random, working_days: list[date], tz: ZoneInfo) -> list[Arrival]:
    out: list[Arrival] = []
    crowds = (("crowded_market", "complaint", date(2026, 1, 26)), ("crowded_seed", "complaint", date(2026, 3, 2)),
              ("crowded_tower", "petition", date(2026, 4, 13)))
    for key, kind, start in crowds:
        base = special_matter(key)
        for i in range(rng.randint(6, 8)):
            text = reword(rng, base, singular=i % 2 == 1) if i else base
            if i in (2, 5):  # typed without diacritics
                text = Matter(plain(text.subject), plain(text.content), text.respondent)
            day = _on_or_after(working_days, start, rng.randint(0, 3))
            out.append(Arrival(_moment(rng, day, tz), kind, text, (person_name(rng),), rng.choice(_CHANNELS),
                               plan(rng, kind), {"remote_area": False} if kind == "complaint" else {}, staged=key))
    refiler = person_name(rng)
    refiled = special_matter("refiled")
    quick = (Step("accept", 1), Step("start_verification", 1), Step("draft_decision", 5), Step("decide", 2),
             Step("send_decision", 1), Step("confirm_delivery", 2))
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 1, 5)), tz), "complaint", refiled,
                       (refiler,), "post", quick, {"remote_area": False}, staged="refiled"))
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 3, 4)), tz), "complaint",
                       reword(rng, refiled, singular=True), (refiler,), "post", plan(rng, "complaint"),
                       {"remote_area": False}, staged="refiled"))
    skip = special_matter("skip_level")
    slow = (Step("accept", 3), Step("start_verification", 2), Step("draft_decision", 25), Step("decide", 3))
    owner = person_name(rng)
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 2, 2)), tz), "complaint", skip,
                       (owner,), "post", slow, {"remote_area": False}, staged="skip_level"))
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 2, 25)), tz), "complaint",
                       reword(rng, skip, singular=True), (owner,), "forwarded", plan(rng, "complaint"),
                       {"remote_area": False}, {"body": "Thanh tra Chính phủ", "level": "central"}, "skip_level"))
    circle = special_matter("circular")
    away = (Step("transfer", 2, {"to_body": "Ủy ban nhân dân thành phố Đà Lạt"}),)
    mover = person_name(rng)
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 4, 6)), tz), "complaint", circle,
                       (mover,), "post", away, {"remote_area": False}, staged="circular"))
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 4, 22)), tz), "complaint",
                       reword(rng, circle, singular=False), (mover,), "forwarded", plan(rng, "complaint"),
                       {"remote_area": False}, {"body": "UBND TP Đà Lạt", "level": "department"}, "circular"))
    visit = special_matter("delegation")
    out.append(Arrival(_moment(rng, _on_or_after(working_days, date(2026, 3, 5)), tz), "reception", visit,
                       (person_name(rng),), "reception", plan(rng, "reception", delegation=True),
                       {"delegation_size": 12}, staged="delegation"))
    return out
