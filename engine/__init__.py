"""kntc's pure core: workflow definitions, state machines, deadlines and the Engine facade.

Importing this package does no work: no database, no configuration, no clock. Build an engine
with :func:`adapters.bootstrap.build`, or :func:`engine.testing.memory_engine` in tests.
"""

from __future__ import annotations

from engine.calendar import BusinessCalendar, CalendarError, DayOverride
from engine.errors import (
    ConfigError,
    ConflictError,
    DefinitionError,
    KntcError,
    NotAllowedError,
    NotFound,
    StorageError,
    ValidationError,
)
from engine.model import Case, Deadline, Event, HistoryEntry, TickReport
from engine.ports import Clock, Store, Transaction
from engine.service import AuditReport, Engine

__all__ = [
    "AuditReport",
    "BusinessCalendar",
    "CalendarError",
    "Case",
    "Clock",
    "ConfigError",
    "ConflictError",
    "DayOverride",
    "Deadline",
    "DefinitionError",
    "Engine",
    "Event",
    "HistoryEntry",
    "KntcError",
    "NotAllowedError",
    "NotFound",
    "StorageError",
    "Store",
    "TickReport",
    "Transaction",
    "ValidationError",
]
