"""Every console page as every person role, generated from the URL map.

A demo customer with an order and an interaction exists; each role signs in and opens every GET
route of the console. No page may answer 5xx; a page the role's policy allows answers 200, any
other 403. No page may show a value in clear that ``visibility.yaml`` does not give the role in
clear, and the customer page shows orders and interactions only to roles the policy lets read
them through the API (``GET /api/v1/customers/:id/orders`` and ``.../interactions``): the
console shows exactly what the API would. Every answer carries a strict Content-Security-Policy
(W3C CSP Level 3) and no page relies on inline script, inline style or event-handler attributes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import customer_doc, login_as, make_user

from governance.security.authz import Authorizer
from governance.security.masking import CLEAR, default_visibility
from governance.web.edge import PUBLIC_ENDPOINTS, rule_pattern

POLICY = default_visibility()
PEOPLE = sorted(name for name, spec in POLICY.roles.items() if spec.kind == "person")
ORDERS_ROUTE = "/api/v1/customers/:customer_id/orders"
INTERACTIONS_ROUTE = "/api/v1/customers/:customer_id/interactions"

ORDER = {
    "ordered_at": "2026-03-14T09:26:53Z",
    "amount": "4321.77",
    "currency": "CNY",
    "items": [{"name": "Teapot-X9", "quantity": 2}],
    "comment": "Leave it with the porter Zhou",
}
INTERACTION = {
    "channel": "chat",
    "occurred_at": "2026-02-11T08:15:00Z",
    "note": "Asked about Kettle-Q5",
}
# field -> (record kind, a distinctive piece of its clear value as a page would show it)
CLEAR_VALUES = {
    "full_name": ("customer", "Alice Example"),
    "email": ("customer", "alice.example@example.com"),
    "phone": ("customer", "13800138000"),
    "date_of_birth": ("customer", "1990-04-01"),
    "national_id": ("customer", "11010519491231002X"),
    "address": ("customer", "1 Example Road"),
    "external_ref": ("customer", "CRM-77123"),
    "ordered_at": ("orders", "2026-03-14"),
    "amount": ("orders", "4321.77"),
    "items": ("orders", "Teapot-X9"),
    "comment": ("orders", "porter Zhou"),
    "occurred_at": ("interactions", "2026-02-11"),
    "note": ("interactions", "Kettle-Q5"),
}
# Each dashboard figure and the routes whose right it summarises (the data-inventory report
# counts the rows of every table).
DASHBOARD = {
    "customers": ("/customers", "/reports/data-inventory"),
    "orders": (ORDERS_ROUTE, "/reports/data-inventory"),
    "interactions": (INTERACTIONS_ROUTE, "/reports/data-inventory"),
    "audit entries": ("/audit",),
    "running jobs": ("/jobs",),
}
# Pages that answer 404 until something exists (no PII scan has run in the demo).
NOTHING_YET = {
    "console.report_pii_discovery": 404,
    # the demo request is not completed: no export, no erasure certificate yet
    "console.request_export": 409,
    "console.request_certificate": 409,
    "console.report_erasure_certificate": 409,
    "console.incident_notices_zip": 404,
    "console.backup_report": 404,  # no backup verified yet
}
INLINE_CODE = (
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # an inline script element
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onchange=, ...
    re.compile(r"javascript:", re.I),
)


@pytest.fixture
def demo(app: Any, crm: dict[str, str]) -> dict[str, str]:
    """Values for every URL parameter of the console: a customer with an order and an
    interaction (written by the CRM through the API), a job, a user and a service account."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import ServiceAccount
    from governance.services.jobs import queue as jobs

    client = app.test_client()
    doc = customer_doc(external_ref="CRM-77123")
    customer_id = client.post("/api/v1/customers", json=doc, headers=crm).json["id"]
    for kind, body in (("orders", ORDER), ("interactions", INTERACTION)):
        res = client.post(f"/api/v1/customers/{customer_id}/{kind}", json=body, headers=crm)
        assert res.status_code == 201, res.json
    user_id, _ = make_user(app, "auditor", "someone@example.com")
    with app.app_context():
        call = deps(app).call(db.session)
        job_id = jobs.submit(call, "import", {"path": "missing.csv"}).id
        account_id = db.session.query(ServiceAccount).first().id
        from governance.services.requests import workflow

        request_id = workflow.create(
            call, {"kind": "access", "subject": {"email": doc["email"]}, "jurisdiction": "PIPL"}
        )["id"]
        from governance.services.breach import incidents

        now = call.now().isoformat()
        incident = incidents.create(call, {"title": "Demo", "detected_at": now, "aware_at": now})
        incident_id = incident.id
        db.session.commit()
    return {
        "customer_id": customer_id,
        "job_id": job_id,
        "user_id": user_id,
        "account_id": account_id,
        "seq": "1",
        "name": "purposes.yaml",
        "request_id": request_id,
        "incident_id": incident_id,
        "doc": "incident-report",
    }


