"""SQLite: a read-first request takes the writer lock at its first write, not at BEGIN
(``governance.database.writes_last``), so governed reads of several workers overlap; the audit
integrator still reads its state under the lock."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from conftest import make_customer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.database import writes_last
from governance.extensions import db
from governance.models import AuditQueued, Customer


def _locked(path: str) -> bool:
    """Whether some connection holds SQLite's writer lock on ``path``."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


@pytest.fixture
def sqlite_path(app: Any) -> str:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the writer lock is SQLite's")
    return str(engine.url.database)


def test_reads_run_without_the_lock_and_the_first_write_takes_it(
    app: Any, call: Any, sqlite_path: str
) -> None:
    make_customer(call)
    call.session.commit()
    with app.app_context(), writes_last(), Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert not _locked(sqlite_path)  # a read-first transaction has not locked anything
        call.audit.record(session, call.actor, "test.read_first", now=call.now())
        assert _locked(sqlite_path)  # the INSERT began the write transaction
        session.commit()
        assert not _locked(sqlite_path)
        session.scalar(select(func.count()).select_from(AuditQueued))
        session.commit()  # a transaction that only read commits without having begun
    with app.app_context(), writes_last(), Session(db.engine) as session:
        call.audit.record(session, call.actor, "test.rolled_back", now=call.now())
        session.rollback()
        assert not _locked(sqlite_path)


def test_the_integrator_reads_its_state_under_the_lock(
    app: Any, call: Any, sqlite_path: str
) -> None:
    with app.app_context(), writes_last(), Session(db.engine) as session:
        call.audit._lock_state(session)
        assert _locked(sqlite_path)  # read under the lock: two integrators cannot interleave
        session.rollback()


def test_without_writes_last_a_transaction_locks_at_begin(
    app: Any, call: Any, sqlite_path: str
) -> None:
    with app.app_context(), Session(db.engine) as session:
        session.scalar(select(func.count()).select_from(Customer))
        assert _locked(sqlite_path)  # BEGIN IMMEDIATE, as before, for writes that read first
        session.rollback()


def test_a_governed_read_leaves_its_entry_and_commits(
    app: Any, client: Any, crm: dict[str, str], call: Any, sqlite_path: str
) -> None:
    make_customer(call)
    cid = call.session.scalar(select(Customer.id))
    before = call.session.scalar(select(func.count()).select_from(AuditQueued))
    call.session.rollback()
    from governance.bootstrap import deps

    deps(app).audit.inline = False
    res = client.get(f"/api/v1/customers/{cid}", headers={**crm, "X-Purpose": "support"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert not _locked(sqlite_path)  # committed and released before the answer left
    assert call.session.scalar(select(func.count()).select_from(AuditQueued)) == before + 1
    call.session.rollback()
