"""Engine set-up shared by SQLite and PostgreSQL.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions: every governed request appends to
the audit log, so taking the write lock up front avoids lock-upgrade failures between
concurrent writers (SQLAlchemy's documented pysqlite recipe).
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for a database URL."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def configure_engine(engine: Engine) -> None:
    """Attach per-connection settings (idempotent per engine)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_governance_configured", False):
        return
    engine._governance_configured = True  # type: ignore[attr-defined]

    lock_path = _lock_path(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        if lock_path:
            record.info["writer_lock"] = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        # Let SQLAlchemy drive transactions; the driver must not BEGIN by itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: random blind-index keys
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        fd = conn.connection._connection_record.info.get("writer_lock")
        if fd is not None:
            _queue_for_writer_lock(fd)
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.pool, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
        fd = record.info.get("writer_lock")
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @event.listens_for(engine.pool, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        fd = record.info.pop("writer_lock", None)
        if fd is not None:
            os.close(fd)


def _queue_for_writer_lock(fd: int, limit: float = 30.0) -> None:
    """Wait for the writer file lock, polling finely (SQLite's busy handler sleeps up to 100 ms).

    After ``limit`` seconds go on without it: ``BEGIN IMMEDIATE`` then waits on SQLite's own lock
    and fails with its busy error, so a stuck transaction elsewhere never hangs this one forever.
    """
    deadline = time.monotonic() + limit
    pause = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


def _lock_path(engine: Engine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return f"{database}.writer-lock"