def console_pages(app: Any, values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(path, route pattern, endpoint) of every GET route of the console but its static files."""
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint == "console.static":
            continue
        if "GET" not in (rule.methods or ()):
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: give the demo a value for {sorted(missing)}"
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)
        pages.append((path, rule_pattern(rule.rule), rule.endpoint))
    assert len(pages) > 25  # the whole map, not a sample
    return pages


def audit_of(app: Any, actor_id: str) -> list[dict[str, Any]]:
    """The audit entries of one actor, oldest first."""
    from governance.extensions import db
    from governance.models import AuditEntry

    with app.app_context():
        query = db.session.query(AuditEntry).filter(AuditEntry.actor_id == actor_id)
        rows = [json.loads(row.leaf) for row in query.order_by(AuditEntry.seq)]
        db.session.rollback()
    return rows


def assert_strict_csp(res: Any) -> None:
    """One Content-Security-Policy header that allows scripts and styles from the server only."""
    values = res.headers.getlist("Content-Security-Policy")
    assert len(values) == 1, values
    directives = {
        part.split()[0]: part.split()[1:] for part in values[0].split(";") if part.strip()
    }
    assert directives.get("default-src") == ["'none'"]
    for name in ("script-src", "style-src"):
        assert directives.get(name) == ["'self'"], name
    assert directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("base-uri") == ["'none'"]
    assert directives.get("form-action") == ["'self'"]
    assert "unsafe" not in values[0]


def assert_no_inline_code(path: str, body: str) -> None:
    for pattern in INLINE_CODE:
        found = pattern.search(body)
        assert found is None, f"{path}: inline code {found.group(0)!r} (blocked by the CSP)"


@pytest.mark.parametrize("role", PEOPLE)
def test_every_console_page_as_every_role(app: Any, demo: dict[str, str], role: str) -> None:
    authz = Authorizer.from_files()
    client = app.test_client()
    actor_id = login_as(app, client, role, f"{role}-viewer@example.com")
    hidden = {  # what this role may not see in clear, anywhere
        field: value
        for field, (_, value) in CLEAR_VALUES.items()
        if POLICY.level([role], field) != CLEAR
    }
    for path, route, endpoint in console_pages(app, demo):
        res = client.get(path)
        assert res.status_code < 500, (role, path, res.status_code)
        assert_strict_csp(res)
        if endpoint not in PUBLIC_ENDPOINTS:
            allowed = authz.allowed([role], route, "GET")
            expected = NOTHING_YET.get(endpoint, 200) if allowed else 403
            assert res.status_code == expected, (role, path, res.status_code)
        if res.mimetype == "application/pdf":
            continue
        body = res.get_data(as_text=True)
        shown = [field for field, value in hidden.items() if value in body]
        assert not shown, f"{role} sees {shown} in clear on {path}"
        if res.mimetype == "text/html":
            assert_no_inline_code(path, body)
    _check_customer_page(app, client, authz, role, demo["customer_id"], audit_of(app, actor_id))
    _check_dashboard(client, authz, role)


def _check_dashboard(client: Any, authz: Authorizer, role: str) -> None:
    """A figure or the recent jobs are shown only to roles that may open what they summarise."""
    body = client.get("/").get_data(as_text=True)
    for figure, routes in DASHBOARD.items():
        may = any(authz.allowed([role], route, "GET") for route in routes)
        assert (f'data-figure="{figure}"' in body) == may, (role, figure)
    assert ('id="recent-jobs"' in body) == authz.allowed([role], "/jobs", "GET"), role


def _check_customer_page(
    app: Any, client: Any, authz: Authorizer, role: str, customer_id: str, entries: list[Any]
) -> None:
    """The customer page shows what the role may read through the API, and only that."""
    if not authz.allowed([role], "/customers/:customer_id", "GET"):
        return
    body = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    sections = {
        "customer": True,
        "orders": authz.allowed([role], ORDERS_ROUTE, "GET"),
        "interactions": authz.allowed([role], INTERACTIONS_ROUTE, "GET"),
    }
    for kind in ("orders", "interactions"):
        assert (f'id="{kind}"' in body) == sections[kind], (role, kind)
        reads = [e for e in entries if e["action"] == f"{kind[:-1]}.list"]
        assert bool(reads) == sections[kind], (role, kind, "audited reads")
    for field, (kind, value) in CLEAR_VALUES.items():
        if sections[kind] and POLICY.level([role], field) == CLEAR:
            assert value in body, f"{role} should see {field} in clear"


def test_support_opens_a_customer_with_orders(app: Any, client: Any, demo: dict[str, str]) -> None:
    """The reported 500: support's page of a customer who has orders."""
    actor_id = login_as(app, client, "support")
    res = client.get(f"/customers/{demo['customer_id']}")
    assert res.status_code == 200
    body = res.get_data(as_text=True)
    assert "Orders" not in body and "4321.77" not in body and "2026-03-14" not in body
    assert "Asked about Kettle-Q5" in body  # support reads interaction notes in clear
    actions = [(e["action"], e["outcome"]) for e in audit_of(app, actor_id)]
    assert ("customer.read", "allowed") in actions
    assert ("interaction.list", "allowed") in actions
    assert not [a for a, _ in actions if a.startswith("order.")]


def test_a_page_that_fails_to_render_leaves_no_allowed_reads(
    app: Any, client: Any, demo: dict[str, str]
) -> None:
    """If the page cannot be shown, the reads it made are rolled back with it: the audit log
    never says a customer was shown when the person got an error page instead."""
    from jinja2 import ChoiceLoader, DictLoader

    # An application template overrides the blueprint's (Flask's own override mechanism): a
    # page whose rendering fails after the reads were made.
    broken = DictLoader({"customer.html": "{{ c.full_name }}{{ orders.nope.boom() }}"})
    app.jinja_loader = ChoiceLoader([broken, *filter(None, [app.jinja_loader])])
    actor_id = login_as(app, client, "dpo")
    res = client.get(f"/customers/{demo['customer_id']}")
    assert res.status_code == 500
    assert "changed nothing" in res.get_data(as_text=True)
    assert "Alice" not in res.get_data(as_text=True)
    reads = [e for e in audit_of(app, actor_id) if e["subject_id"] == demo["customer_id"]]
    assert reads == []


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/api/v1/customers", "/api/v1/nowhere", "/api/v1/docs"]
)
def test_public_pages_and_api_answers_carry_the_csp(client: Any, path: str) -> None:
    res = client.get(path)
    assert res.status_code in (200, 401, 404)
    assert_strict_csp(res)
    if res.mimetype == "text/html":
        assert_no_inline_code(path, res.get_data(as_text=True))
