"""Engine set-up shared by SQLite and PostgreSQL.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions: every governed request appends to
the audit log, so taking the write lock up front avoids lock-upgrade failures between
concurrent writers (SQLAlchemy's documented pysqlite recipe).

Work that reads first and writes last (a governed read: load, decrypt, mask, then one INSERT of
its audit entry) can ask for the write lock to be taken *at its first write* instead
(``writes_last``): its reads run before any ``BEGIN`` (each statement sees the latest committed
data, as under PostgreSQL's read committed), and ``BEGIN IMMEDIATE`` is sent just before the
first statement that is not a SELECT. The writer lock is then held for the INSERT and the commit
only, not for the whole request, so governed reads of several processes overlap. Code that must
read under the lock (the audit integrator's state) calls ``begin_writing`` first.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

READ_ONLY = "governance_read_only"
HOLDS_LOCK = "governance_holds_writer_lock"
DEFERRED = "governance_begin_deferred"
_WRITES_LAST: ContextVar[bool] = ContextVar("governance_writes_last", default=False)


@contextmanager
def writes_last() -> Iterator[None]:
    """Within the block, SQLite transactions begun in this context take the writer lock at their
    first write, not at ``BEGIN`` (see the module docstring). No effect on PostgreSQL."""
    token = _WRITES_LAST.set(True)
    try:
        yield
    finally:
        _WRITES_LAST.reset(token)


def begin_writing(conn: Connection) -> None:
    """Take the writer lock now if ``conn``'s transaction deferred it (SQLite; else nothing)."""
    if conn.dialect.name != "sqlite":
        return
    fairy = conn.connection
    if fairy.info.pop(DEFERRED, False):
        _begin_immediate(fairy)


def _begin_immediate(fairy: Any) -> None:
    fd = fairy.info.get("writer_lock")
    if fd is not None and _queue_for_writer_lock(fd):
        fairy.info[HOLDS_LOCK] = True
    fairy.driver_connection.execute("BEGIN IMMEDIATE")


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that need no transaction: each statement sees the latest committed
    data, as under PostgreSQL's read committed. On SQLite no ``BEGIN`` is sent (the driver runs
    each statement on its own), so the read never takes or waits for the write lock."""
    with engine.connect() as conn:
        info = conn.connection.info  # the pooled connection's: unmarked again before check-in
        info[READ_ONLY] = True
        try:
            yield conn
        finally:
            info.pop(READ_ONLY, None)


def engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for a database URL."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No pool_pre_ping: it costs a round trip on every checkout, i.e. on every request.
    # configure_engine pings only connections that sat idle in the pool (IDLE_PING_SECONDS).
    return {"pool_size": 5, "max_overflow": 10}


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is handed out."""
_IDLE_SINCE = "governance_idle_since"


