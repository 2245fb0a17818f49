"""Tick scaling (DESIGN.md §5, §9; issue #5 item 3): 1,000 due timers among N open cases.

For each size N (10,000 and 100,000; ``--full`` adds 1,000,000) a database of its own is filled
with bulk INSERTs (``executemany`` on SQLite, ``COPY`` on PostgreSQL, then ``ANALYZE`` there as
autovacuum would), not through the engine: N complaints with a running ``acceptance`` deadline
(rows copied from one case the engine opened, so the encoding is kntc's). 1,000 of them, spread
over the table, have their timer (``next_fire_at``) in the past at the due rung; the others are
in the future. One ``engine.tick(now)`` then fires exactly 1,000 overdue rungs (claim, mark fired,
event, re-time). The rows are reset and the tick repeated; the sizes take turns (interleaved),
after one warm-up tick each. Figure: median ms per tick (CPU time on SQLite, wall clock on
PostgreSQL: see ``bench.common.stopwatch``); reference: the same at 10,000 cases.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bench.common import (
    START,
    Backend,
    Context,
    Db,
    build_engine,
    clock_name,
    closing,
    median,
    open_sample_case,
    progress,
    stopwatch,
)
from bench.table import Row, Target

NAME = "tick"
DUE = 1000
NOW = START + timedelta(days=30)  # acceptance (10 working days from 2 March) is overdue by then
TARGET = 2.0
RATE = 5_000.0  # rungs/s on PostgreSQL


def run(ctx: Context) -> None:
    sizes = [10_000, 100_000] + ([1_000_000] if ctx.full else [])
    reps = 3
    for backend in ctx.backends():
        if backend is None:
            for size in sizes[1:]:
                ctx.skip(NAME, f"PostgreSQL: tick, {size:,} open cases", "ms")
            continue
        _run_backend(ctx, backend, sizes, reps)


class Sized:
    """One database with ``size`` open cases, its engine and the ids of the due ones."""

    def __init__(self, backend: Backend, size: int) -> None:
        self.backend, self.size = backend, size
        self.db: Db = backend.new(f"tick_{size}")
        self.engine = build_engine(self.db)
        t0 = time.perf_counter()
        self.due_ids = _populate(self.engine, self.db, size)
        self.load_seconds = time.perf_counter() - t0
        spec = self.engine.runtime.keeper(self.engine.runtime.workflow("complaint")).specs["acceptance"]
        self.fired_through = round(max(spec.warn_at) * 1000)  # both warnings fired: the due rung (1000) is next
        self.conn = self.db.connect()
        self.watch = stopwatch(backend)

    def reset(self) -> None:
        """Put the 1,000 due timers back (in the past, at the due rung, not fired)."""
        b, c = self.backend, self.conn
        cur = c.cursor()
        if not b.postgres:
            cur.execute("BEGIN IMMEDIATE")
        cur.executemany(b.sql("UPDATE kntc_deadlines SET next_fire_at = due_at, fired_through = ?, "
                              "status = 'running' WHERE case_id = ? AND name = 'acceptance'"),
                        [(self.fired_through, cid) for cid in self.due_ids])
        cur.execute("DELETE FROM kntc_fired_rungs")
        cur.execute("COMMIT") if not b.postgres else c.commit()
        cur.close()

    def tick(self) -> float:
        self.reset()
        t0 = self.watch()
        report = self.engine.tick(NOW)
        elapsed = self.watch() - t0
        if report.fired != DUE:
            raise AssertionError(f"tick over {self.size:,} cases fired {report.fired} rungs, expected {DUE}")
        return elapsed

    def plan(self) -> str:
        """The claim query's plan: EXPLAIN QUERY PLAN (SQLite) / EXPLAIN (PostgreSQL)."""
        store = self.engine.runtime.store
        stmt = store.compiled["due_locked" if self.backend.postgres else "due"]
        params = stmt.params({"now": store.codec.dt_in(NOW), "limit": self.engine.runtime.tick_batch})
        cur = self.conn.cursor()
        if self.backend.postgres:
            cur.execute("EXPLAIN " + stmt.sql, params)
            text = "\n".join(r[0] for r in cur.fetchall())
            self.conn.rollback()
        else:
            cur.execute("EXPLAIN QUERY PLAN " + stmt.sql, params)
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _, detail in cur.fetchall():
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            text = "\n".join(lines)
        cur.close()
        return f"{stmt.sql}\n\n{text}"

    def close(self) -> None:
        self.conn.close()
        self.engine.runtime.store.engine.dispose()


