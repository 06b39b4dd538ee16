"""The request's unit of work (``governance/web/transaction.py``): views never commit.

A read's audit entry is committed by the edge before the answer leaves; a view that raises after
its read leaves no ``allowed`` entry, because nothing of its transaction is kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import customer_doc
from sqlalchemy import create_engine, func, select

from governance.api import customers as customers_view
from governance.models import AuditEntry


def committed_reads(app: Any, customer_id: str) -> int:
    """Allowed ``customer.read`` entries for ``customer_id`` as another connection sees them."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            query = (
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "customer.read",
                    AuditEntry.subject_id == customer_id,
                    AuditEntry.outcome == "allowed",
                )
            )
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def customer_id(client: Any, crm: dict[str, str]) -> str:
    res = client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    assert res.status_code == 201, res.json
    return str(res.json["id"])


def test_a_served_read_is_committed_without_the_view_committing(
    app: Any, client: Any, crm: dict[str, str], customer_id: str
) -> None:
    assert "commit" not in customers_view.get_customer.__code__.co_names
    res = client.get(f"/api/v1/customers/{customer_id}", headers=crm)
    assert res.status_code == 200
    assert committed_reads(app, customer_id) == 1


def test_a_view_that_raises_after_its_read_leaves_no_allowed_entry(
    app: Any, client: Any, crm: dict[str, str], customer_id: str, monkeypatch: Any
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("rendering failed after the read")

    monkeypatch.setattr(customers_view, "jsonify", broken)
    res = client.get(f"/api/v1/customers/{customer_id}", headers=crm)
    assert res.status_code == 500
    assert res.mimetype == "application/problem+json"
    assert "Alice" not in res.get_data(as_text=True)
    assert committed_reads(app, customer_id) == 0


def test_a_read_whose_commit_fails_is_a_500_and_sends_no_data(
    app: Any, client: Any, crm: dict[str, str], customer_id: str, caplog: Any
) -> None:
    from sqlalchemy import event

    from governance.extensions import db

    def refuse(_session: Any) -> None:
        raise RuntimeError("the disk is full")

    event.listen(db.session, "before_commit", refuse)
    try:
        res = client.get(f"/api/v1/customers/{customer_id}", headers=crm)
    finally:
        event.remove(db.session, "before_commit", refuse)
    assert res.status_code == 500
    assert res.mimetype == "application/problem+json"
    assert res.json["type"].endswith("internal-error")
    body = res.get_data(as_text=True)
    assert "Alice" not in body and "example.com" not in body
    assert any("commit failed" in r.getMessage() for r in caplog.records)
    assert committed_reads(app, customer_id) == 0
