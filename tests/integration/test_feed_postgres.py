"""PostgreSQL: a portal polling the feed with a cursor never skips an event written concurrently."""

from __future__ import annotations

import threading

import pytest

from adapters.bootstrap import build
from adapters.config import Settings
from engine.testing import ManualClock


@pytest.mark.postgres
@pytest.mark.slow
def test_a_polling_reader_sees_every_event_once_in_order(pg_url: str, settings: Settings,
                                                         clock: ManualClock) -> None:
    """Four writers open cases while a reader polls with a cursor: it sees seq 1..N, no gap, no repeat."""
    eng = build(settings, database_url=pg_url, clock=clock)
    writers, per_writer = 4, 40
    done = threading.Event()
    seen: list[int] = []
    gaps: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(per_writer):
                case = eng.open_case("petition", received_at=clock.now(), petitioners=[{"name": "A"}],
                                     respondent="R", subject="S")
                eng.fire(case.id, "classify", actor="cb01", role="clerk")
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            for event in eng.events(after=cursor, limit=50):
                if event.seq != cursor + 1:
                    gaps.append((cursor, event.seq))
                seen.append(event.seq)
                cursor = event.seq
            if finished:
                return

    threads = [threading.Thread(target=write) for _ in range(writers)]
    reader = threading.Thread(target=read)
    try:
        reader.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        done.set()
        reader.join(120)
        assert not errors, errors[0]
        total = writers * per_writer * 2  # case.opened + case.transitioned per case
        assert gaps == []
        assert seen == list(range(1, total + 1))
    finally:
        done.set()
        eng.close()
