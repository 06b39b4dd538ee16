"""Legal holds refuse erasure (409 with the reason, nothing changed); plan and run sweeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from governance.cli import cli
from governance.models import AuditEntry, Customer, Interaction, RetentionRemoval, Tombstone
from tests.conftest import csrf_headers, login_as, make_customer


def new_customer(call: Any, **overrides: Any) -> dict[str, str]:
    """Create a customer; its id (the system's own view of the document masks everything)."""
    make_customer(call, **overrides)
    found = call.session.scalar(select(func.max(Customer.id)))
    call.session.rollback()  # SQLite: a read transaction would hold the writer lock
    return {"id": found}


def plain_customer(call: Any, ref: str) -> dict[str, str]:
    """A customer with only a reference, a name and an email, all derived from ``ref``."""
    return new_customer(
        call, external_ref=ref, email=f"{ref}@example.com", full_name=f"Person {ref}",
        phone=None, national_id=None,
    )  # fmt: skip


def dpo(app: Any, client: Any) -> dict[str, str]:
    """A signed-in DPO console session on ``client``; the headers of its API writes."""
    login_as(app, client, "dpo")
    return csrf_headers(client)


def test_erasure_under_hold_is_refused_with_the_reason_and_changes_nothing(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    hold = client.post(
        "/api/v1/holds",
        json={"customer_id": customer["id"], "reason": "litigation 2026-17 (court order)"},
        headers=headers,
    )
    assert hold.status_code == 201, hold.json
    assert hold.json["active"] and hold.json["customer_id"] == customer["id"]
    before = call.session.scalar(select(func.count()).select_from(AuditEntry))
    call.session.rollback()
    answer = client.delete(f"/api/v1/customers/{customer['id']}", headers=headers)
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json"
    assert "litigation 2026-17 (court order)" in answer.json["detail"]
    call.session.expire_all()
    assert call.session.get(Customer, customer["id"]) is not None
    assert call.session.get(Tombstone, customer["id"]) is None
    actions = call.session.scalars(select(AuditEntry.action).where(AuditEntry.seq > before)).all()
    assert actions == ["customer.erase"]  # the refusal, audited; no erasure happened
    call.session.rollback()
    released = client.post(f"/api/v1/holds/{hold.json['id']}/release", headers=headers)
    assert released.status_code == 200 and not released.json["active"]
    assert client.delete(f"/api/v1/customers/{customer['id']}", headers=headers).status_code == 200


def test_hold_input_is_checked(app: Any, client: Any, call: Any) -> None:
    headers = dpo(app, client)
    missing = client.post("/api/v1/holds", json={"customer_id": None}, headers=headers)
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json["errors"]}
    assert {"customer_id", "reason"} <= fields
    unknown = client.post(
        "/api/v1/holds",
        json={"customer_id": "0190c0de-0000-7000-8000-000000000000", "reason": "x"},
        headers=headers,
    )
    assert unknown.status_code == 404
    category = client.post(
        "/api/v1/holds", json={"category": "orders", "reason": "tax audit"}, headers=headers
    )
    assert category.status_code == 201


def _age(call: Any, customer_id: str, days: int) -> None:
    old = datetime.now(UTC) - timedelta(days=days)
    row = call.session.get(Customer, customer_id)
    row.created_at = row.updated_at = old
    call.session.commit()


def test_plan_changes_nothing_and_run_removes_expired_subjects_except_held(
    app: Any, runner: Any, call: Any, client: Any
) -> None:
    old = [plain_customer(call, f"O{i}") for i in range(3)]
    fresh = plain_customer(call, "N")
    for c in old:
        _age(call, c["id"], 4000)
    headers = dpo(app, client)
    client.post("/api/v1/holds", json={"customer_id": old[0]["id"], "reason": "dispute"},
                headers=headers)  # fmt: skip
    result = runner.invoke(cli, ["retention", "plan", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert set(plan) == {"rules", "on_hold"}
    by_rule = {r["rule"]: r for r in plan["rules"]}
    inactive = by_rule["inactive-customers"]
    assert {"rule", "category", "action", "count", "examples"} <= set(inactive)
    assert inactive["count"] == 2 and inactive["action"] == "crypto_shred"
    assert set(inactive["examples"]) == {old[1]["id"], old[2]["id"]}
    assert plan["on_hold"] == 1
    assert by_rule["audit-log"]["action"] == "keep" and by_rule["audit-log"]["count"] == 0
    call.session.expire_all()
    assert call.session.scalar(select(func.count()).select_from(Customer)) == 4  # unchanged
    call.session.rollback()
    result = runner.invoke(cli, ["retention", "run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "inactive-customers: 2 removed" in result.output
    call.session.expire_all()
    left = set(call.session.scalars(select(Customer.id)))
    assert left == {old[0]["id"], fresh["id"]}
    assert call.session.get(Tombstone, old[1]["id"]) is not None
    removed = call.session.scalars(select(RetentionRemoval.subject_id)).all()
    assert set(removed) == {old[1]["id"], old[2]["id"]}
    audited = call.session.scalars(
        select(AuditEntry.subject_id).where(AuditEntry.action == "retention.remove")
    ).all()
    assert set(audited) == {old[1]["id"], old[2]["id"]}
    call.session.rollback()
    again = json.loads(runner.invoke(cli, ["retention", "plan", "--json"]).output)
    assert {r["rule"]: r for r in again["rules"]}["inactive-customers"]["count"] == 0


def test_run_is_resumable_in_batches(app: Any, call: Any, monkeypatch: Any) -> None:
    from governance.services.jobs import queue as jobs
    from governance.services.retention import sweep

    for i in range(7):
        c = plain_customer(call, f"R{i}")
        _age(call, c["id"], 4000)
    monkeypatch.setattr(sweep, "BATCH", 3)
    job = sweep.start(call)
    call.session.commit()
    seen: list[int] = []
    real = sweep._record

    def crash_after_two_batches(c: Any, job_id: str, rule: Any, ids: list[str]) -> None:
        real(c, job_id, rule, ids)
        seen.append(len(ids))
        if len(seen) == 2:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(sweep, "_record", crash_after_two_batches)
    failed = jobs.run(call, job)
    assert failed.state == "failed"
    call.session.expire_all()
    assert call.session.scalar(select(func.count()).select_from(Customer)) == 4  # 1 batch kept
    call.session.rollback()
    monkeypatch.setattr(sweep, "_record", real)
    job = call.session.get(type(job), job.id)
    job.state, job.attempts = "queued", 1
    call.session.commit()
    done = jobs.run(call, job)
    assert done.state == "succeeded", done.error
    assert done.result["removed"]["inactive-customers"] == 7
    assert call.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_interactions_expire_by_creation(app: Any, call: Any) -> None:
    from governance.services.customers import records
    from governance.services.retention import sweep

    c = new_customer(call)
    records.add_interaction(call, c["id"], {"channel": "email", "note": "hello",
                                            "occurred_at": "2020-01-01T00:00:00Z"})  # fmt: skip
    now = datetime.now(UTC).isoformat()
    records.add_interaction(call, c["id"], {"channel": "email", "note": "hi", "occurred_at": now})
    call.session.commit()
    plan = {r["rule"]: r for r in sweep.plan(call)["rules"]}
    assert plan["interaction-notes"]["count"] == 1
    assert call.session.scalar(select(func.count()).select_from(Interaction)) == 2


def test_a_customer_with_an_open_request_does_not_expire(app: Any, call: Any) -> None:
    from governance.services.requests import workflow
    from governance.services.retention import sweep

    waiting = plain_customer(call, "W")["id"]
    _age(call, waiting, 4000)
    workflow.create(call, {"kind": "access", "subject": {"email": "W@example.com"},
                           "jurisdiction": "GDPR"})  # fmt: skip
    call.session.commit()
    plan = sweep.plan(call)
    assert {r["rule"]: r for r in plan["rules"]}["inactive-customers"]["count"] == 0
    assert plan["on_hold"] == 1
    call.session.rollback()