def configure_engine(engine: Engine) -> None:
    """Attach per-connection settings (idempotent per engine)."""
    if getattr(engine, "_governance_configured", False):
        return
    engine._governance_configured = True  # type: ignore[attr-defined]
    if engine.dialect.name != "sqlite":
        _ping_idle_connections(engine)
        return

    lock_path = _lock_path(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        if lock_path:
            record.info["writer_lock"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        # Let SQLAlchemy drive transactions; the driver must not BEGIN by itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: setting the journal mode needs a lock, and a process starting
        # while others write would otherwise fail at once with "database is locked".
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: random blind-index keys
        # Deleted cells are zeroed, not left in free space: an erased subject's wrapped data key
        # and ciphertext must not survive in the file (release_deleted_pages clears the WAL).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    def _do_begin(fairy: Any) -> None:
        if fairy.info.get(READ_ONLY):
            return  # read_connection: statements autocommit, no lock taken
        if _WRITES_LAST.get():
            fairy.info[DEFERRED] = True  # BEGIN IMMEDIATE before the first write (_execute)
            return
        _begin_immediate(fairy)

    def _release(fairy: Any) -> None:
        try:
            info = fairy.info
        except (AttributeError, NotImplementedError):  # the dialect's first-connect probe
            return
        if info.pop(HOLDS_LOCK, False):
            fcntl.flock(info["writer_lock"], fcntl.LOCK_UN)

    commit, rollback = engine.dialect.do_commit, engine.dialect.do_rollback
    execute, execute_many = engine.dialect.do_execute, engine.dialect.do_executemany
    no_params = engine.dialect.do_execute_no_params

    def _writing(context: Any, statement: str) -> None:
        # ExecutionContext.root_connection and Connection.connection are public API; the info
        # dict is the pooled connection's, so the mark cannot leak to another checkout.
        if context is None or statement[:6].upper() == "SELECT":
            return
        info = context.root_connection.connection.info
        if info.pop(DEFERRED, False):
            _begin_immediate(context.root_connection.connection)

    def _do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        _writing(context, statement)
        execute(cursor, statement, parameters, context)

    def _do_executemany(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        _writing(context, statement)
        execute_many(cursor, statement, parameters, context)

    def _do_execute_no_params(cursor: Any, statement: str, context: Any = None) -> None:
        _writing(context, statement)
        no_params(cursor, statement, context)

    def _do_commit(fairy: Any) -> None:
        fairy.info.pop(DEFERRED, None)  # nothing was written: nothing begun, nothing to commit
        commit(fairy)
        _release(fairy)  # only once committed: a failed commit is rolled back, which releases

    def _do_rollback(fairy: Any) -> None:
        try:
            fairy.info.pop(DEFERRED, None)
        except (AttributeError, NotImplementedError):  # the dialect's first-connect probe
            pass
        try:
            rollback(fairy)  # also the pool's reset when a connection is checked in
        finally:
            _release(fairy)

    # Dialect hooks, not events: any Connection event listener puts every statement on
    # SQLAlchemy's slower event-dispatch path, and a pool "reset" listener costs every check-in.
    engine.dialect.do_begin = _do_begin  # type: ignore[method-assign,assignment]
    engine.dialect.do_commit = _do_commit  # type: ignore[method-assign,assignment]
    engine.dialect.do_rollback = _do_rollback  # type: ignore[method-assign,assignment]
    engine.dialect.do_execute = _do_execute  # type: ignore[method-assign]
    engine.dialect.do_executemany = _do_executemany  # type: ignore[method-assign]
    engine.dialect.do_execute_no_params = _do_execute_no_params  # type: ignore[method-assign]

    @event.listens_for(engine.pool, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(HOLDS_LOCK, None)
        record.info.pop(DEFERRED, None)
        fd = record.info.pop("writer_lock", None)
        if fd is not None:
            os.close(fd)  # closing the descriptor also drops a lock still held


def _ping_idle_connections(engine: Engine) -> None:
    """Check a connection that sat idle in the pool before handing it out (SQLAlchemy's
    documented "pessimistic disconnect handling" recipe, limited to idle connections): a busy
    server reuses connections within milliseconds and pays no round trip; one that waited
    (a restarted database, a dropped idle connection) is tested and, if dead, replaced."""

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # new, or back in the pool moments ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _queue_for_writer_lock(fd: int, limit: float = 30.0) -> bool:
    """Wait for the writer file lock, polling finely (SQLite's busy handler sleeps up to 100 ms).

    After ``limit`` seconds go on without it: ``BEGIN IMMEDIATE`` then waits on SQLite's own lock
    and fails with its busy error, so a stuck transaction elsewhere never hangs this one forever.
    """
    deadline = time.monotonic() + limit
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


def release_deleted_pages(engine: Engine) -> bool:
    """After an erasure commits, drop the WAL's older page images that still hold deleted rows.

    With ``secure_delete`` the database pages are zeroed, but the WAL keeps the page images from
    before the deletion until a checkpoint; ``wal_checkpoint(TRUNCATE)`` copies the new pages
    back and empties the WAL. Returns False if a reader kept it from finishing (the next
    checkpoint, automatic after 1,000 pages, completes it). PostgreSQL: nothing to do here; dead
    tuples are removed by (auto)vacuum, and the data key is unreadable without the KEK anyway.
    """
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()  # autocommit: a checkpoint cannot run inside a transaction
    try:
        cursor = raw.cursor()
        busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        raw.close()
    return not busy


# The tables a bulk load fills and the governed read path plans against.
LOADED_TABLES = (
    "customers",
    "data_keys",
    "orders",
    "interactions",
    "consent_events",
    "consent_current",
)
# Fewer rows than this since the last statistics and the planner's defaults do well enough.
REFRESH_FROM = 200


def refresh_statistics(
    conn: Connection, rows: int, tables: tuple[str, ...] = LOADED_TABLES
) -> bool:
    """After a bulk load of ``rows`` rows, refresh PostgreSQL's planner statistics of ``tables``.

    Without them, the queries of the first minute after an import (until autovacuum's next
    ``ANALYZE``) are planned for empty tables: the purpose-filtered list page went from 2 ms to
    13 ms on 2,000 fresh customers (``bench/consent.py --postgres``). ``ANALYZE`` samples
    (30,000 rows at most per table), runs inside the caller's transaction and takes no lock that
    blocks readers or writers. SQLite: nothing to do (its planner uses no statistics here).
    Returns whether statistics were refreshed.
    """
    if conn.dialect.name != "postgresql" or rows < REFRESH_FROM:
        return False
    conn.execute(text(f"ANALYZE {', '.join(tables)}"))
    return True


def _lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return f"{database}.writer-lock"


def database_health(engine: Engine, alembic_config: Any) -> tuple[bool, dict[str, str]]:
    """Whether the database answers and its schema is at the newest migration, with the checks
    by name (no personal data). Never raises: an unreachable database is a failed check."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    checks: dict[str, str] = {}
    try:
        with read_connection(engine) as conn:  # never queues behind SQLite's writer lock
            conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            head = ScriptDirectory.from_config(alembic_config).get_current_head()
            current = MigrationContext.configure(conn).get_current_revision()
        ok = current == head
        checks["migrations"] = "current" if ok else f"behind ({current} != {head})"
    except Exception as exc:  # health reports failure, never raises
        checks["database"] = f"unreachable ({type(exc).__name__})"
        ok = False
    return checks.get("database") == "ok" and ok, checks
