"""A tick batch on PostgreSQL: its writes held back and sent together (DESIGN.md §9: ≥ 5,000 rungs/s).

Firing a rung writes three rows: its claim in ``kntc_fired_rungs``, its ledger, its feed event.
Sent one by one that is three statements a rung. Inside a batch claimed by ``claim_due`` (rows
locked ``FOR UPDATE SKIP LOCKED``) :class:`TickBatch` keeps them instead and sends them together,
in pipeline mode, before the next read and before the commit, one statement each for every claim,
every ledger and every event (arrays unnested side by side, sent in binary: a text array costs an
escape per element), after one counter bump for the events' seqs. The claims' row count is
checked before the commit: a key found taken means a ledger lagged behind the fired-rungs table,
and the batch is rolled back (the tick then fires its rows one transaction each, with every claim
answered at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import adapters.sql.rows as rows
from engine.errors import StorageError
from engine.model import DeadlineLedger, NewEvent

if TYPE_CHECKING:
    from adapters.sql.postgres import PostgresTransaction

__all__ = ["TickBatch"]

_FIRED = ("case_id", "deadline", "cycle", "rung", "fired_at")


def _arrays(columns: tuple[str, ...], values: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows as one array parameter per column (``a_<column>``), for the ``*_many`` statements."""
    return {f"a_{name}": list(column) for name, column in zip(columns, zip(*values, strict=True), strict=True)}


@dataclass(slots=True)
class TickBatch:
    """What a tick batch has written but not yet sent, and the claims sent but not yet checked."""

    claims: list[tuple[Any, ...]] = field(default_factory=list)
    ledgers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    sent_claims: list[tuple[Any, int]] = field(default_factory=list)

    def claim(self, tx: PostgresTransaction, case_id: str, deadline: str, cycle: int, rung: int,
              at: datetime) -> None:
        self.claims.append((case_id, deadline, cycle, rung, tx.c.dt_in(at)))  # in _FIRED's order

    def ledger(self, tx: PostgresTransaction, ledger: DeadlineLedger) -> None:
        # the last state of a ledger is the one written (one row per ledger: an UPDATE ... FROM must not see two)
        self.ledgers[(ledger.case_id, ledger.name)] = rows.deadline_row(tx.c, ledger)

    def event(self, tx: PostgresTransaction, event: NewEvent) -> None:
        self.events.append(rows.event_row(tx.c, event))

    @property
    def pending(self) -> bool:
        return bool(self.claims or self.ledgers or self.events)

    def flush(self, tx: PostgresTransaction) -> None:
        """Send what is held back, in the order a reader would expect: claims, ledgers, events."""
        if self.claims:
            stmt = tx.compiled["mark_fired_many"]
            cursor = tx.cur.connection.cursor()  # its own cursor keeps the row count until the check
            cursor.execute(stmt.sql, stmt.params(_arrays(_FIRED, self.claims)))
            self.sent_claims.append((cursor, len(self.claims)))
            self.claims = []
        if self.ledgers:
            stmt = tx.compiled["update_deadlines_many"]
            ledgers = [tuple(r[k] for k in rows.DEADLINE_COLUMNS) for r in self.ledgers.values()]
            tx.cur.execute(stmt.sql, stmt.params(_arrays(rows.DEADLINE_COLUMNS, ledgers)))
            self.ledgers = {}
        if self.events:
            new, self.events = self.events, []
            bump = tx.compiled["next_seq_one"]
            last = int(tx.cur.execute(bump.sql, bump.params({"n": len(new)})).fetchone()[0])
            first = last - len(new) + 1
            stmt = tx.compiled["insert_events_many"]
            events = [(first + i, e["type"], e["case_id"], e["at"], e["data"]) for i, e in enumerate(new)]
            tx.cur.execute(stmt.sql, stmt.params(_arrays(rows.EVENT_COLUMNS, events)))

    def check(self) -> None:
        """After the pipeline's sync: every claim must have found its key free."""
        for cursor, expected in self.sent_claims:
            if cursor.rowcount != expected:
                raise StorageError(f"{expected - cursor.rowcount} rung(s) of this batch had fired already: "
                                   "the batch is rolled back")
            cursor.close()
        self.sent_claims = []
