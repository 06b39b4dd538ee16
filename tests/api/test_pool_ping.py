"""PostgreSQL: no liveness ping per checkout; a connection idle in the pool is pinged before it
is handed out, and a dead one is replaced (``governance.database._ping_idle_connections``)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from governance import database


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    database_url: str, monkeypatch: Any
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("the pool ping is PostgreSQL's")
    url = _psycopg(database_url) if "+psycopg" not in database_url else database_url
    engine = create_engine(url, **database.engine_options(database_url))
    database.configure_engine(engine)
    assert "pool_pre_ping" not in database.engine_options(database_url)
    try:
        with engine.connect() as conn:
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as conn:  # back in the pool moments ago: reused without a ping
            assert conn.scalar(text("SELECT pg_backend_pid()")) == pid
        admin = create_engine(url, poolclass=NullPool)
        with admin.connect() as other:  # the server drops the pooled connection meanwhile
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        admin.dispose()
        monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)  # every connection is idle
        with engine.connect() as conn:  # the dead connection failed its ping: a new one
            assert conn.scalar(text("SELECT 1")) == 1
            assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()