def _run_backend(ctx: Context, backend: Backend, sizes: list[int], reps: int) -> None:
    dbs = []
    for size in sizes:
        progress(f"tick/{backend.name}: loading {size:,} open cases ({DUE:,} due)")
        sized = Sized(backend, size)
        progress(f"tick/{backend.name}: {size:,} cases loaded in {sized.load_seconds:.1f}s")
        dbs.append(sized)
    try:
        times: dict[int, list[float]] = {s.size: [] for s in dbs}
        for s in dbs:
            s.tick()  # warm-up
        for rep in range(reps):
            order = dbs[rep % len(dbs):] + dbs[:rep % len(dbs)]
            for s in order:
                times[s.size].append(s.tick())
        progress(f"tick/{backend.name}: " + ", ".join(f"{k:,}: {median(v) * 1000:.0f} ms" for k, v in times.items()))
        smallest = sizes[0]
        ref = median(times[smallest]) * 1000
        b = backend.name
        for size in sizes[1:]:
            figure = median(times[size]) * 1000
            ctx.add(Row(NAME, f"{b}: tick, {size:,} open cases", figure, "ms", f"{b}: tick, {smallest:,} open cases",
                        ref, Target("<=", TARGET),
                        note=f"{DUE:,} due; median of {reps}, {clock_name(backend)} time; "
                             f"{figure * 1000 / DUE:.0f} µs/rung"))
        if backend.postgres:  # DESIGN §9: >= 5,000 rungs/s, the round trips batched per claimed batch
            largest = median(times[sizes[-1]])
            ctx.add(Row(NAME, f"{b}: rungs per second, {sizes[-1]:,} open cases", DUE / largest, "rungs/s",
                        f"{b}: tick, {smallest:,} open cases", DUE / (ref / 1000), Target(">=", RATE, on="figure"),
                        note=f"{DUE:,} due rungs per tick; batch of {dbs[-1].engine.runtime.tick_batch}"))
        ctx.table.note(f"tick/{b}: claim query and its plan at {sizes[-1]:,} open cases", dbs[-1].plan())
    finally:
        for s in dbs:
            s.close()
            if backend.postgres:
                backend.drop(s.db)  # type: ignore[attr-defined]


def _populate(engine: Any, db: Db, size: int) -> list[str]:
    """Fill ``db`` with ``size`` open complaints; return the ids of the DUE ones whose timer is past."""
    open_sample_case(engine, received_at=START)  # the template: kntc's own encoding of both rows
    backend = db.backend
    with closing(db.connect()) as conn:
        cur = conn.cursor()
        cur.execute("SELECT * FROM kntc_cases")
        case_cols = [d[0] for d in cur.description]
        case_row = list(cur.fetchone())
        cur.execute("SELECT * FROM kntc_deadlines WHERE name = 'acceptance'")
        dl_cols = [d[0] for d in cur.description]
        dl_row = list(cur.fetchone())
        if not backend.postgres:
            cur.execute("BEGIN IMMEDIATE")
        for table in ("kntc_deadlines", "kntc_history", "kntc_events", "kntc_parties", "kntc_cases"):
            cur.execute(f"DELETE FROM {table}")  # table names are constants
        cur.execute("COMMIT") if not backend.postgres else conn.commit()

        rng = random.Random(size)
        ids = sorted(f"{rng.getrandbits(128):032x}" for _ in range(size))
        due = {ids[i * size // DUE] for i in range(DUE)}
        codec = engine.runtime.store.codec
        due_at = codec.dt_out(dl_row[dl_cols.index("due_at")])
        assert isinstance(due_at, datetime)
        i_id, i_case = case_cols.index("id"), dl_cols.index("case_id")
        i_next, i_rung = dl_cols.index("next_fire_at"), dl_cols.index("fired_through")
        due_rung = round(max(engine.runtime.keeper(engine.runtime.workflow("complaint")).specs["acceptance"].warn_at)
                         * 1000)  # the last warning fired: the due rung is next

        def cases() -> Iterator[list[Any]]:
            row = _plain(case_row, backend.postgres)
            for cid in ids:
                row[i_id] = cid
                yield row

        def deadlines() -> Iterator[list[Any]]:
            row = _plain(dl_row, backend.postgres)
            for cid in ids:
                row[i_case] = cid
                if cid in due:
                    row[i_next], row[i_rung] = codec.dt_in(due_at), due_rung
                else:  # a timer between two months and a year ahead
                    row[i_next] = codec.dt_in(NOW + timedelta(days=rng.randint(60, 365), minutes=rng.randint(0, 1439)))
                    row[i_rung] = 0
                yield row

        _bulk(conn, backend, "kntc_cases", case_cols, cases())
        _bulk(conn, backend, "kntc_deadlines", dl_cols, deadlines())
        if backend.postgres:
            conn.autocommit = True
            conn.execute("ANALYZE kntc_cases")
            conn.execute("ANALYZE kntc_deadlines")
            conn.autocommit = False
    return sorted(due)


def _plain(row: list[Any], postgres: bool) -> list[Any]:
    """A row for COPY (PostgreSQL gets JSON as text) or executemany (SQLite values are already text)."""
    if not postgres:
        return list(row)
    return [json.dumps(v) if isinstance(v, dict | list) else v for v in row]


def _bulk(conn: Any, backend: Backend, table: str, cols: list[str], rows: Iterator[list[Any]]) -> None:
    names = ", ".join(cols)
    if backend.postgres:
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})", (tuple(r) for r in rows))
    cur.execute("COMMIT")
    cur.close()

