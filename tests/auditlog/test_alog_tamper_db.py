"""What only the database holds is checked too: filter columns, the unsigned tail, the frontier;
the append-only triggers; and the CLI verifier's exit status and message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alog_helpers import TABLES, build_log, bypass_triggers, dialect, expect_failure
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit.checkpoint import generate_signing_key, public_key_pem
from governance.cli import cli
from governance.services.auditlog import views as audit_views


@pytest.fixture
def log(call: Any) -> Any:
    return build_log(call)


def test_a_filter_column_that_disagrees_with_its_leaf(log: Any) -> None:
    """Hiding an entry from filters (and the PDF report) by editing its column is caught."""
    with bypass_triggers(log.session):
        log.session.execute(text("UPDATE audit_entries SET subject_id = 'other' WHERE seq = 7"))
    expect_failure(log, "entry 7: stored column subject_id differs from its signed leaf")


def test_a_truncated_unsigned_tail(log: Any) -> None:
    """Entries after the last checkpoint are still counted by the locked tree state."""
    for _ in range(3):
        log.audit.record(log.session, log.actor, "test.tail", now=log.now())
        log.session.commit()
    size = audit_views.tree_size(log.session)
    with bypass_triggers(log.session):
        log.session.execute(text("DELETE FROM audit_entries WHERE seq > :n"), {"n": size - 2})
    expect_failure(log, f"entry {size - 1}: missing")


def test_an_altered_frontier(log: Any) -> None:
    """The persisted frontier the next append builds on must match the entries."""
    raw = log.session.execute(text("SELECT frontier FROM audit_state WHERE id = 1")).scalar()
    frontier = json.loads(raw)
    frontier["hashes"][0] = "00" * 32
    with bypass_triggers(log.session):  # the audit_state trigger refuses this rewrite
        log.session.execute(
            text("UPDATE audit_state SET frontier = :f WHERE id = 1"), {"f": json.dumps(frontier)}
        )
    expect_failure(log, "tree state: the stored frontier")


@pytest.mark.parametrize("table", TABLES)
def test_triggers_refuse_update_and_delete_through_the_normal_connection(
    log: Any, table: str
) -> None:
    statements = [f"DELETE FROM {table}"]
    column = {"audit_entries": "action", "audit_nodes": "hash", "audit_checkpoints": "key_id"}
    value = "'0000000000000000'" if table == "audit_checkpoints" else "'x'"
    statements.append(f"UPDATE {table} SET {column[table]} = {value}")
    if dialect(log.session) == "postgresql":
        statements.append(f"TRUNCATE {table}")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            log.session.execute(text(statement))
        log.session.rollback()
    size = audit_views.tree_size(log.session)
    assert audit_views.verify_live(log).tree_size == size


def test_cli_verify_names_the_first_bad_entry(log: Any, runner: Any) -> None:
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    with bypass_triggers(log.session):
        log.session.execute(text("DELETE FROM audit_entries WHERE seq IN (12, 20)"))
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "FAILED: entry 12: missing" in result.stderr


def test_cli_verify_with_a_pinned_key(log: Any, runner: Any, tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.pem", tmp_path / "theirs.pem"
    ours.write_bytes(public_key_pem(log.audit.signing_key))
    theirs.write_bytes(public_key_pem(generate_signing_key()))
    ok = runner.invoke(cli, ["audit", "verify", "--public-key", str(ours)])
    assert ok.exit_code == 0, ok.output
    assert "checkpoints verified" in ok.output
    bad = runner.invoke(cli, ["audit", "verify", "--public-key", str(theirs)])
    assert bad.exit_code == 1
    assert "FAILED: checkpoint at tree size 10" in bad.stderr


def test_worker_signs_stale_entries(call: Any, runner: Any) -> None:
    call.audit.record(call.session, call.actor, "test.event", now=call.now())
    call.session.commit()
    size = audit_views.tree_size(call.session)
    assert audit_views.list_checkpoints(call.session) == []
    call.session.rollback()
    result = runner.invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [c["tree_size"] for c in audit_views.list_checkpoints(call.session)] == [size]
