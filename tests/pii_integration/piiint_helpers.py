"""Shared helpers of the PII integration tests: a DPO session with its CSRF header, a small store
with known personal data written through the API, running queued scan jobs, audit rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from conftest import customer_doc, login_as

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

PHONE_NOTE = "Customer asked to be called back on 13912345678 tomorrow."
EMAIL_NOTE = "客户来电，新邮箱 li.lei@example.cn，请更新。"
INVOICE_COMMENT = "Send the invoice to billing@example.net please."
SECRETS = ("13912345678", "li.lei@example.cn", "billing@example.net", "13800138000")


def csrf_token(client: Any, path: str = "/account") -> str:
    """The CSRF token of a console page the client may open."""
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def dpo_client(app: Any) -> tuple[Any, dict[str, str]]:
    """A signed-in DPO console session and the header that lets it write through the API."""
    client = app.test_client()
    login_as(app, client, "dpo")
    return client, {"X-CSRFToken": csrf_token(client)}


@contextmanager
def system_call(app: Any) -> Iterator[Any]:
    """A system service call in a short app context, committed at the end."""
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():
        yield deps(app).call(db.session)
        db.session.commit()


def build_store(client: Any, crm: dict[str, str]) -> dict[str, Any]:
    """Two customers, four notes (one phone, one email in Chinese), an order comment with an
    email; everything written through the API as the CRM. Returns their ids."""
    c1 = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    c2 = client.post(
        "/api/v1/customers",
        json=customer_doc(
            external_ref="CRM-2",
            full_name="Bob Tester",
            email="bob.tester@example.org",
            phone=None,
            national_id=None,
            address=None,
        ),
        headers=crm,
    ).json
    ids: dict[str, Any] = {"c1": c1["id"], "c2": c2["id"]}
    for name, customer, note in (
        ("n1", c1, PHONE_NOTE),
        ("n2", c1, EMAIL_NOTE),
        ("n3", c1, "Delivery was fine."),
        ("n4", c2, "prefers contact in the afternoon"),
    ):
        res = add_note(client, crm, customer["id"], note)
        ids[name] = res["id"]
    order = client.post(
        f"/api/v1/customers/{c2['id']}/orders",
        headers=crm,
        json={
            "ordered_at": "2026-01-02",
            "amount": "12.50",
            "currency": "CNY",
            "items": [{"sku": "SKU-1", "quantity": 1}],
            "comment": INVOICE_COMMENT,
        },
    )
    assert order.status_code == 201, order.json
    ids["o1"] = order.json["id"]
    return ids


def add_note(client: Any, crm: dict[str, str], customer_id: str, note: str) -> dict[str, Any]:
    res = client.post(
        f"/api/v1/customers/{customer_id}/interactions",
        headers=crm,
        json={"channel": "phone", "occurred_at": "2026-01-01T10:00:00Z", "note": note},
    )
    assert res.status_code == 201, res.json
    return res.json  # type: ignore[no-any-return]


def run_queued_scan(app: Any) -> dict[str, Any]:
    """Do what ``governance worker --once`` does for the queued PII scan; the job as JSON."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    with app.app_context():
        job = jobs.claim(db.session, "test-worker", datetime.now(UTC), kinds=["pii.scan"])
        assert job is not None, "no queued PII scan"
        done = jobs.describe(jobs.run(deps(app).call(db.session), job))
        db.session.remove()
    assert done["state"] == "succeeded", done["error"]
    return done


def scan_via_api(app: Any, client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Queue a scan through the API as the DPO, run it, return the job's result."""
    res = client.post("/api/v1/pii/scans", json=body, headers=headers)
    assert res.status_code == 202, res.json
    assert res.headers["Location"] == f"/api/v1/jobs/{res.json['id']}"
    return run_queued_scan(app)["result"]  # type: ignore[no-any-return]


def findings(client: Any, **filters: str) -> list[dict[str, Any]]:
    """Every finding matching ``filters`` (follows the cursor)."""
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {**filters, "limit": "2"}
    while True:
        page = client.get("/api/v1/pii/findings", query_string=params)
        assert page.status_code == 200, page.json
        items += page.json["items"]
        if not page.json["next_cursor"]:
            return items
        params["cursor"] = page.json["next_cursor"]


def audit(app: Any, action: str) -> list[dict[str, Any]]:
    """Audit entries of one action as leaf objects, oldest first."""
    from governance.extensions import db
    from governance.models import AuditEntry

    with app.app_context():
        rows = db.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.seq)
        leaves = [json.loads(row.leaf) for row in rows]
        db.session.rollback()
    return leaves
