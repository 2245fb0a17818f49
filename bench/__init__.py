"""kntc's benchmarks (DESIGN.md §9, issue #5): ``python -m bench`` / ``make bench``.

Every figure is printed next to a reference measured in the same run, as a ratio: the machine is
shared and noisy, absolute figures are not comparable between runs, ratios are.

To add a benchmark (hot-spot detection on opening, notification dispatch, ...): write a module
with ``run(ctx: bench.common.Context) -> None`` that adds :class:`bench.table.Row` values with
``ctx.add(...)`` (and ``ctx.skip(...)`` for a backend that is not there), then register it in
:data:`BENCHMARKS` below. Its rows land in the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.common import Context

__all__ = ["BENCHMARKS"]


def _lazy(module: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        from importlib import import_module
        import_module(f"bench.{module}").run(ctx)
    run.__name__ = module
    return run


#: name -> runner, in the order a full run takes them
BENCHMARKS: dict[str, Callable[[Context], None]] = {
    name: _lazy(name) for name in ("transitions", "memory", "tick", "projection", "feed", "grouping",
                                        "webhook_dispatch", "report")
}
