"""Tampering behind the server's back (bypassing the append-only triggers) is always caught."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alog_helpers import build_log, bypass_triggers, expect_failure, leaf_of
from sqlalchemy import text

from audit.checkpoint import generate_signing_key, sign_checkpoint
from audit.hashing import leaf_hash
from governance.services.auditlog.append import AuditLog, rfc3339


@pytest.fixture
def log(call: Any) -> Any:
    """A log of 40 entries with checkpoints every 10, verified once."""
    return build_log(call)


def test_one_changed_byte_in_an_entry(log: Any) -> None:
    before = leaf_of(log.session, 9)
    at = before.index('"i":') + 4
    after = before[:at] + chr(ord(before[at]) ^ 1) + before[at + 1 :]  # a digit stays a digit
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1
    with bypass_triggers(log.session):
        log.session.execute(
            text("UPDATE audit_entries SET leaf = :leaf WHERE seq = 9"), {"leaf": after}
        )
    assert leaf_of(log.session, 9) == after
    expect_failure(log, "entry 9: stored leaf_hash does not match")


def test_changed_leaf_hash_column(log: Any) -> None:
    with bypass_triggers(log.session):
        log.session.execute(
            text("UPDATE audit_entries SET leaf_hash = :h WHERE seq = 5"),
            {"h": leaf_hash(b"forged")},
        )
    expect_failure(log, "entry 5")


def test_deleted_entry(log: Any) -> None:
    with bypass_triggers(log.session):
        log.session.execute(text("DELETE FROM audit_entries WHERE seq = 12"))
    expect_failure(log, "entry 12")


def test_swapped_entries(log: Any) -> None:
    rows = log.session.execute(
        text("SELECT seq, leaf, leaf_hash FROM audit_entries WHERE seq IN (3, 4)")
    ).all()
    (_, leaf3, h3), (_, leaf4, h4) = sorted(rows)
    with bypass_triggers(log.session):
        log.session.execute(
            text("UPDATE audit_entries SET leaf = :l, leaf_hash = :h WHERE seq = 3"),
            {"l": leaf4, "h": h4},
        )
        log.session.execute(
            text("UPDATE audit_entries SET leaf = :l, leaf_hash = :h WHERE seq = 4"),
            {"l": leaf3, "h": h3},
        )
    expect_failure(log, "entry 3")


def test_inserted_forged_entry(log: Any) -> None:
    """An appended forged entry with a checkpoint signed by another key is caught."""
    from audit.tree import Frontier

    n = log.session.execute(text("SELECT max(seq) FROM audit_entries")).scalar()
    last = json.loads(
        log.session.execute(
            text("SELECT leaf FROM audit_entries WHERE seq = :n"), {"n": n}
        ).scalar()
    )
    forged = {**last, "seq": n + 1, "action": "customer.erase", "subject_id": "victim"}
    leaf = json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with bypass_triggers(log.session):
        log.session.execute(
            text(
                "INSERT INTO audit_entries (seq, timestamp, actor_type, action, outcome, leaf, "
                "leaf_hash) VALUES (:seq, :ts, 'system', 'customer.erase', 'allowed', :leaf, :h)"
            ),
            {"seq": n + 1, "ts": last["timestamp"], "leaf": leaf, "h": leaf_hash(leaf.encode())},
        )
        frontier = Frontier()
        rows = log.session.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))
        for (stored,) in rows:
            frontier.push(bytes(stored))
        cp = sign_checkpoint(generate_signing_key(), n + 1, frontier.root(), rfc3339(log.now()))
        log.session.execute(
            text("INSERT INTO audit_checkpoints VALUES (:n, :r, :t, :k, :s)"),
            {"n": n + 1, "r": cp.root_hash, "t": cp.timestamp, "k": cp.key_id, "s": cp.signature},
        )
    expect_failure(log, f"checkpoint at tree size {n + 1}")


def test_truncated_tail(log: Any) -> None:
    with bypass_triggers(log.session):
        log.session.execute(text("DELETE FROM audit_entries WHERE seq > 33"))
    expect_failure(log, "checkpoint at tree size 40")


def test_whole_log_replaced_by_a_self_consistent_fake(log: Any) -> None:
    """A fake log with its own, valid checkpoints signed by another key is refused."""
    other = AuditLog(generate_signing_key(), checkpoint_every=10)
    with bypass_triggers(log.session):
        for t in ("audit_entries", "audit_nodes", "audit_checkpoints"):
            log.session.execute(text(f"DELETE FROM {t}"))
        log.session.execute(
            text(
                "UPDATE audit_state SET size = 0, frontier = :f, "
                "last_checkpoint_size = 0, last_checkpoint_at = NULL"
            ),
            {"f": '{"size":0,"hashes":[]}'},
        )
        for i in range(20):
            other.record(log.session, log.actor, "test.event", now=log.now(), details={"fake": i})
    expect_failure(log, "checkpoint at tree size 10")


def test_checkpoint_signed_with_another_key(log: Any) -> None:
    row = log.session.execute(
        text("SELECT tree_size, root_hash, timestamp FROM audit_checkpoints WHERE tree_size = 20")
    ).one()
    forged = sign_checkpoint(generate_signing_key(), row[0], bytes(row[1]), row[2])
    with bypass_triggers(log.session):
        log.session.execute(
            text("UPDATE audit_checkpoints SET signature = :s, key_id = :k WHERE tree_size = 20"),
            {"s": forged.signature, "k": forged.key_id},
        )
    expect_failure(log, "checkpoint at tree size 20")


def test_a_failed_audit_append_fails_the_action(call: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import customer_doc

    from governance.models import Customer
    from governance.services.customers import store as customers

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr(call.audit, "record", broken)
    with pytest.raises(RuntimeError):
        customers.create_customer(call, customer_doc())
    call.session.rollback()
    assert call.session.query(Customer).count() == 0
