"""Engines for integration tests: the same store and workflows with other reactors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.reactors import Reactor
from engine.service import Engine


def with_reactors(engine: Engine, reactors: Mapping[str, Sequence[Reactor]]) -> Engine:
    """An engine over the same store and workflows, with ``reactors``."""
    rt = engine.runtime
    return Engine(store=rt.store, workflows=rt.workflows, calendar=rt.calendar, clock=rt.clock, reactors=reactors)
