"""PostgreSQL specifics: row locks, the feed counter, and pipeline mode for commands.

A command costs what its round trips cost, so :class:`PostgresTransaction` spends as few as it
can. The first ``get_case(for_update=True)`` (a command loading its case) switches the
connection to psycopg's pipeline mode. From there:

- **Prefetch.** The locked case and *that case's deadlines* are asked for together and come
  back in one round trip. The deadlines are kept, and the next ``get_deadlines`` for the same
  case id returns them instead of asking again (the engine's command path makes exactly that
  call next). The prefetch is used once; a ``get_deadlines`` of another case asks the server
  (and drops it), and so does any after ``save_deadlines``, which could make it stale.
- **Deferred version checks.** ``update_case`` is sent without waiting for its row count and
  returns ``True``; :meth:`PostgresTransaction._finish`, just before the commit, waits for every
  pipelined statement in one round trip and raises :class:`engine.errors.ConflictError` if a
  guarded update matched no row. Since the case row is locked ``FOR UPDATE`` and its version was
  read under that lock, a conflict cannot happen on the command path; the port documents that a
  conflict may surface at commit.
- **One-statement events.** A single feed event bumps the counter and inserts its row in one
  statement whose result is never read, so it costs no round trip either.

- **Content groups.** A letter's group row and band rows (and a new group's row) go in one
  round trip (a nested pipeline, so a duplicate still raises at once); a refresh's group lock,
  members and hot spots (``group_state``) in one more, and from there the transaction is in
  pipeline mode like a command's.

- **Tick batches.** A batch of due timers claimed with ``claim_due`` switches to pipeline mode
  too, and its claims, ledger updates and feed events are held back and sent together
  (:mod:`adapters.sql.postgres_batch`), checked before the commit.

The feed counter row is a deliberate global lock: every writer's
commit serialises on it, which keeps ``seq`` in commit order (``docs/design-notes.md``).

**A dead connection, retried once at the start.** The pool does not ping a connection before
handing it out (a round trip per command). Instead, a transaction's *first* statement is run by
:meth:`PostgresTransaction._at_start`: if it fails with an ``OperationalError`` and the connection
is broken (the server restarted, ``pg_terminate_backend``, a network cut while it idled in the
pool), nothing of the transaction can have been committed (the connection is not in
autocommit; no ``COMMIT`` was sent) nor been read by the caller, so the store swaps in a fresh
connection (:attr:`PostgresTransaction.reconnect`) and that statement runs again, once; the
caller never notices. The pool is replaced too (:meth:`PooledConnections.lost`): its idle
connections died with the server. A failure after the first statement, and above all at ``COMMIT`` (the
commit may have happened), is never retried: it surfaces as :class:`engine.errors.StorageError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine

import adapters.sql.rows as rows
from adapters.sql.postgres_batch import TickBatch
from adapters.sql.transaction import Prepared, SqlTransaction
from engine.errors import ConflictError
from engine.grouping import GroupMember, HotSpotRecord
from engine.model import CaseRecord, DeadlineLedger, NewEvent

__all__ = ["PooledConnections", "PostgresTransaction", "make_engine"]

_T = TypeVar("_T")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """A SQLAlchemy engine for a PostgreSQL URL, on psycopg 3 (``postgresql://`` means psycopg here)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # no pre-ping (a round trip per command): a connection found dead is invalidated instead
    return create_engine(url, echo=echo, pool_recycle=3600)


class PooledConnections:
    """A pooled connection per transaction, back to the pool at its end."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self) -> Any:
        return self.engine.raw_connection()

    def put(self, raw: Any) -> None:
        raw.close()  # back to the pool

    def lost(self, raw: Any, exc: BaseException) -> None:
        """After a driver error: drop a connection that may be dead; all pooled ones if it is broken.

        A broken connection (the server restarted, ``pg_terminate_backend``) means the idle ones
        in the pool are most likely dead too: the pool is replaced, so the retry at the start of
        a transaction and the next commands connect afresh instead of meeting them one by one.
        Connections other threads hold are not touched; they are closed when given back.
        """
        if isinstance(exc, self.engine.dialect.loaded_dbapi.OperationalError):
            broken = _broken_connection(raw.dbapi_connection) if raw.dbapi_connection is not None else True
            raw.invalidate()  # the server may have gone away: the pool opens a fresh connection next time
            if broken:
                self.engine.dispose()

    def close(self) -> None:
        """Nothing held: the store disposes of the pool."""


class PostgresTransaction(SqlTransaction):
    """A transaction on PostgreSQL; commands run in pipeline mode (see the module docstring)."""

    # several daemons: timers another transaction holds are skipped, not waited for
    CLAIM_DUE = "claim_due_locked_all"

    #: set by the store: drops the broken connection and returns a fresh (connection, cursor);
    #: used at most once per transaction, by :meth:`_at_start`
    reconnect: Callable[[BaseException], tuple[Any, Any]] | None

    def __init__(self, prepared: Prepared, raw: Any, cursor: Any) -> None:
        super().__init__(prepared, raw, cursor)
        self.reconnect = None
        self._started = False  # a statement of this transaction was sent (no retry from there)
        self._pipeline_cm: Any = None
        self._pipeline: Any = None
        # (case id, its deadline rows) read with the locked case, for the next get_deadlines
        self._prefetched: tuple[str, list[Any]] | None = None
        # (cursor of a pipelined update_case, case id, expected version), checked by _finish
        self._version_checks: list[tuple[Any, str, int]] = []
        # a tick batch's writes, held back and sent together (None outside a tick batch)
        self._batch: TickBatch | None = None
        self._flushing = False

    # life cycle ---------------------------------------------------------------------------
    def _begin(self, write: bool) -> None:
        """Nothing to send: psycopg opens the transaction with the first statement."""

    def _end(self, commit: bool) -> None:
        self.raw.commit() if commit else self.raw.rollback()

    def _rollback(self) -> None:
        with suppress(Exception):  # the connection may be gone; the pool discards it
            self.raw.rollback()

    def _finish(self) -> None:
        """Before the commit: wait for pipelined writes and check the versions they were guarded by."""
        if self._pipeline is None:
            return
        if self._batch is not None:
            self._flush()
        self._pipeline.sync()
        for cursor, case_id, expected in self._version_checks:
            if cursor.rowcount != 1:
                actual = self._run("get_case_one", {"case_id": case_id}).fetchone()
                raise ConflictError(case_id, expected, actual[rows.CASE_VERSION] if actual else -1)
            cursor.close()
        if self._batch is not None:
            self._batch.check()

    def _at_start(self, attempt: Callable[[], _T]) -> _T:
        """Run the transaction's first statement(s); on a broken connection, once more on a fresh one.

        Only the first call retries (nested and later calls just run ``attempt``): before it,
        nothing of this transaction reached the server, so nothing can have been written.
        """
        if self._started:
            return attempt()
        self._started = True
        try:
            return attempt()
        except self.dbapi.OperationalError as exc:
            if self.reconnect is None or not _broken(self.cur):
                raise
            reconnect, self.reconnect = self.reconnect, None
            self._end_pipeline()
            self._prefetched = None
            self.raw, self.cur = reconnect(exc)
            return attempt()

    def _enter_pipeline(self) -> None:
        if self._pipeline is None:
            self._pipeline_cm = self.cur.connection.pipeline()
            self._pipeline = self._pipeline_cm.__enter__()

    def _end_pipeline(self) -> None:
        """Leave pipeline mode (after the commit or the rollback)."""
        manager, self._pipeline_cm, self._pipeline, self._version_checks = self._pipeline_cm, None, None, []
        self._batch = None
        if manager is not None:
            with suppress(Exception):
                manager.__exit__(None, None, None)

    # cases and deadlines ------------------------------------------------------------------
    def get_case(self, case_id: str, *, for_update: bool = False) -> CaseRecord | None:
        """With ``for_update``: lock the case, enter pipeline mode and prefetch its deadlines.

        The case row (``FOR UPDATE``) and the case's deadlines are read in the same round trip;
        the deadlines are kept for the next :meth:`get_deadlines` of this case.
        """
        if not for_update:
            return super().get_case(case_id)
        return self._at_start(lambda: self._get_locked(case_id))

    def _get_locked(self, case_id: str) -> CaseRecord | None:
        self._enter_pipeline()
        deadlines = self.cur.connection.cursor()
        stmt = self.compiled["get_deadlines_all"]
        self._run("get_case_locked_one", {"case_id": case_id})
        deadlines.execute(stmt.sql, stmt.params({"case_id": case_id}))
        row = self.cur.fetchone()
        self._prefetched = (case_id, deadlines.fetchall())
        deadlines.close()
        return rows.case_record(self.c, row) if row is not None else None

    def _count(self, name: str, values: Mapping[str, Any]) -> int:
        """In pipeline mode a row count is known only once the pipeline is synced: sync first."""
        cur = self._run(name, values)
        if self._pipeline is not None:
            self._pipeline.sync()
        return int(cur.rowcount)

    def claim_due(self, now: datetime, limit: int) -> list[tuple[CaseRecord, DeadlineLedger]]:
        """Claim due timers; from here this batch's writes are held back (see the module docstring)."""
        claimed = super().claim_due(now, limit)
        if claimed and self._pipeline is None:
            self._enter_pipeline()
            self._batch = TickBatch()
        return claimed

    def mark_fired(self, case_id: str, deadline: str, cycle: int, rung: int, at: datetime) -> bool:
        """In a tick batch: held back, True; ``_finish`` raises if the key was taken after all."""
        if self._batch is None:
            return super().mark_fired(case_id, deadline, cycle, rung, at)
        self._batch.claim(self, case_id, deadline, cycle, rung, at)
        return True

    def _run(self, name: str, values: Mapping[str, Any] | None = None) -> Any:
        """Any other statement first sends what a tick batch holds back (so a read sees it)."""
        if self._batch is not None and not self._flushing and self._batch.pending:
            self._flush()
        if not self._started:
            return self._at_start(lambda: SqlTransaction._run(self, name, values))
        return super()._run(name, values)

    def _run_many(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Like any statement: the transaction's first is retried once on a broken connection."""
        if not self._started:
            self._at_start(lambda: SqlTransaction._run_many(self, name, rows))
            return
        super()._run_many(name, rows)

    def _flush(self) -> None:
        assert self._batch is not None
        self._flushing = True
        try:
            self._batch.flush(self)
        finally:
            self._flushing = False

    def get_deadlines(self, case_id: str) -> list[DeadlineLedger]:
        """The prefetched deadlines if they are this case's (one use), else a query."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == case_id:
            return self._deadlines(prefetched[1])
        return super().get_deadlines(case_id)

    def save_deadlines(self, inserted: Sequence[DeadlineLedger], updated: Sequence[DeadlineLedger]) -> None:
        self._prefetched = None  # the rows read with the lock may no longer be the stored ones
        if self._batch is not None and not inserted:
            for ledger in updated:
                self._batch.ledger(self, ledger)
            return
        super().save_deadlines(inserted, updated)

    def update_case(self, case: CaseRecord, expected_version: int, *, fields_changed: bool = True) -> bool:
        """In pipeline mode: sent without waiting, returns True; the version is checked by :meth:`_finish`."""
        if self._pipeline is None:
            return super().update_case(case, expected_version, fields_changed=fields_changed)
        name, row = self._case_update(case, expected_version, fields_changed)
        cursor = self.cur.connection.cursor()  # a cursor of its own keeps its row count for _finish
        stmt = self.compiled[name]
        cursor.execute(stmt.sql, stmt.params(row))
        self._version_checks.append((cursor, case.id, expected_version))
        return True

    # content groups -----------------------------------------------------------------------
    def _insert_grouping(self, group: Mapping[str, Any] | None, row: Mapping[str, Any],
                         bands: Sequence[Mapping[str, Any]]) -> None:
        """The group, case-group and band rows in one round trip (a nested pipeline: a duplicate raises here)."""
        with self.cur.connection.pipeline():
            super()._insert_grouping(group, row, bands)

    def group_state(self, group_id: str) -> tuple[list[GroupMember], list[HotSpotRecord]]:
        """Lock, members and hot spots in one round trip; the transaction's later statements are pipelined.

        Pipeline mode stays on from here, as after a command's locked ``get_case``: the refresh's
        writes, the feed events and the reactors' writes are sent without waiting, checked by
        :meth:`_finish` before the commit.
        """
        return self._at_start(lambda: self._group_state(group_id))

    def _group_state(self, group_id: str) -> tuple[list[GroupMember], list[HotSpotRecord]]:
        self._enter_pipeline()
        members, spots = self.cur.connection.cursor(), self.cur.connection.cursor()
        try:
            self._run("lock_group_one", {"id": group_id})
            for cursor, name in ((members, "group_members_all"), (spots, "group_hot_spots_all")):
                stmt = self.compiled[name]
                cursor.execute(stmt.sql, stmt.params({"group_id": group_id}))
            self.cur.fetchone()
            return ([rows.group_member(self.c, r) for r in members.fetchall()],
                    [rows.hot_spot(self.c, r) for r in spots.fetchall()])
        finally:
            members.close()
            spots.close()

    # feed ---------------------------------------------------------------------------------
    def append_events(self, events: Sequence[NewEvent]) -> None:
        """Seqs come from the counter row, whose lock (held to commit) keeps them in commit order."""
        if not events:
            return
        if self._batch is not None:
            for e in events:
                self._batch.event(self, e)
            return
        new = [rows.event_row(self.c, e) for e in events]
        if len(new) == 1:  # no result is read, so inside a pipeline this costs no round trip
            self._run("insert_one_event", new[0])
        else:
            last = int(self._run("next_seq_one", {"n": len(new)}).fetchone()[0])
            self._run_many("insert_event", [{**row, "seq": last - len(new) + 1 + i} for i, row in enumerate(new)])


def _broken(cursor: Any) -> bool:
    """Whether the cursor's connection is lost (not merely in a failed transaction)."""
    return _broken_connection(cursor.connection)


def _broken_connection(conn: Any) -> bool:
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False))
