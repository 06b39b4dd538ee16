"""Helpers for the audit-log tests: a small signed log, and raw SQL as an attacker would run it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from audit.verify import VerifyError
from governance.services.auditlog import views as audit_views

TABLES = ("audit_entries", "audit_nodes", "audit_checkpoints")
GUARDED = (*TABLES, "audit_state")  # tables whose triggers an attacker would have to lift


def dialect(session: Any) -> str:
    return str(session.get_bind().dialect.name)


@contextlib.contextmanager
def bypass_triggers(session: Any) -> Iterator[None]:
    """Run raw SQL as someone with database access would: triggers off, then back on.

    PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER ALL`` (the tests connect as a superuser);
    SQLite: drop the append-only triggers in this connection and recreate them afterwards.
    """
    if dialect(session) == "postgresql":
        for t in GUARDED:
            session.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER ALL"))
        yield
        for t in GUARDED:
            session.execute(text(f"ALTER TABLE {t} ENABLE TRIGGER ALL"))
    else:
        saved = session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name IN "
                "('audit_entries','audit_nodes','audit_checkpoints','audit_state')"
            )
        ).all()
        assert saved, "the append-only triggers are missing"
        for name, _ in saved:
            session.execute(text(f"DROP TRIGGER {name}"))
        yield
        for _, sql in saved:
            session.execute(text(sql))
    session.commit()


def build_log(call: Any, entries: int = 40, every: int = 10) -> Any:
    """Append ``entries`` entries, each committed, checkpoints every ``every``; verify."""
    call.audit.checkpoint_every = every
    for i in range(entries):
        call.audit.record(
            call.session, call.actor, "test.event", now=call.now(), subject_id=f"s{i}",
            details={"i": i},
        )  # fmt: skip
        call.session.commit()
    audit_views.verify_live(call)
    call.session.commit()
    return call


def expect_failure(call: Any, needle: str) -> str:
    """Verification of the live log fails, naming ``needle`` (an entry or checkpoint)."""
    with pytest.raises(VerifyError) as info:
        audit_views.verify_live(call)
    assert needle in str(info.value), str(info.value)
    return str(info.value)


def leaf_of(session: Any, seq: int) -> str:
    return str(
        session.execute(text("SELECT leaf FROM audit_entries WHERE seq = :s"), {"s": seq}).scalar()
    )
