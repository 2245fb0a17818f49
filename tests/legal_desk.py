"""The desk the legal tests drive the shipped workflows from: an engine on a ManualClock, one step at a time.

Every step sets the clock first, then acts as the officer of its role (ACTORS), so that a test reads as the
dated walk of a case and its expected dates can be counted by hand. ``Desk`` opens cases of any kind
(``desk.open("complaint", received)``); ``KindDesk`` opens cases of one kind against one respondent
(``desk.open(received)``). A test file that needs another respondent, start date or a helper of its own
passes it or subclasses here. Nothing here computes a legal date: the tests write theirs out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from engine import Case, Engine, NotAllowedError
from engine.testing import ManualClock, memory_engine

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
D = date
ACTORS = {"clerk": "cb.lan", "inspector": "ttv.minh", "head_of_unit": "tp.son", "director": "gd.tuan",
          "system": "he.thong"}
REASON: dict[str, Any] = {"reason": "Căn cứ ghi trong hồ sơ"}
RESPONDENT = "UBND phường Xuân Hương"
SUBJECT = "Đơn thử nghiệm"


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An aware moment in Asia/Ho_Chi_Minh."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


class BaseDesk:
    """A fresh engine per desk (the tick sweeps every case of its store); each step sets the clock first."""

    def __init__(self, start: datetime | None = None) -> None:
        self.clock = ManualClock(start or at(2026, 1, 5))
        self.engine: Engine = memory_engine(self.clock)

    def open_case(self, kind: str, received: datetime, *, respondent: str = RESPONDENT,
                  petitioners: list[dict[str, Any]] | None = None, subject: str = SUBJECT,
                  channel: str = "post", fields: dict[str, Any] | None = None) -> Case:
        """Open a case of ``kind`` received at ``received`` (the clock set to that moment)."""
        self.clock.set(received)
        return self.engine.open_case(kind, received_at=received, respondent=respondent,
                                     petitioners=petitioners or [{"name": "Người 0"}], subject=subject,
                                     channel=channel, fields=fields or {})

    def fire(self, case: Case, event: str, when: datetime, role: str, *, occurred_at: datetime | None = None,
             **payload: Any) -> Case:
        """Fire ``event`` at ``when`` as the officer of ``role`` (``occurred_at``: an act recorded late)."""
        self.clock.set(when)
        return self.engine.fire(case.id, event, actor=ACTORS[role], role=role, payload=payload,
                                occurred_at=occurred_at)

    def refused(self, case: Case, event: str, when: datetime, role: str, **payload: Any) -> str:
        """Assert that ``event`` is refused and changes nothing; return why."""
        return self.refusal(case, event, when, role, **payload).why

    def refusal(self, case: Case, event: str, when: datetime, role: str, **payload: Any) -> NotAllowedError:
        """Assert that ``event`` is refused and changes nothing; return the error the user gets."""
        before = self.engine.get(case.id)
        with pytest.raises(NotAllowedError) as refusal:
            self.fire(case, event, when, role, **payload)
        assert self.engine.get(case.id).version == before.version
        return refusal.value

    def tick(self, when: datetime) -> None:
        """Run the daemon's tick at ``when`` (every due rung and timed event of the store fires)."""
        self.clock.set(when)
        self.engine.tick()

    def ticked(self, case: Case, when: datetime) -> Case:
        """Run the daemon's tick at ``when``; return ``case`` as it then is."""
        self.tick(when)
        return self.engine.get(case.id)

    def get(self, case: Case) -> Case:
        """``case`` as it now is in the store."""
        return self.engine.get(case.id)


class Desk(BaseDesk):
    """Opens cases of any kind against RESPONDENT, with ``people`` petitioners."""

    def open(self, kind: str, received: datetime, people: int = 1, **fields: Any) -> Case:
        """Open a ``kind`` case received at ``received`` from ``people`` petitioners, with ``fields``."""
        return self.open_case(kind, received, petitioners=[{"name": f"Người {i}"} for i in range(people)],
                              fields=fields)


class KindDesk(BaseDesk):
    """Opens cases of one ``kind`` against one ``respondent`` (set by a subclass or at construction)."""

    kind: ClassVar[str] = ""
    respondent: ClassVar[str] = RESPONDENT
    petitioner: ClassVar[str] = "Người 0"
    subject: ClassVar[str] = SUBJECT

    def open(self, received: datetime, **fields: Any) -> Case:
        """Open a case of this desk's kind received at ``received``, with ``fields``."""
        return self.open_case(self.kind, received, respondent=self.respondent,
                              petitioners=[{"name": self.petitioner}], subject=self.subject, fields=fields)


def verifying_complaint(desk: Desk, accepted: datetime, **fields: Any) -> Case:
    """A first-instance complaint received, accepted and under verification on ``accepted``."""
    case = desk.open("complaint", accepted, **fields)
    case = desk.fire(case, "accept", accepted, "inspector")
    return desk.fire(case, "start_verification", accepted, "inspector")


def decided_complaint(desk: Desk, decided: datetime, *, accepted: datetime, **fields: Any) -> Case:
    """A first-instance complaint walked from receipt to `decide` without a dialogue (LKN Điều 30 k1)."""
    case = verifying_complaint(desk, accepted, **fields)
    case = desk.fire(case, "draft_decision", decided, "inspector")
    return desk.fire(case, "decide", decided, "head_of_unit")
