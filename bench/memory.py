"""Memory (DESIGN.md §9, issue #5 item 2): what the engine holds per case, and how many Machines.

Measured with ``tracemalloc`` (Python allocations) on SQLite; the store keeps nothing per case, so
the backend does not matter here.

- **idle**: bytes still allocated per case opened, the returned values dropped (the engine idle
  between commands), taken as the slope between M and 2M opens so that bounded caches filled by
  the first ones (connection pool, projection caches) do not count as "per case". Cases live in
  the database, so this should be ~0. Reference:
  the naive design, which keeps one ORM object with its own ``transitions`` Machine per open case.
- **during a command**: the peak of extra allocations while one ``fire`` runs (the case is
  loaded, checked, written and returned as a value). Reference: the naive peer's ``fire``
  (ORM session, object, a Machine built for the case).
- **Machines**: ``transitions.Machine`` objects alive (``gc.get_objects``) that this engine built,
  against the number of workflow definitions it loaded; and those built by M opens + K fires.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import timedelta
from typing import Any

from transitions import Machine

from bench.common import START, Context, build_engine, median, open_sample_case, progress
from bench.naive import NaiveCase, NaivePeer, naive_machine, naive_transitions
from bench.table import Row, Target

NAME = "memory"


def count_machines() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Machine))


def run(ctx: Context) -> None:
    opens = 3000 if ctx.full else 400
    fires = 200 if ctx.full else 60
    held = 300 if ctx.full else 100
    db = ctx.sqlite.new("mem")
    machines_before = count_machines()
    eng = build_engine(db)
    machines_built = count_machines() - machines_before
    definitions = len(eng.runtime.workflows)
    dates = [START - timedelta(days=d) for d in range(20)]
    for day in dates:  # warm up: imports, statement caches, per-date projection caches
        c = open_sample_case(eng, received_at=day)
        eng.fire(c.id, "accept", actor="cb01", role="inspector")
    ids = [open_sample_case(eng, received_at=dates[i % 20]).id for i in range(fires)]

    progress(f"memory: {opens} opens and {fires} fires under tracemalloc")
    machines_before_commands = count_machines()
    tracemalloc.start()
    try:
        first = _retained(lambda i: open_sample_case(eng, received_at=dates[i % 20]), opens)
        second = _retained(lambda i: open_sample_case(eng, received_at=dates[i % 20]), opens)
        idle = second  # the first batch fills the bounded caches
        peaks, kept = _peaks(lambda i: eng.fire(ids[i], "accept", actor="cb01", role="inspector"), fires)
    finally:
        tracemalloc.stop()
    machines_after_commands = count_machines()
    eng.runtime.store.engine.dispose()

    # the naive design: one Machine per open case held in memory, one built per command
    compiled = eng.runtime.workflow("complaint")
    states, edges = list(compiled.definition.states), naive_transitions(compiled)
    defaults = compiled.validate_fields({})
    holding: list[Any] = []
    tracemalloc.start()
    try:
        def hold(i: int) -> None:
            case = NaiveCase(id=f"n{i}", kind="complaint", state=compiled.definition.initial, version=1,
                             fields=dict(defaults), updated_at=START)
            naive_machine(case, states, edges)
            holding.append(case)
        naive_idle = _retained(hold, held)
    finally:
        tracemalloc.stop()
    holding.clear()
    naive_ids = [f"nv{i}" for i in range(fires)]
    naive = NaivePeer(ctx.sqlite, compiled, naive_ids)
    for cid in naive_ids[:5]:
        naive.fire(cid, "accept", "inspector", START)  # warm up
    tracemalloc.start()
    try:
        naive_peaks, _ = _peaks(lambda i: naive.fire(naive_ids[i + 5], "accept", "inspector", START), fires - 5)
    finally:
        tracemalloc.stop()
    naive.close()

    ctx.add(Row(NAME, "bytes retained per open case, engine idle", idle, "B", "naive: ORM object + Machine per case",
                naive_idle, Target("<=", 64, on="figure"),
                note=f"slope {opens}->{2 * opens} opens; first {opens}: {first:.0f} B/case incl. bounded caches"))
    ctx.add(Row(NAME, "peak bytes per case attached during fire", median(peaks), "B",
                "naive: ORM session + Machine built per command", median(naive_peaks),
                note=f"median of {fires}; retained after: {kept:.0f} B/fire"))
    ctx.add(Row(NAME, "Machines held by the engine", machines_built, "", "workflow definitions loaded",
                definitions, Target("<=", 1.0)))
    ctx.add(Row(NAME, f"Machines built by {opens} opens + {fires} fires", machines_after_commands
                - machines_before_commands, "", note="one per definition, none per case",
                target=Target("<=", 0, on="figure")))


def _retained(step: Any, count: int) -> float:
    """Bytes per step still allocated after ``count`` steps whose results are dropped."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        step(i)
    gc.collect()
    return (tracemalloc.get_traced_memory()[0] - before) / count


def _peaks(step: Any, count: int) -> tuple[list[float], float]:
    """Peak extra bytes of each step, and bytes per step retained after all of them."""
    gc.collect()
    start = tracemalloc.get_traced_memory()[0]
    peaks = []
    for i in range(count):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step(i)
        peaks.append(tracemalloc.get_traced_memory()[1] - before)
    gc.collect()
    return peaks, (tracemalloc.get_traced_memory()[0] - start) / count
