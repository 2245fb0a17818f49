"""What every benchmark shares: the run context, the databases (SQLite files, PostgreSQL schemas),
raw driver connections set up like kntc's, engine building, and statement tracing.

Databases: SQLite files live in a temporary folder of the run; PostgreSQL databases are schemas
``kntc_bench_<run>_<label>`` in the server of ``KNTC_BENCH_DATABASE_URL`` (else
``KNTC_TEST_DATABASE_URL``, else ``postgresql://postgres@127.0.0.1:5432/test``), all dropped when
the run ends. When the server does not answer, PostgreSQL rows are skipped with the reason.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bench.table import Row, Table

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Monday 2 March 2026, 09:00 in Hà Nội: the start of every simulated run.
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def silence_logs() -> None:
    """Engine logs at WARNING and above only (the bench prints its own progress)."""
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def progress(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- databases ------------------------------------------------------------------------------------
@dataclass
class Db:
    """One database of the run: a SQLite file or a PostgreSQL schema."""

    backend: Backend
    label: str
    url: str                  # for kntc's build() and SQLAlchemy
    path: Path | None = None  # SQLite
    schema: str | None = None  # PostgreSQL
    options: str = ""          # PostgreSQL: libpq options (search path, session settings)
    settings: dict[str, str] = field(default_factory=dict)

    def connect(self) -> Any:
        """A raw DBAPI connection configured like kntc's (see adapters/sql/store.py)."""
        return self.backend.connect(self)

    @property
    def postgres(self) -> bool:
        return self.backend.postgres


class Backend:
    """A kind of database; makes and clones :class:`Db` values."""

    name = ""
    postgres = False

    def new(self, label: str, *, settings: dict[str, str] | None = None) -> Db:
        raise NotImplementedError

    def connect(self, db: Db) -> Any:
        raise NotImplementedError

    def clone(self, src: Db, label: str) -> Db:
        """A copy of ``src`` (schema, indexes and rows)."""
        raise NotImplementedError

    def sql(self, text: str) -> str:
        """Hand-written SQL uses ``?`` placeholders; PostgreSQL (psycopg) wants ``%s``."""
        return text.replace("?", "%s") if self.postgres else text

    def close(self) -> None:
        """Drop what the run created."""


class SqliteBackend(Backend):
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new(self, label: str, *, settings: dict[str, str] | None = None) -> Db:
        path = self.folder / f"{label}.db"
        return Db(self, label, f"sqlite:///{path}", path=path)

    def connect(self, db: Db) -> sqlite3.Connection:
        # the same settings as kntc's connect listener: kntc issues BEGIN IMMEDIATE / COMMIT itself
        con = sqlite3.connect(str(db.path), isolation_level=None, check_same_thread=False, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def clone(self, src: Db, label: str) -> Db:
        dst = self.new(label)
        with closing(self.connect(src)) as a, closing(self.connect(dst)) as b:
            a.backup(b)
        return dst


class PostgresBackend(Backend):
    name = "PostgreSQL"
    postgres = True

    def __init__(self, base_url: str) -> None:
        self.base = base_url.replace("postgresql+psycopg://", "postgresql://")
        self.run = uuid.uuid4().hex[:8]
        self.schemas: list[str] = []

    @staticmethod
    def probe(base_url: str) -> str | None:
        """None if the server answers, else the reason it does not."""
        try:
            import psycopg
            with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://"),
                                 connect_timeout=3, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None

    def admin(self) -> Any:
        import psycopg
        return psycopg.connect(self.base, autocommit=True)

    def new(self, label: str, *, settings: dict[str, str] | None = None) -> Db:
        """A fresh schema; ``settings`` are session settings of every connection to it (e.g.
        ``{"synchronous_commit": "off"}``), passed in the connection string like the search path."""
        schema = f"kntc_bench_{self.run}_{label}"
        with self.admin() as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')  # generated name, not user input
        self.schemas.append(schema)
        options = " ".join(f"-c{k}={v}" for k, v in {"search_path": schema, **(settings or {})}.items())
        sep = "&" if "?" in self.base else "?"
        url = f"{self.base}{sep}options={quote(options)}"
        return Db(self, label, url, schema=schema, options=options, settings=dict(settings or {}))

    def connect(self, db: Db) -> Any:
        import psycopg
        return psycopg.connect(self.base, options=db.options)

    def clone(self, src: Db, label: str) -> Db:
        dst = self.new(label, settings=src.settings)
        with self.admin() as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (src.schema,))]
            for name in tables:
                conn.execute(f'CREATE TABLE "{dst.schema}"."{name}" (LIKE "{src.schema}"."{name}" INCLUDING ALL)')
                conn.execute(f'INSERT INTO "{dst.schema}"."{name}" SELECT * FROM "{src.schema}"."{name}"')
            conn.execute(f'ANALYZE "{dst.schema}".kntc_cases')
        return dst

    def drop(self, db: Db) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
        if db.schema in self.schemas:
            self.schemas.remove(db.schema)

    def close(self) -> None:
        if not self.schemas:
            return
        try:
            with self.admin() as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except Exception as exc:  # the run's figures are printed anyway
            progress(f"could not drop PostgreSQL schemas {self.schemas}: {exc}")
        self.schemas.clear()


