"""Letters about the election itself, recognised at intake and routed to the election bodies (DOMAIN.md §1.4, §9).

Complaints on the voter list, on candidates and on results are not the Sở's to resolve: the
Law on Elections (Luật Bầu cử ĐBQH và ĐBHĐND 2015) gives them to the election bodies, with
short clocks of their own (DOMAIN §1.4 E2–E4). A letter that reaches the Sở about one of them
must be passed on fast, before those clocks are eaten.

:func:`classify` is pure: the normalised subject and content of a letter (``engine.grouping.normalise``:
no diacritics, đ -> d, lower case, punctuation as spaces) against each topic's phrases, matched
as whole syllables; the topic with most phrases found wins (ties: the first in config order). A
phrase has two syllables or more (refused at load otherwise). Choosing them is the config's
work, and the shipped ones are tested against decoys: "cử tri" alone occurs in any letter whose
writers call themselves voters, "danh sách cử tri" only in one about the list; "niêm yết danh
sách" in land clearance too.

:func:`election_letter_reactors` gives the reactor on ``case.opened``: for a ``letter`` received
while a period of kind ``election`` is in force (at its date of receipt, any phase), whose text
falls under a topic, it fires the letter's system event :data:`EVENT` (``mark_election_matter``,
a self-loop of ``received`` that sets the field ``election_topic`` and starts the routing clock
of workflows/letter.yaml) and queues one message each to the clerk and the head of unit naming
the topic, the body to route to and its legal basis. Outside an election period nothing happens
(after the period, a late result complaint is an ordinary letter for an officer to judge). The
reactor fires only from a state the letter workflow allows it in, so it can never refuse and roll
back the opening (``adapters/bootstrap`` checks the workflow at build).

A topic with ``freeze_days_before`` (candidates: Điều 61 k2, 10 days) says in its message when the
letter was received within that many days before election day: the election bodies then no
longer consider it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.calendar import BusinessCalendar
from engine.grouping import normalise
from engine.periods import Period, phases
from engine.reactors import Effect, Enqueue, FireEvent, Reaction, Reactor

__all__ = ["EVENT", "KIND", "NOTIFIED", "ElectionLetters", "ElectionTopic", "Match", "classify",
           "election_letter_reactors"]

#: The letter's system event that marks it an election matter (workflows/letter.yaml).
EVENT = "mark_election_matter"
#: The outbox message's kind (channel ``notify``).
KIND = "election_letter"
#: Who is told: the clerk who routes it and the head of unit.
NOTIFIED = ("clerk", "head_of_unit")
CHANNEL = "notify"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ElectionTopic(_Model):
    """One kind of election matter: the phrases that recognise it and where it goes."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    phrases: tuple[str, ...] = Field(min_length=1)
    route_to: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    #: the election body's own time to resolve, in days (informative: it is their clock, not the Sở's)
    resolve_days: int | None = Field(default=None, gt=0, le=366)
    #: days before election day in which the election bodies stop considering the matter
    freeze_days_before: int | None = Field(default=None, gt=0, le=366)

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in value:
            if len(normalise(phrase).split()) < 2:
                raise ValueError(f"phrase {phrase!r} is a single syllable: it would match letters that use it in "
                                 f"passing (give two syllables or more, e.g. 'danh sách cử tri')")
        return value

    def normalised(self) -> tuple[str, ...]:
        """The phrases as the classifier compares them."""
        return tuple(normalise(p) for p in self.phrases)


class ElectionLetters(_Model):
    """``election_letters:`` of config.yaml: on or off, and the topics."""

    enabled: bool = True
    topics: list[ElectionTopic] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> ElectionLetters:
        ids: set[str] = set()
        owner: dict[str, str] = {}
        for topic in self.topics:
            if topic.id in ids:
                raise ValueError(f"topic id {topic.id!r} is declared twice")
            ids.add(topic.id)
            for phrase in topic.normalised():
                if phrase in owner:
                    raise ValueError(f"phrase {phrase!r} is in topics {owner[phrase]!r} and {topic.id!r}")
                owner[phrase] = topic.id
        return self


@dataclass(frozen=True, slots=True)
class Match:
    """A recognised topic and the (normalised) phrases found."""

    topic: ElectionTopic
    phrases: tuple[str, ...]


def classify(subject: str, content: str, topics: Sequence[ElectionTopic]) -> Match | None:
    """The election topic of a letter's subject and content, or None (pure; whole-word phrase match)."""
    text = f" {normalise(subject)} {normalise(content)} "
    best: Match | None = None
    for topic in topics:
        found = tuple(p for p in topic.normalised() if f" {p} " in text)
        if found and (best is None or len(found) > len(best.phrases)):
            best = Match(topic, found)
    return best


def election_letter_reactors(settings: ElectionLetters, periods: Sequence[Period], calendar: BusinessCalendar,
                             allowed_from: Collection[str]) -> dict[str, list[Reactor]]:
    """The ``case.opened`` reactor (empty when off, without topics, or without an election period).

    ``allowed_from``: the letter states :data:`EVENT` may be fired from (the workflow's ``from``).
    """
    elections = tuple(p for p in periods if p.kind == "election")
    if not settings.enabled or not settings.topics or not elections or not allowed_from:
        return {}
    return {"case.opened": [_RouteElectionLetters(tuple(settings.topics), elections, calendar,
                                                  frozenset(allowed_from))]}


class _RouteElectionLetters:
    """The reactor; its ``__name__`` names it in a ``ReactionError``."""

    __name__ = "election letters"

    def __init__(self, topics: tuple[ElectionTopic, ...], elections: tuple[Period, ...], calendar: BusinessCalendar,
                 allowed_from: frozenset[str]) -> None:
        self.topics, self.elections, self.calendar, self.allowed_from = topics, elections, calendar, allowed_from

    def __call__(self, reaction: Reaction) -> list[Effect]:
        """Mark and announce an election letter received in an election period; nothing otherwise."""
        case = reaction.case
        if case is None or case.kind != "letter" or case.state not in self.allowed_from:
            return []
        active = phases(self.elections, case.received_at, self.calendar)
        if not active:
            return []
        match = classify(case.subject, case.content, self.topics)
        if match is None:
            return []
        period = next(p for p in self.elections if p.id == active[0].period)
        topic = match.topic
        data: dict[str, Any] = {
            "topic": topic.id, "label": topic.label, "route_to": topic.route_to, "legal_basis": topic.legal_basis,
            "resolve_days": topic.resolve_days, "phrases": list(match.phrases), "period": period.id,
            "phase": active[0].phase, "case_id": case.id}
        frozen = _frozen_note(topic, period, case.received_at, self.calendar)
        if frozen:
            data["not_considered"] = frozen
        effects: list[Effect] = [FireEvent(case.id, EVENT, {"topic": topic.id})]
        effects += [Enqueue(CHANNEL, KIND, case.id, {**data, "role": role}) for role in NOTIFIED]
        return effects


def _frozen_note(topic: ElectionTopic, period: Period, received_at: datetime, calendar: BusinessCalendar) -> str | None:
    """The message's note when the letter came within the topic's freeze before election day."""
    if topic.freeze_days_before is None or period.day is None:
        return None
    day = calendar.local_date(received_at)
    first = period.day - timedelta(days=topic.freeze_days_before)
    if not first <= day < period.day:
        return None
    return (f"received {day.isoformat()}, within the last {topic.freeze_days_before} days before election day "
            f"{period.day.isoformat()} (from {first.isoformat()}): the election bodies no longer consider it "
            f"({topic.legal_basis})")
