"""Every migration runs up from an empty database and back down, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

PG_URL = os.environ.get("GOVERNANCE_TEST_DATABASE_URL")


@pytest.fixture
def empty_url(tmp_path: Path) -> Any:
    if PG_URL is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"gov_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_then_downgrade(empty_url: str, tmp_path: Path) -> None:
    from conftest import make_app
    from flask_migrate import downgrade, upgrade

    from governance.extensions import db

    app = make_app(empty_url, tmp_path / "instance")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "customers",
            "orders",
            "interactions",
            "data_keys",
            "tombstones",
            "jobs",
            "audit_entries",
            "audit_nodes",
            "audit_state",
            "audit_checkpoints",
            "users",
            "api_tokens",
            "casbin_rule",
        } <= tables
        expected = {c.name for c in db.metadata.tables["customers"].columns}
        assert {c["name"] for c in inspect(db.engine).get_columns("customers")} == expected
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.remove()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()


def test_audit_tables_refuse_update_and_delete(call: Any) -> None:
    from sqlalchemy.exc import DBAPIError

    call.audit.record(call.session, call.actor, "test.entry", now=call.now())
    call.session.commit()
    for statement in (
        "UPDATE audit_entries SET action = 'x.y'",
        "DELETE FROM audit_entries",
        "DELETE FROM audit_nodes",
        "UPDATE audit_nodes SET level = 9",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            call.session.execute(text(statement))
        call.session.rollback()
