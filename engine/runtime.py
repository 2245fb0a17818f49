"""What every use case needs: the store, the calendar, the clock, the workflows and their keepers.

A :class:`Runtime` is built once per engine (by :func:`adapters.bootstrap.build` or
:func:`engine.testing.memory_engine`) and shared by the facade, the pipeline, the tick and the
maintenance use cases. It holds no case data.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.calendar import BusinessCalendar
from engine.deadlines import DeadlineKeeper, WarnWindow
from engine.definitions import WorkflowDefinition
from engine.errors import NotFound, ValidationError
from engine.inputs import DEFAULT_LIMITS, Limits, require_aware
from engine.jobs import ScheduledJob
from engine.machines import CompiledWorkflow, compile_workflow
from engine.model import CaseRecord
from engine.people import Directory
from engine.periods import ActivePhase, Period, check_periods, phases, warn_windows
from engine.ports import Clock, Store, Transaction
from engine.reactors import Reactor, Reactors

__all__ = ["Retry", "Runtime", "jitter_unit"]


@dataclass(frozen=True, slots=True)
class Retry:
    """How an item that raised (a rung, a job, an outbox delivery) is tried again.

    The n-th failure puts it off by ``base_seconds * 2**(n-1)`` (at most ``max_seconds``), times a
    jitter factor in ``[1 - jitter, 1 + jitter]``; after ``max_attempts`` failures it is dead:
    shown, no longer tried, until an operator re-queues it.

    The jitter factor is not random: it is drawn from a hash of ``(salt, attempts)`` (the salt is
    e.g. the message's idempotency key), so the retries of many messages that failed together
    spread out, yet the next try of one message is known exactly (a test with a manual clock
    computes it). The cap applies before the jitter: a capped delay still spreads.
    """

    max_attempts: int = 5
    base_seconds: float = 60.0
    max_seconds: float = 6 * 3600.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.jitter < 1:
            raise ValidationError("jitter", f"must be at least 0 and below 1, got {self.jitter}")

    def delay(self, attempts: int, salt: str = "") -> float:
        """Seconds to wait after the ``attempts``-th failure of the item named by ``salt``."""
        base = float(min(self.max_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1)))
        if not self.jitter:
            return base
        return base * (1.0 + self.jitter * (2.0 * jitter_unit(salt, attempts) - 1.0))

    def dead(self, attempts: int) -> bool:
        """Whether ``attempts`` failures exhaust the item."""
        return attempts >= self.max_attempts


def jitter_unit(salt: str, attempts: int) -> float:
    """A number in ``[0, 1)`` fixed by ``(salt, attempts)``: 53 bits of their BLAKE2b."""
    digest = hashlib.blake2b(f"{attempts}:{salt}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / 2.0 ** 53


class Runtime:
    """The shared machinery of one engine (no case data)."""

    def __init__(self, *, store: Store, workflows: Mapping[str, CompiledWorkflow], calendar: BusinessCalendar,
                 clock: Clock, id_factory: Callable[[], str] | None = None, tick_batch: int = 500,
                 reactors: Mapping[str, Sequence[Reactor]] | None = None, jobs: Iterable[ScheduledJob] = (),
                 retry: Retry | None = None, extra_warn_at: tuple[float, ...] = (),
                 limits: Limits | None = None) -> None:
        for fraction in extra_warn_at:
            if not 0 < fraction < 1:
                raise ValidationError("extra_warn_at", f"fractions lie strictly between 0 and 1, got {fraction}")
        self.store = store
        self.calendar = calendar
        self.clock = clock
        self.workflows = dict(workflows)
        self.reactors = Reactors(reactors or {})
        self.jobs = tuple(jobs)
        self.retry = retry or Retry()
        self.tick_batch = tick_batch
        #: the size bounds of API input (config.yaml ``limits:``): content, petitioners, payload, fields
        self.limits = limits or DEFAULT_LIMITS
        self.extra_warn_at = tuple(extra_warn_at)
        self.warn_windows: tuple[WarnWindow, ...] = ()
        self.periods: tuple[Period, ...] = ()
        self.new_id = id_factory or (lambda: uuid.uuid4().hex)
        #: the officers (the stored ones; adapters.bootstrap adds config.yaml's people)
        self.directory_of: Callable[[Transaction], Directory] = lambda tx: Directory.of(tx.people())
        self._by_hash = {w.content_hash: w for w in workflows.values()}
        self._keepers: dict[str, DeadlineKeeper] = {}

    def now(self) -> datetime:
        """The clock's moment in UTC: converted once per command, so no write converts it again."""
        return require_aware("clock.now()", self.clock.now()).astimezone(UTC)

    def workflow(self, name: str) -> CompiledWorkflow:
        """The current version of a workflow; NotFound names the known ones (ValidationError: not a name)."""
        if not isinstance(name, str):
            raise ValidationError("workflow", f"must be a workflow's name, got {type(name).__name__}")
        try:
            return self.workflows[name]
        except KeyError:
            raise NotFound("workflow", name, f"known: {', '.join(sorted(self.workflows))}") from None

    def workflow_of(self, tx: Transaction, record: CaseRecord) -> CompiledWorkflow:
        """The (possibly older) workflow version a case runs on."""
        compiled = self._by_hash.get(record.definition_hash)
        if compiled is None:  # a case opened on an older version: compile that version once
            body = tx.get_definition(record.definition_hash)
            if body is None:
                raise NotFound("definition", record.definition_hash)
            compiled = compile_workflow(WorkflowDefinition.model_validate_json(body))
            self._by_hash[record.definition_hash] = compiled
        return compiled

    def use_periods(self, periods: Iterable[Period]) -> None:
        """Make sensitive periods known: :meth:`phases` reads them, their phases' rungs reach the keepers.

        Called by ``build()`` before the engine serves anything; the keepers are made afresh with
        the phases' warning windows (:func:`engine.periods.warn_windows`).
        """
        self.periods = tuple(check_periods(tuple(periods)))
        self.warn_windows = warn_windows(self.periods)
        self._keepers.clear()

    def phases(self, now: datetime | None = None) -> list[ActivePhase]:
        """The phases in force at ``now`` (default: the clock's moment)."""
        return phases(self.periods, self.now() if now is None else require_aware("now", now), self.calendar)

    def keeper(self, workflow: CompiledWorkflow) -> DeadlineKeeper:
        """The deadline keeper of a workflow version (cached)."""
        keeper = self._keepers.get(workflow.content_hash)
        if keeper is None:
            keeper = DeadlineKeeper(workflow, self.calendar, self.extra_warn_at, self.warn_windows)
            self._keepers[workflow.content_hash] = keeper
        return keeper

    def load(self, tx: Transaction, case_id: object, *, for_update: bool = False) -> CaseRecord:
        """The case ``case_id`` in ``tx``; ValidationError or NotFound naming it."""
        if not isinstance(case_id, str) or not case_id:
            raise ValidationError("case_id", "must be a non-empty string")
        record = tx.get_case(case_id, for_update=for_update)
        if record is None:
            raise NotFound("case", case_id)
        return record
