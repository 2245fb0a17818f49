"""Event feed (issue #5 item 5): events read per second by a portal polling with a cursor.

The feed table is filled with bulk INSERTs (``executemany`` / ``COPY``) of ``case.transitioned``
events shaped like kntc's (the first row comes from a case the engine opened). kntc reads it with
``Engine.events(after=cursor, limit=page)`` until it is exhausted, moving the cursor to the last
``seq``; the reference reads it with the raw driver running the same SELECT (``seq > ?`` ordered,
``LIMIT``) in autocommit, one statement per page, rows left as the driver returns them.
Runs alternate; the figure is the median of 3 (CPU time on SQLite, wall clock on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

from bench.common import (
    START,
    Backend,
    Context,
    build_engine,
    clock_name,
    closing,
    median,
    open_sample_case,
    progress,
    stopwatch,
)
from bench.table import Row

NAME = "feed"
PAGES = (100, 1000)


def run(ctx: Context) -> None:
    count = 200_000 if ctx.full else 20_000
    for backend in ctx.backends():
        if backend is None:
            for page in PAGES:
                ctx.skip(NAME, f"PostgreSQL: Engine.events, pages of {page}", "ev/s")
            continue
        _run_backend(ctx, backend, count)


def _run_backend(ctx: Context, backend: Backend, count: int) -> None:
    progress(f"feed/{backend.name}: loading {count:,} events")
    db = backend.new("feed")
    eng = build_engine(db)
    _populate(eng, backend, db, count)
    conn = db.connect()
    if backend.postgres:
        conn.autocommit = True
    select = backend.sql("SELECT seq, type, case_id, at, data FROM kntc_events WHERE seq > ? ORDER BY seq LIMIT ?")

    def kntc(page: int) -> int:
        cursor, read = 0, 0
        while True:
            events = eng.events(after=cursor, limit=page)
            if not events:
                return read
            read += len(events)
            cursor = events[-1].seq

    def raw(page: int) -> int:
        cursor, read = 0, 0
        cur = conn.cursor()
        while True:
            cur.execute(select, (cursor, page))
            rows = cur.fetchall()
            if not rows:
                cur.close()
                return read
            read += len(rows)
            cursor = rows[-1][0]

    watch = stopwatch(backend)
    try:
        for page in PAGES:
            times: dict[str, list[float]] = {"kntc": [], "raw": []}
            for rep in range(3):
                for name in (("kntc", "raw") if rep % 2 == 0 else ("raw", "kntc")):
                    t0 = watch()
                    read = kntc(page) if name == "kntc" else raw(page)
                    times[name].append(watch() - t0)
                    if read != count:
                        raise AssertionError(f"feed/{backend.name}: {name} read {read} events, expected {count}")
            b = backend.name
            ctx.add(Row(NAME, f"{b}: Engine.events, pages of {page}", count / median(times["kntc"]), "ev/s",
                        f"{b}: raw SELECT, same pages", count / median(times["raw"]),
                        note=f"{count:,} events, {clock_name(backend)} time"))
    finally:
        conn.close()
        eng.runtime.store.engine.dispose()


def _populate(eng: Any, backend: Backend, db: Any, count: int) -> None:
    """``count`` feed events with seq 1..count (the engine's own first event gives the encoding)."""
    case = open_sample_case(eng)
    codec = eng.runtime.store.codec
    with closing(db.connect()) as conn:
        cur = conn.cursor()
        if not backend.postgres:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute("DELETE FROM kntc_events")

        def rows() -> Iterator[tuple[Any, ...]]:
            for seq in range(1, count + 1):
                at = (START + timedelta(seconds=seq)).astimezone(UTC)
                data = {"kind": "complaint", "event": "accept", "source": "intake_check", "target": "accepted",
                        "version": 2, "role": "inspector"}
                yield (seq, "case.transitioned", case.id, codec.dt_in(at),
                       json.dumps(data, ensure_ascii=False, separators=(",", ":")))

        if backend.postgres:
            conn.commit()
            with cur.copy("COPY kntc_events (seq, type, case_id, at, data) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            cur.execute("UPDATE kntc_feed_counter SET last_seq = %s", (count,))
            conn.commit()
        else:
            cur.executemany("INSERT INTO kntc_events (seq, type, case_id, at, data) VALUES (?, ?, ?, ?, ?)", rows())
            cur.execute("COMMIT")
        cur.close()
