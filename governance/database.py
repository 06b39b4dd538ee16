"""Engine set-up shared by SQLite and PostgreSQL.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions: every governed request appends to
the audit log, so taking the write lock up front avoids lock-upgrade failures between
concurrent writers (SQLAlchemy's documented pysqlite recipe).
"""

from __future__ import annotations

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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
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
        conn.exec_driver_sql("BEGIN IMMEDIATE")