@contextmanager
def closing(conn: Any) -> Iterator[Any]:
    try:
        yield conn
    finally:
        conn.close()


# -- the run ----------------------------------------------------------------------------------
@dataclass
class Context:
    """What a benchmark gets: mode, the table to add rows to, the backends to run on."""

    full: bool
    table: Table
    folder: Path
    sqlite: SqliteBackend
    postgres: PostgresBackend | None
    postgres_skip: str = ""

    @classmethod
    @contextmanager
    def open(cls, *, full: bool, with_postgres: bool = True) -> Iterator[Context]:
        folder = Path(tempfile.mkdtemp(prefix="kntc_bench_"))
        pg: PostgresBackend | None = None
        skip = ""
        base = (os.environ.get("KNTC_BENCH_DATABASE_URL") or os.environ.get("KNTC_TEST_DATABASE_URL")
                or DEFAULT_PG)
        if not with_postgres:
            skip = "PostgreSQL rows skipped (--no-postgres)"
        else:
            reason = PostgresBackend.probe(base)
            if reason is None:
                pg = PostgresBackend(base)
            else:
                skip = f"PostgreSQL unreachable at {_redact(base)}: {reason}"
                progress(skip)
        ctx = cls(full=full, table=Table(), folder=folder, sqlite=SqliteBackend(folder), postgres=pg,
                  postgres_skip=skip)
        try:
            yield ctx
        finally:
            if pg is not None:
                pg.close()
            shutil.rmtree(folder, ignore_errors=True)

    def backends(self) -> list[Backend | None]:
        """SQLite, then PostgreSQL (None when it is skipped: add its rows with :meth:`skip`)."""
        return [self.sqlite, self.postgres]

    def skip(self, bench: str, name: str, unit: str = "") -> None:
        self.table.add(Row(bench, name, None, unit, note=self.postgres_skip))

    def add(self, row: Row) -> Row:
        return self.table.add(row)


def _redact(url: str) -> str:
    if "@" in url and "://" in url and ":" in url.split("://", 1)[1].split("@", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# -- engines ------------------------------------------------------------------------------------
def build_engine(db: Db, clock: Any = None) -> Any:
    """kntc's engine over ``db`` with the shipped config.yaml and workflows (migrating the schema)."""
    from adapters.bootstrap import build
    from engine.testing import ManualClock
    return build(CONFIG, database_url=db.url, clock=clock or ManualClock(START))


def open_sample_case(engine: Any, *, received_at: datetime | None = None, **fields: Any) -> Any:
    """Open one complaint through the engine (the public API)."""
    return engine.open_case("complaint", received_at=received_at or engine.clock.now(),
                            petitioners=[{"name": "Nguyễn Văn A", "id_number": "079000000001",
                                          "address": "Đà Lạt"}],
                            respondent="Phòng Quản lý đất đai", subject="Thu hồi đất",
                            content="Khiếu nại quyết định thu hồi đất.", channel="post", fields=fields)


# -- statement tracing (the "kntc's own statement sequence" reference) ------------------------------
Op = tuple[Any, ...]


class _RecordingCursor:
    def __init__(self, cursor: Any, log: list[Op], connection: Any = None) -> None:
        self._cur, self._log, self._conn = cursor, log, connection

    @property
    def connection(self) -> Any:
        """The recording connection, so cursors opened from this one are recorded too."""
        return self._conn if self._conn is not None else self._cur.connection

    def execute(self, sql: str, params: Any = None) -> Any:
        self._log.append(("execute", sql, params))
        return self._cur.execute(sql) if params is None else self._cur.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        self._log.append(("executemany", sql, rows))
        return self._cur.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class _RecordingConnection:
    """A DBAPI connection that logs its cursors' calls and its commits (everything else passes)."""

    def __init__(self, raw: Any, log: list[Op]) -> None:
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_log", log)

    def cursor(self, *args: Any, **kwargs: Any) -> _RecordingCursor:
        return _RecordingCursor(self._raw.cursor(*args, **kwargs), self._log, self)

    def commit(self) -> None:
        self._log.append(("commit",))
        self._raw.commit()

    def rollback(self) -> None:
        self._log.append(("rollback",))
        self._raw.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)


