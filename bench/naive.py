"""The naive peer: SQLAlchemy ORM with one ``transitions`` Machine per case (the design kntc avoids).

Each command opens a session, loads the case as an ORM object, builds a Machine for it with the
workflow's states and edges (conditions: the role, and kntc's own compiled CEL guard, so only
the design differs), triggers the event, bumps the version, adds a history row and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from transitions import Machine

from bench.common import START, Backend

__all__ = ["NaiveCase", "NaiveHistory", "NaivePeer", "naive_machine", "naive_transitions"]


class Base(DeclarativeBase):
    pass


class NaiveCase(Base):
    __tablename__ = "naive_cases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NaiveHistory(Base):
    __tablename__ = "naive_history"
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class NaivePeer:
    """The naive design over its own database (a SQLite file or a PostgreSQL schema)."""

    def __init__(self, backend: Backend, compiled: Any, ids: Iterable[str], *, actor: str = "cb01",
                 label: str = "naive", settings: dict[str, str] | None = None) -> None:
        self.db = backend.new(label, settings=settings)
        self.engine = create_engine(self.db.url.replace("postgresql://", "postgresql+psycopg://", 1))
        if not backend.postgres:
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:  # the same durability as kntc's
                cur = dbapi_connection.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
        Base.metadata.create_all(self.engine)
        defaults = compiled.validate_fields({})
        with Session(self.engine) as s, s.begin():
            s.add_all(NaiveCase(id=cid, kind=compiled.name, state=compiled.definition.initial, version=1,
                                fields=dict(defaults), updated_at=START) for cid in ids)
        self.sessions = sessionmaker(self.engine)
        self.postgres = backend.postgres
        self.actor = actor
        self.states = list(compiled.definition.states)
        self.transitions = naive_transitions(compiled)

    def fire(self, case_id: str, event: str, role: str, now: datetime) -> None:
        with self.sessions() as s, s.begin():
            case = s.get(NaiveCase, case_id, with_for_update=self.postgres)
            assert case is not None
            source = case.state
            naive_machine(case, self.states, self.transitions)
            if not case.trigger(event, role=role):  # type: ignore[attr-defined]
                raise RuntimeError(f"naive peer: {event} refused in {source}")
            case.version += 1
            case.updated_at = now
            s.add(NaiveHistory(case_id=case_id, seq=case.version, event=event, source=source, target=case.state,
                               actor=self.actor, role=role, at=now, payload={}))

    def close(self) -> None:
        self.engine.dispose()


def naive_machine(model: Any, states: list[str], transitions: list[dict[str, Any]]) -> Machine:
    """A Machine attached to one case: what the naive design builds for every command."""
    return Machine(model=model, states=states, transitions=transitions, initial=model.state,
                   auto_transitions=False, send_event=True)


def naive_transitions(compiled: Any) -> list[dict[str, Any]]:
    """The workflow's edges as ``transitions`` dicts; the conditions check the role and the CEL guard."""
    return [{"trigger": trigger, "source": source, "dest": dest, "conditions": [_condition(candidate)]}
            for (trigger, source, dest), candidates in compiled.transitions.items() for candidate in candidates]


def _condition(candidate: Any) -> Callable[[Any], bool]:
    roles, guard = set(candidate.spec.roles), candidate.guard

    def allowed(event_data: Any) -> bool:
        role = event_data.kwargs["role"]
        if role not in roles:
            return False
        if guard is None:
            return True
        case = event_data.model
        return bool(guard.evaluate({"fields": case.fields, "payload": {}, "role": role,
                                    "case": {"state": case.state, "channel": "post", "petitioner_count": 1,
                                             "kind": case.kind}}))
    return allowed
