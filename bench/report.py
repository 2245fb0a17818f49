"""Reports (DESIGN §6c, issue 12): ``Engine.report`` of a quarter over N cases vs raw SQL counts of the same figures.

``python -m bench.report [--full]`` (``python -m bench --only report`` once registered). The bench's
setup writes N cases (20,000 quick, 100,000 ``--full``) straight into a database kntc migrated:
received from 01/10/2025 to 30/06/2026 (so the first quarter of 2026 carries cases over from the
last one), of five kinds over four channels, each with its history (opened; accepted or guided two
days later for 70 %; resolved 10 to 50 days after that for 80 % of those), the resolution ledger of
the accepted ones (30 days; ``missed`` when resolved late or still open past due), a feed event per
history entry and an escalation per 50 cases, and a hot spot per 200.

The figure is the wall time of ``Engine.report(date(2026, 1, 1), date(2026, 3, 31))`` (median of 3);
the reference, measured in the same run on the same connection kind, is hand-written SQL counting
the same figures (received by kind, channel and day; the first resolution of each case; the
carried-over balance; what is overdue at the quarter's end; escalations by day), so the ratio is
what kntc adds to the database's own work. Target: ≤ 5 s at 100,000 cases on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import TZ, Backend, Context, Db, build_engine, closing, median, progress
from bench.table import Row, Target

NAME = "report"
QUARTER = (date(2026, 1, 1), date(2026, 3, 31))
_FIRST = datetime(2025, 10, 1, 8, 0, tzinfo=TZ)
_SPAN_DAYS = 272  # 01/10/2025 .. 29/06/2026
_NOW = datetime(2026, 7, 15, 9, 0, tzinfo=TZ)
_KINDS = [("complaint", "accept", "decide"), ("letter", "guide", None), ("denunciation", "accept", "conclude"),
          ("petition", "accept", "answer"), ("reception", "guide", None)]
_WEIGHTS = [30, 40, 15, 10, 5]
_CHANNELS = ["post", "reception", "portal", "forwarded"]

# the raw reference: the same figures, hand-written (``?`` placeholders; ``{day}`` the dialect's local day)
_RAW = [
    "SELECT kind, channel, {day_received}, count(*) FROM kntc_cases WHERE received_at >= ? AND received_at < ? "
    "GROUP BY 1, 2, 3",
    "SELECT f.kind, {day_first}, count(*) FROM (SELECT h.case_id, c.kind, min(h.at) AS at FROM kntc_history h "
    "JOIN kntc_cases c ON c.id = h.case_id WHERE h.event IN ('decide', 'conclude', 'answer', 'guide') "
    "GROUP BY 1, 2) f WHERE f.at >= ? AND f.at < ? GROUP BY 1, 2",
    "SELECT c.kind, count(*) FROM kntc_cases c LEFT JOIN (SELECT h.case_id, min(h.at) AS at FROM kntc_history h "
    "WHERE h.event IN ('decide', 'conclude', 'answer', 'guide') GROUP BY 1) f ON f.case_id = c.id "
    "WHERE c.received_at < ? AND (f.at IS NULL OR f.at >= ?) GROUP BY 1",
    "SELECT c.kind, count(*) FROM kntc_deadlines d JOIN kntc_cases c ON c.id = d.case_id "
    "WHERE d.name = 'resolution' AND d.due_at < ? AND (d.closed_at IS NULL OR d.closed_at >= ?) GROUP BY 1",
    "SELECT {day_event}, count(*) FROM kntc_events WHERE type = 'escalation.raised' AND at >= ? AND at < ? "
    "GROUP BY 1",
]


def run(ctx: Context) -> None:
    count = 100_000 if ctx.full else 20_000
    for backend in ctx.backends():
        if backend is None:
            ctx.skip(NAME, f"PostgreSQL: report of a quarter, {count:,} cases", "s")
            continue
        _measure(ctx, backend, count)


def _measure(ctx: Context, backend: Backend, count: int) -> None:
    from engine.testing import ManualClock
    db = backend.new(f"report_{count}")
    engine = build_engine(db, ManualClock(_NOW))
    try:
        progress(f"{NAME}: writing {count:,} cases into {backend.name}")
        hashes = {name: w.content_hash for name, w in engine.runtime.workflows.items()}
        t0 = time.perf_counter()
        _fill(db, count, hashes)
        progress(f"{NAME}: {backend.name} filled in {time.perf_counter() - t0:.1f}s; timing")
        figure, raw = [], []
        for _ in range(3):
            started = time.perf_counter()
            report = engine.report(*QUARTER)
            figure.append(time.perf_counter() - started)
            raw.append(_raw_counts(db))
        received = sum(r["received"] for r in report.tables["summary_by_kind"])
        ctx.add(Row(NAME, f"{backend.name}: Engine.report of a quarter, {count:,} cases ({received:,} received)",
                    median(figure), "s", ref_name="raw SQL counts of the same figures", ref=median(raw),
                    target=Target("<=", 5.0, on="figure"),
                    note="wall time, median of 3"))
    finally:
        engine.close()


def _fill(db: Db, count: int, hashes: dict[str, str]) -> None:
    """The cases, their histories, resolution ledgers, feed events and hot spots (seeded)."""
    from adapters.sql.rows import Codec
    c = Codec(db.postgres)
    rng = random.Random(12)
    cases, history, ledgers, events, spots = [], [], [], [], []
    empty = c.json_in({})
    for n in range(count):
        kind, first_act, resolve = rng.choices(_KINDS, _WEIGHTS)[0]
        case_id = f"c{n:07d}"
        received = _FIRST + timedelta(days=rng.random() * _SPAN_DAYS)
        acts = [("opened", received)]
        if rng.random() < 0.7:
            accepted = received + timedelta(days=2)
            acts.append((first_act, accepted))
            resolved = accepted + timedelta(days=rng.uniform(10, 50)) if resolve and rng.random() < 0.8 else None
            if resolve and resolved is not None:
                acts.append((resolve, resolved))
            if resolve:
                due = accepted + timedelta(days=30)
                late = (resolved or _NOW) > due
                ledgers.append((case_id, "resolution", "missed" if late else ("met" if resolved else "running"),
                                c.dt_in(accepted), c.date_in(accepted.date()), c.json_in([]), 0, 0, 0, 0,
                                None, c.dt_in(due), c.dt_in(resolved), resolve if resolved else None, 0))
        last = acts[-1][1]
        cases.append((case_id, kind, hashes[kind], "x", None, len(acts), c.dt_in(received), c.dt_in(received),
                      c.dt_in(last), rng.choice(_CHANNELS), "Đơn thử nghiệm", "UBND phường", "", 1, empty,
                      "0" * 64, "normal", None, c.json_in([])))
        for seq, (event, moment) in enumerate(acts, 1):
            history.append((case_id, seq, event, None, "x", "cb", "inspector", c.dt_in(moment), empty, "0" * 64))
            events.append(("case.opened" if seq == 1 else "case.transitioned", case_id, c.dt_in(moment), empty))
        if n % 50 == 0:
            events.append(("escalation.raised", case_id, c.dt_in(received + timedelta(hours=1)), empty))
        if n % 200 == 0:
            spots.append((f"s{n}", rng.choice(["crowded", "prolonged", "complex"]), f"g{n}", c.json_in([case_id]),
                          c.json_in([]), c.dt_in(received), c.dt_in(received), True))
    with closing(db.connect()) as con:
        cur = con.cursor()
        sql = db.backend.sql
        if not db.postgres:
            cur.execute("BEGIN")
        cur.executemany(sql("INSERT INTO kntc_cases (id, kind, definition_hash, state, previous_state, version, "
                            "received_at, opened_at, updated_at, channel, subject, respondent, content, "
                            "petitioner_count, fields, history_head, priority, forwarded_from, flags) "
                            f"VALUES ({', '.join('?' * 19)})"), cases)
        cur.executemany(sql("INSERT INTO kntc_history (case_id, seq, event, source, target, actor, role, at, "
                            f"payload, hash) VALUES ({', '.join('?' * 10)})"), history)
        cur.executemany(sql("INSERT INTO kntc_deadlines (case_id, name, status, started_at, start_date, pauses, "
                            "extensions, extended_by, cycle, fired_through, next_fire_at, due_at, closed_at, "
                            f"closed_by, attempts) VALUES ({', '.join('?' * 15)})"), ledgers)
        if db.postgres:  # the feed's seq comes from the counter row elsewhere; here numbered in order
            cur.execute("SELECT coalesce(max(seq), 0) FROM kntc_events")
            base = cur.fetchone()[0]
            cur.executemany("INSERT INTO kntc_events (seq, type, case_id, at, data) VALUES (%s, %s, %s, %s, %s)",
                            [(base + i + 1, *e) for i, e in enumerate(events)])
            cur.execute("UPDATE kntc_feed_counter SET last_seq = %s WHERE id = 1", (base + len(events),))
        else:
            cur.executemany("INSERT INTO kntc_events (type, case_id, at, data) VALUES (?, ?, ?, ?)", events)
        cur.executemany(sql("INSERT INTO kntc_hot_spots (id, type, group_id, case_ids, reasons, detected_at, "
                            f"updated_at, is_open) VALUES ({', '.join('?' * 8)})"), spots)
        con.commit()
        if db.postgres:
            cur.execute("ANALYZE")
        else:
            cur.execute("ANALYZE")


def _raw_counts(db: Db) -> float:
    """Seconds the hand-written SQL of the same figures takes (one connection, opened before timing)."""
    start = datetime.combine(QUARTER[0], datetime.min.time(), tzinfo=TZ).astimezone(UTC)
    end = datetime.combine(QUARTER[1] + timedelta(days=1), datetime.min.time(), tzinfo=TZ).astimezone(UTC)
    from adapters.sql.rows import Codec
    c = Codec(db.postgres)
    s, e = c.dt_in(start), c.dt_in(end)

    def day(col: str) -> str:
        return f"CAST(timezone('Asia/Ho_Chi_Minh', {col}) AS DATE)" if db.postgres else f"date({col}, '+420 minutes')"

    params: list[tuple[Any, ...]] = [(s, e), (s, e), (s, s), (e, e), (s, e)]
    with closing(db.connect()) as con:
        cur = con.cursor()
        started = time.perf_counter()
        for text, values in zip(_RAW, params, strict=True):
            sql = text.format(day_received=day("received_at"), day_first=day("f.at"), day_event=day("at"))
            cur.execute(db.backend.sql(sql), values)
            cur.fetchall()
        elapsed = time.perf_counter() - started
        if db.postgres:
            con.rollback()
    return elapsed


def main(argv: list[str]) -> int:
    """Standalone: run this benchmark and print its table."""
    import os
    from pathlib import Path

    from bench.common import silence_logs
    silence_logs()
    os.chdir(Path(__file__).resolve().parent.parent)
    with Context.open(full="--full" in argv, with_postgres="--no-postgres" not in argv) as ctx:
        run(ctx)
        ctx.table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