def record_statements(kntc: Any) -> list[Op]:
    """Make every DBAPI connection ``kntc``'s store opens from now on log its calls; returns the log.

    The store's connections are closed first and the recording wraps the driver's connections
    where SQLAlchemy makes them (``do_connect``), so it does not depend on how the store holds or
    pools them.
    """
    from sqlalchemy import event

    log: list[Op] = []
    sql_engine = kntc.runtime.store.engine
    close = getattr(kntc.runtime.store, "close", None)
    if close is not None:
        close()  # no connection opened before the recording may serve after it
    else:
        sql_engine.dispose()

    @event.listens_for(sql_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return _RecordingConnection(dialect.loaded_dbapi.connect(*cargs, **cparams), log)

    with kntc.runtime.store.reader():
        pass  # connect now: the connection's set-up statements are not part of a transition
    log.clear()
    return log


def replay(cur: Any, conn: Any, ops: list[Op]) -> None:
    """Run recorded DBAPI calls on a raw cursor, fetching every result as kntc does."""
    for op in ops:
        kind = op[0]
        if kind == "execute":
            cur.execute(op[1]) if op[2] is None else cur.execute(op[1], op[2])
            if cur.description is not None:
                cur.fetchall()
        elif kind == "executemany":
            cur.executemany(op[1], op[2])
        elif kind == "commit":
            conn.commit()
        else:
            conn.rollback()


# -- timing -----------------------------------------------------------------------------------------
def stopwatch(backend: Backend | None) -> Callable[[], float]:
    """The clock to time work on ``backend`` with (None: pure Python work).

    The machine is shared: other test suites run beside the bench (load above 3 per core is
    common). Work that runs entirely in this process (Python, SQLite) is timed on the process's
    CPU time, which a neighbour does not inflate; PostgreSQL's work runs in the server's processes,
    so it is timed on the wall clock (and its rows are the noisier ones).
    """
    return time.perf_counter if backend is not None and backend.postgres else time.process_time


def clock_name(backend: Backend | None) -> str:
    return "wall" if backend is not None and backend.postgres else "CPU"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- the machine --------------------------------------------------------------------------------------
def machine_info(pg: PostgresBackend | None) -> list[tuple[str, str]]:
    """uname, cores, Python, SQLite and PostgreSQL versions, date."""
    import sqlalchemy
    info = [("date", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
            ("uname -a", " ".join(platform.uname())),
            ("nproc", str(os.cpu_count())),
            ("Python", sys.version.split()[0]),
            ("SQLite", sqlite3.sqlite_version),
            ("SQLAlchemy", sqlalchemy.__version__)]
    try:
        import psycopg
        info.append(("psycopg", psycopg.__version__))
    except ImportError:
        pass
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, timeout=5).stdout.strip()
        if uname:
            info[1] = ("uname -a", uname)
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "engine", "adapters"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if head:
            suffix = " + uncommitted changes in engine/ or adapters/" if dirty else ""
            info.append(("kntc", f"commit {head}{suffix}"))
    except (OSError, subprocess.SubprocessError):
        pass
    if pg is not None:
        try:
            with pg.admin() as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
                settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                            for name in ("fsync", "synchronous_commit", "shared_buffers")}
            info.append(("PostgreSQL", f"{version} ({', '.join(f'{k}={v}' for k, v in settings.items())})"))
        except Exception as exc:
            info.append(("PostgreSQL", f"unknown ({exc})"))
    else:
        info.append(("PostgreSQL", "not reached"))
    return info
