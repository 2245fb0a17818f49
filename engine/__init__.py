"""kntc's pure core: workflow definitions, state machines, deadlines and the Engine facade.

Importing this package does no work: no database, no configuration, no clock. Build an engine
with :func:`adapters.bootstrap.build`, or :func:`engine.testing.memory_engine` in tests.
"""

from __future__ import annotations

from engine.calendar import BusinessCalendar, CalendarError, DayOverride
from engine.errors import (
    ConditionError,
    ConfigError,
    ConflictError,
    DefinitionError,
    KntcError,
    NotAllowedError,
    NotFound,
    ReactionError,
    StorageError,
    ValidationError,
)
from engine.groups import HotSpot
from engine.jobs import Daily, JobRun, JobSlot, ScheduledJob
from engine.model import Case, Deadline, Event, HistoryEntry, OutboxMessage, TickReport
from engine.periods import ActivePhase
from engine.ports import Clock, Store, Transaction
from engine.reactors import Emit, Enqueue, FireEvent, Reaction, SetPriority
from engine.service import AuditReport, Engine

__all__ = [
    "ActivePhase",
    "AuditReport",
    "BusinessCalendar",
    "CalendarError",
    "Case",
    "Clock",
    "ConditionError",
    "ConfigError",
    "ConflictError",
    "Daily",
    "DayOverride",
    "Deadline",
    "DefinitionError",
    "Emit",
    "Engine",
    "Enqueue",
    "Event",
    "FireEvent",
    "HistoryEntry",
    "HotSpot",
    "JobRun",
    "JobSlot",
    "KntcError",
    "NotAllowedError",
    "NotFound",
    "OutboxMessage",
    "Reaction",
    "ReactionError",
    "ScheduledJob",
    "SetPriority",
    "StorageError",
    "Store",
    "TickReport",
    "Transaction",
    "ValidationError",
]
