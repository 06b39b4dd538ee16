"""A log cut back behind the server's back is caught: the newest signed checkpoint is kept outside
the database (a file beside the signing key), and the ``audit_state`` row only moves forward."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alog_helpers import build_log, bypass_triggers, dialect, expect_failure
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit.tree import Frontier
from governance.cli import cli
from governance.services.auditlog import views as audit_views


@pytest.fixture
def log(call: Any) -> Any:
    return build_log(call)  # 40 entries, checkpoints at 10, 20, 30, 40; then a verify entry


def kept_file(app: Any) -> Path:
    key = Path(app.config["SIGNING_KEY_FILE"])
    return key.with_name(f"{key.stem}.checkpoint.json")


def cut_back(session: Any, keep: int) -> None:
    """What the issue describes: triggers off, the newest entries deleted together with their
    checkpoints and nodes, and ``audit_state`` rebuilt to agree with what is left."""
    with bypass_triggers(session):
        session.execute(text("DELETE FROM audit_entries WHERE seq > :n"), {"n": keep})
        session.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > :n"), {"n": keep})
        for level in range(8):
            session.execute(
                text("DELETE FROM audit_nodes WHERE level = :l AND (idx + 1) * :w > :n"),
                {"l": level, "w": 1 << level, "n": keep},
            )
        frontier = Frontier()
        for (digest,) in session.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq")):
            frontier.push(bytes(digest))
        last_size, last_at = session.execute(
            text("SELECT tree_size, timestamp FROM audit_checkpoints ORDER BY tree_size DESC")
        ).first()
        session.execute(
            text(
                "UPDATE audit_state SET size = :n, frontier = :f, last_checkpoint_size = :s, "
                "last_checkpoint_at = :t WHERE id = 1"
            ),
            {
                "n": keep,
                "f": json.dumps(frontier.to_json(), separators=(",", ":")),
                "s": last_size,
                "t": last_at,
            },
        )


def test_a_signed_tail_cut_back_with_its_checkpoints_and_state_fails_cli_verify(
    app: Any, log: Any, runner: Any
) -> None:
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    cut_back(log.session, 25)
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert (
        "FAILED: truncated: the log holds 25 entries but the server signed a checkpoint at "
        "tree size 40"
    ) in result.stderr


def test_the_kept_checkpoint_is_the_newest_committed_one(app: Any, log: Any, runner: Any) -> None:
    """Written beside the signing key after the commit; a rolled-back checkpoint is not kept."""
    newest = audit_views.list_checkpoints(log.session)[-1]
    assert json.loads(kept_file(app).read_text()) == newest
    log.audit.record(log.session, log.actor, "test.event", now=log.now())
    log.audit.checkpoint(log.session, log.now())
    log.session.rollback()
    assert json.loads(kept_file(app).read_text()) == newest
    result = runner.invoke(cli, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    newer = audit_views.list_checkpoints(log.session)[-1]
    assert newer["tree_size"] > newest["tree_size"]
    assert json.loads(kept_file(app).read_text()) == newer
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"kept outside the database at tree size {newer['tree_size']}" in ok.output


def test_a_checkpoint_deleted_from_the_database_but_kept_outside(log: Any) -> None:
    with bypass_triggers(log.session):
        log.session.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = 40"))
    expect_failure(log, "checkpoint at tree size 40: missing from the database")


def test_a_kept_checkpoint_that_is_not_a_checkpoint(app: Any, log: Any) -> None:
    kept_file(app).write_text("{}")
    expect_failure(log, "the checkpoint kept outside the database")


def test_audit_state_refuses_delete_and_any_rewind(log: Any) -> None:
    """Through the server's own connection the tree state can grow, never shrink or be rewritten."""
    raw = log.session.execute(text("SELECT frontier FROM audit_state WHERE id = 1")).scalar()
    forged = json.loads(raw)
    forged["hashes"][0] = "00" * 32
    statements = [
        ("DELETE FROM audit_state", {}),
        ("UPDATE audit_state SET size = size - 1", {}),
        ("UPDATE audit_state SET frontier = :f", {"f": json.dumps(forged)}),
        ("UPDATE audit_state SET last_checkpoint_size = 0", {}),
        ("UPDATE audit_state SET size = size + 5", {}),  # a size the frontier does not have
    ]
    if dialect(log.session) == "postgresql":
        statements.append(("TRUNCATE audit_state", {}))
    for statement, params in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            log.session.execute(text(statement), params)
        log.session.rollback()
    log.audit.record(log.session, log.actor, "test.event", now=log.now())
    log.audit.checkpoint(log.session, log.now())
    log.session.commit()
    size = audit_views.tree_size(log.session)
    assert audit_views.verify_live(log).tree_size == size
