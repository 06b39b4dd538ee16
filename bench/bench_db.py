"""Databases for the benchmarks: a fresh PostgreSQL database per run, dropped afterwards.

Like tests/conftest.py, a run never touches an existing database: it connects to the admin URL
given (``postgresql://postgres@127.0.0.1:5432/test`` by default), creates ``gov_bench_<pid>``,
yields that database's URL and drops it (``WITH (FORCE)``) when the run ends, even on failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _libpq(url: str) -> str:
    """A URL psycopg accepts (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_postgres(admin_url: str = PG_ADMIN) -> Iterator[str]:
    """Create ``gov_bench_<pid>`` next to ``admin_url``'s database; yield its URL; drop it."""
    import psycopg

    admin = _libpq(admin_url)
    name = f"gov_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(url: str) -> str:
    """The database kind and name of a URL, without credentials."""
    parsed = make_url(url)
    kind = "PostgreSQL" if parsed.get_backend_name() == "postgresql" else "SQLite"
    return f"{kind} ({parsed.database})"


@contextmanager
def in_process_server(postgres: bool, prefix: str) -> Iterator[Path]:
    """The environment of an in-process governance app for a benchmark: dev keys in a fresh
    instance folder, quiet logs, no rate limit, and a fresh database (SQLite in the folder, or
    a fresh PostgreSQL database, dropped afterwards); yields the work folder."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        {
            "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
            "GOVERNANCE_DEV": "true",
            "GOVERNANCE_LOG_LEVEL": "WARNING",
            "GOVERNANCE_RATE_LIMIT": "1000000 per minute",
        }
    )
    with ExitStack() as stack:
        os.environ["GOVERNANCE_DATABASE_URL"] = (
            stack.enter_context(fresh_postgres(PG_ADMIN))
            if postgres
            else f"sqlite:///{work / 'bench.db'}"
        )
        yield work
