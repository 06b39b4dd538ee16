"""The authorisation matrix: every role x every route x every method, from the URL map.

``EXPECTED`` is the reviewed table of who may call what. The test computes the real decision
(the real ``Authorizer`` over the real ``policies/`` files) for every non-public route and
method in the URL map and compares: a new route, a new method or a policy edit that changes any
cell fails here until this table is updated on purpose. HEAD is derived from GET (same data,
same right); OPTIONS is allowed to nobody. Deny by default is proven twice: a route registered
on a test app without a rule is refused for every role, and every route a role has no rule for
answers 403 through the real HTTP path.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import login_as, make_app, make_token
from idn_helpers import audit, csrf_from

from governance.security.authz import Authorizer
from governance.security.masking import default_visibility
from governance.web.edge import PUBLIC_ENDPOINTS, rule_pattern

ROLES = sorted(default_visibility().known_roles)
PEOPLE = {"admin", "analyst", "auditor", "dpo", "support"}
NOBODY: set[str] = set()
SAFE = ("GET", "HEAD", "OPTIONS")

EXPECTED: dict[tuple[str, str], set[str]] = {
    # --- console: every person's own account and the dashboard
    ("/", "GET"): PEOPLE,
    ("/account", "GET"): PEOPLE,
    ("/account", "POST"): PEOPLE,
    ("/account/recovery-codes", "POST"): PEOPLE,
    ("/account/language", "POST"): PEOPLE,
    ("/reauth", "GET"): PEOPLE,
    ("/reauth", "POST"): PEOPLE,
    # --- console: customer data (masked by role) and governance areas
    ("/customers", "GET"): {"dpo", "support"},
    ("/customers", "POST"): {"dpo", "support"},
    ("/customers/:customer_id", "GET"): {"dpo", "support"},
    ("/customers/:customer_id", "POST"): {"dpo", "support"},
    ("/customers/:customer_id/edit", "GET"): {"dpo", "support"},
    ("/customers/:customer_id/edit", "POST"): {"dpo", "support"},
    ("/customers/:customer_id/erase", "GET"): {"dpo"},
    ("/customers/:customer_id/erase", "POST"): {"dpo"},
    ("/customers/:customer_id/consents", "POST"): {"dpo", "support"},
    ("/consent", "GET"): {"dpo"},
    ("/retention", "GET"): {"auditor", "dpo"},
    ("/backups", "GET"): {"admin", "auditor", "dpo"},
    ("/backups", "POST"): {"admin"},
    ("/backups/report", "GET"): {"admin", "auditor", "dpo"},
    ("/incidents", "GET"): {"auditor", "dpo"},
    ("/reports", "GET"): {"analyst", "auditor", "dpo"},
    ("/quality", "GET"): {"analyst", "dpo"},
    ("/quality/merge", "POST"): {"dpo"},
    ("/imports", "GET"): {"dpo"},
    ("/imports", "POST"): {"dpo"},
    ("/reports/data-inventory", "GET"): {"analyst", "auditor", "dpo"},
    ("/jobs", "GET"): {"admin", "dpo"},
    ("/jobs/:job_id", "GET"): {"admin", "dpo"},
    # --- audit log (issue 5): auditors and DPOs read everything, may checkpoint and verify
    ("/audit", "GET"): {"auditor", "dpo"},
    ("/audit/verify", "GET"): {"auditor", "dpo"},
    ("/audit/verify", "POST"): {"auditor", "dpo"},
    ("/audit/export", "GET"): {"auditor", "dpo"},
    ("/audit/report", "GET"): {"auditor", "dpo"},
    ("/audit/entries/:seq", "GET"): {"auditor", "dpo"},
    ("/auditor", "GET"): {"auditor", "dpo"},
    ("/auditor/policies/:name", "GET"): {"auditor", "dpo"},
    ("/auditor/evidence-pack", "POST"): {"auditor", "dpo"},
    ("/api/v1/audit/entries", "GET"): {"audit_monitor", "auditor", "dpo"},
    ("/api/v1/audit/checkpoints", "GET"): {"audit_monitor", "auditor", "dpo"},
    ("/api/v1/audit/checkpoints", "POST"): {"auditor", "dpo"},
    ("/api/v1/audit/proof/inclusion", "GET"): {"audit_monitor", "auditor", "dpo"},
    ("/api/v1/audit/proof/consistency", "GET"): {"audit_monitor", "auditor", "dpo"},
    ("/api/v1/audit/verify", "POST"): {"auditor", "dpo"},
    ("/api/v1/audit/export", "GET"): {"audit_monitor", "auditor", "dpo"},
    ("/api/v1/reports/audit-trail", "GET"): {"auditor", "dpo"},
    # --- PII discovery (issue 6)
    ("/pii", "GET"): {"dpo"},
    ("/pii", "POST"): {"dpo"},
    ("/reports/pii-discovery", "GET"): {"auditor", "dpo"},
    ("/api/v1/pii/analyze", "POST"): {"crm_app", "dpo"},
    ("/api/v1/pii/redact", "POST"): {"crm_app", "dpo"},
    ("/api/v1/pii/status", "GET"): {"dpo"},
    ("/api/v1/pii/scans", "GET"): {"dpo"},
    ("/api/v1/pii/scans", "POST"): {"dpo"},
    ("/api/v1/pii/findings", "GET"): {"dpo"},
    ("/api/v1/pii/findings/:finding_id", "PATCH"): {"dpo"},
    ("/api/v1/reports/pii-discovery", "GET"): {"auditor", "dpo"},
    # --- console: administration
    ("/users", "GET"): {"admin"},
    ("/users", "POST"): {"admin"},
    ("/users/:user_id", "GET"): {"admin"},
    ("/users/:user_id", "POST"): {"admin"},
    ("/service-accounts", "GET"): {"admin"},
    ("/service-accounts", "POST"): {"admin"},
    ("/service-accounts/:account_id", "GET"): {"admin"},
    ("/service-accounts/:account_id", "POST"): {"admin"},
    ("/policy", "GET"): {"admin", "auditor", "dpo"},
    ("/policy", "POST"): {"admin"},
    ("/policy/export", "GET"): {"admin", "auditor", "dpo"},
    ("/keys", "GET"): {"admin"},
    ("/keys", "POST"): {"admin"},
    # --- API: customer data
    ("/api/v1/customers", "GET"): {"crm_app", "dpo", "support"},
    ("/api/v1/customers", "POST"): {"crm_app"},
    ("/api/v1/customers/:customer_id", "GET"): {"crm_app", "dpo", "support"},
    ("/api/v1/customers/:customer_id", "PATCH"): {"crm_app", "dpo", "support"},
    ("/api/v1/customers/:customer_id", "DELETE"): {"dpo"},
    ("/api/v1/customers/:customer_id/orders", "GET"): {"crm_app", "dpo"},
    ("/api/v1/customers/:customer_id/orders", "POST"): {"crm_app"},
    ("/api/v1/customers/:customer_id/interactions", "GET"): {"crm_app", "dpo", "support"},
    ("/api/v1/customers/:customer_id/interactions", "POST"): {"crm_app", "support"},
    # --- consent
    ("/api/v1/purposes", "GET"): {"auditor", "crm_app", "dpo"},
    ("/api/v1/notices", "GET"): {"auditor", "crm_app", "dpo"},
    ("/api/v1/notices", "POST"): {"dpo"},
    ("/api/v1/customers/:customer_id/consents", "GET"): {"crm_app", "dpo"},
    ("/api/v1/customers/:customer_id/consents", "POST"): {"crm_app", "dpo"},
    ("/api/v1/customers/:customer_id/objections", "POST"): {"dpo"},
    ("/api/v1/consents", "POST"): {"crm_app", "dpo"},
    ("/api/v1/consents/totals", "GET"): {"auditor", "dpo"},
    ("/api/v1/reports/consent", "GET"): {"auditor", "dpo"},
    ("/api/v1/consents/:event_id/receipt", "GET"): {"auditor", "crm_app", "dpo"},
    ("/api/v1/consents/:event_id/receipt/pdf", "GET"): {"auditor", "crm_app", "dpo"},
    ("/api/v1/imports", "POST"): {"crm_app", "dpo"},
    ("/api/v1/jobs", "GET"): {"admin", "dpo"},
    ("/api/v1/jobs/:job_id", "GET"): {"admin", "crm_app", "dpo"},
    ("/api/v1/keys", "GET"): {"admin"},
    ("/api/v1/keys/rotate", "POST"): {"admin"},
    # --- API: aggregates and reports
    ("/api/v1/quality", "GET"): {"analyst", "dpo"},
    ("/api/v1/reports/data-inventory", "GET"): {"analyst", "auditor", "dpo"},
    # --- API: administration
    ("/api/v1/users", "GET"): {"admin"},
    ("/api/v1/users", "POST"): {"admin"},
    ("/api/v1/users/:user_id", "GET"): {"admin"},
    ("/api/v1/users/:user_id", "PATCH"): {"admin"},
    ("/api/v1/service-accounts", "GET"): {"admin"},
    ("/api/v1/service-accounts", "POST"): {"admin"},
    ("/api/v1/service-accounts/:account_id/tokens", "POST"): {"admin"},
    ("/api/v1/tokens/:token_id", "DELETE"): {"admin"},
    ("/api/v1/policy", "GET"): {"admin", "auditor", "dpo"},
    ("/api/v1/policy/export", "GET"): {"admin", "auditor", "dpo"},
    # --- retention and data-subject requests
    ("/api/v1/retention/rules", "GET"): {"auditor", "dpo"},
    ("/api/v1/retention/plan", "GET"): {"auditor", "dpo"},
    ("/api/v1/retention/runs", "GET"): {"dpo"},
    ("/api/v1/retention/runs", "POST"): {"dpo"},
    ("/api/v1/holds", "GET"): {"auditor", "dpo"},
    ("/api/v1/holds", "POST"): {"dpo"},
    ("/api/v1/holds/:hold_id/release", "POST"): {"dpo"},
    ("/api/v1/requests", "GET"): {"dpo"},
    ("/api/v1/requests", "POST"): {"dpo"},
    ("/api/v1/requests/:request_id", "GET"): {"dpo"},
    ("/api/v1/requests/:request_id/transition", "POST"): {"dpo"},
    ("/api/v1/requests/:request_id/extend", "POST"): {"dpo"},
    ("/api/v1/requests/:request_id/export", "GET"): {"dpo"},
    ("/api/v1/requests/:request_id/certificate", "GET"): {"auditor", "dpo"},
    ("/requests", "GET"): {"dpo"},
    ("/requests", "POST"): {"dpo"},
    ("/requests/:request_id", "GET"): {"dpo"},
    ("/requests/:request_id", "POST"): {"dpo"},
    ("/requests/:request_id/export", "GET"): {"dpo"},
    ("/requests/:request_id/certificate", "GET"): {"dpo"},
    ("/reports/erasure-certificate/:request_id", "GET"): {"dpo"},
    ("/retention/plan", "GET"): {"dpo"},
    ("/retention/runs", "POST"): {"dpo"},
    ("/retention/holds", "POST"): {"dpo"},
    ("/retention/holds/:hold_id/release", "POST"): {"dpo"},
    ("/reports/retention", "GET"): {"auditor", "dpo"},
    # --- breach response (issue 17): the DPO runs incidents; auditors read them and the register
    ("/incidents", "POST"): {"dpo"},
    ("/incidents/:incident_id", "GET"): {"auditor", "dpo"},
    ("/incidents/:incident_id", "POST"): {"dpo"},
    ("/incidents/:incident_id/tasks", "POST"): {"dpo"},
    ("/incidents/:incident_id/analyses", "POST"): {"dpo"},
    ("/incidents/:incident_id/containment", "POST"): {"dpo"},
    ("/incidents/:incident_id/documents/:doc", "GET"): {"dpo"},
    ("/incidents/:incident_id/notices", "POST"): {"dpo"},
    ("/incidents/:incident_id/notices/zip", "GET"): {"dpo"},
    ("/reports/breach-register", "GET"): {"auditor", "dpo"},
    ("/api/v1/incidents", "GET"): {"auditor", "dpo"},
    ("/api/v1/incidents", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id", "GET"): {"auditor", "dpo"},
    ("/api/v1/incidents/:incident_id", "PATCH"): {"dpo"},
    ("/api/v1/incidents/:incident_id/transitions", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id/tasks", "GET"): {"auditor", "dpo"},
    ("/api/v1/incidents/:incident_id/tasks/:regime/:target", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id/analyses", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id/containment", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id/documents/authority-notice", "GET"): {"dpo"},
    ("/api/v1/incidents/:incident_id/documents/individual-notice", "GET"): {"dpo"},
    ("/api/v1/incidents/:incident_id/documents/incident-report", "GET"): {"dpo"},
    ("/api/v1/incidents/:incident_id/notices", "POST"): {"dpo"},
    ("/api/v1/incidents/:incident_id/notices/zip", "GET"): {"dpo"},
    ("/api/v1/reports/breach-register", "GET"): {"auditor", "dpo"},
}


def guarded_routes(app: Any) -> list[tuple[str, str, str]]:
    """(concrete path, route pattern, method) for every non-public route and method."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x", rule.rule)
        out += [(path, rule_pattern(rule.rule), m) for m in sorted(rule.methods or ())]
    return out


def expected_cells() -> dict[tuple[str, str], set[str]]:
    cells = dict(EXPECTED)
    for (route, method), roles in EXPECTED.items():
        cells[(route, "OPTIONS")] = NOBODY
        if method == "GET":
            cells[(route, "HEAD")] = roles
    return cells


def computed_cells(app: Any, authorizer: Authorizer) -> dict[tuple[str, str], set[str]]:
    return {
        (route, method): {role for role in ROLES if authorizer.allowed([role], route, method)}
        for _, route, method in guarded_routes(app)
    }


def differences(expected: dict[Any, set[str]], actual: dict[Any, set[str]]) -> list[str]:
    lines = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            lines.append(f"{key}: in the table but no such route/method in the URL map")
        elif key not in expected:
            lines.append(f"{key}: new route, add it to EXPECTED: {sorted(actual[key])}")
        elif expected[key] != actual[key]:
            lines.append(f"{key}: expected {sorted(expected[key])}, policy {sorted(actual[key])}")
    return lines


def test_matrix_matches_the_expected_table(app: Any) -> None:
    actual = computed_cells(app, Authorizer.from_files())
    assert len(actual) > 100  # the whole map, not a sample
    problems = differences(expected_cells(), actual)
    assert not problems, "authorisation matrix changed:\n" + "\n".join(problems)


def test_matrix_is_the_same_from_the_database(app: Any, call: Any) -> None:
    """`governance policy load` stores the same policy the file holds; the guard uses it."""
    from governance.services.identity import policy
    from governance.web.guard import authorizer

    policy.load(call)
    call.session.commit()
    app.extensions.pop("governance.authz", None)
    assert policy.effective_policy(call.session)[0] == "database"
    with app.test_request_context():
        live = authorizer()
    assert not differences(expected_cells(), computed_cells(app, live))


def test_every_role_is_in_the_matrix() -> None:
    granted = set().union(*EXPECTED.values())
    assert granted == set(ROLES), "a declared role with no route at all, or an unknown role"


@pytest.fixture
def unruled_app(database_url: str, tmp_path: Path) -> Any:
    """A real app with two extra routes that no policy line mentions."""
    from governance.extensions import csrf

    def unruled_api() -> str:
        return "UNRULED-VIEW-RAN"

    def unruled_page(thing: str) -> str:
        return "UNRULED-VIEW-RAN"

    app = make_app(database_url, tmp_path / "instance")
    # csrf.exempt like the API blueprint, so a token's POST reaches the guard as on the API
    app.add_url_rule("/api/v1/unruled", view_func=csrf.exempt(unruled_api), methods=["GET", "POST"])
    app.add_url_rule("/unruled/<thing>", view_func=unruled_page, methods=["GET"])
    yield app
    from governance.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_route_without_a_rule_is_refused_to_every_role(unruled_app: Any) -> None:
    authz = Authorizer.from_files()
    for role in ROLES:
        for route, method in (("/api/v1/unruled", "GET"), ("/unruled/:thing", "GET")):
            assert not authz.allowed([role], route, method)
            assert authz.explain([role], route, method).reason.endswith("(deny by default)")
    calls = 0
    for role in ROLES:
        client = unruled_app.test_client()
        headers: dict[str, str] = {}
        if default_visibility().roles[role].kind == "service":
            headers["Authorization"] = f"Bearer {make_token(unruled_app, role)}"
        else:
            login_as(unruled_app, client, role)
            headers["X-CSRFToken"] = csrf_from(client, "/account")
        for method, path in (
            ("GET", "/api/v1/unruled"),
            ("POST", "/api/v1/unruled"),
            ("GET", "/unruled/anything"),
        ):
            res = client.open(path, method=method, headers=headers)
            assert res.status_code == 403, (role, method, path)
            assert "UNRULED-VIEW-RAN" not in res.get_data(as_text=True)
            calls += 1
    denied = audit(unruled_app, "access.denied")
    assert len(denied) == calls
    assert {e["actor_role"] for e in denied} == set(ROLES)


@pytest.mark.parametrize("role", ["support", "crm_app"])
def test_every_route_a_role_has_no_rule_for_answers_403(app: Any, role: str) -> None:
    """Console forms check CSRF before anything else: a token (no session, so no CSRF token)
    posting to one is refused with 400 by that check (audited too) before the guard's 403."""
    client = app.test_client()
    if role == "crm_app":
        headers = {"Authorization": f"Bearer {make_token(app, role)}"}
    else:
        login_as(app, client, role)
        headers = {"X-CSRFToken": csrf_from(client, "/account")}
    refused = [
        (path, route, method)
        for path, route, method in guarded_routes(app)
        if role not in expected_cells()[(route, method)]
    ]
    assert len(refused) > 30
    csrf_first = {
        (path, route, method)
        for path, route, method in refused
        if role == "crm_app" and not path.startswith("/api/") and method not in SAFE
    }
    started = time.time()
    for path, route, method in refused:
        res = client.open(path, method=method, headers=headers)
        expected = 400 if (path, route, method) in csrf_first else 403
        assert res.status_code == expected, (method, path, res.status_code)
    denied = audit(app, "access.denied")
    assert sorted((e["details"]["route"], e["details"]["method"]) for e in denied) == sorted(
        (route, method)
        for path, route, method in refused
        if (path, route, method) not in csrf_first
    )
    # No session: unauthenticated refusals of one client in one minute are recorded once (the
    # repeats are counted into the minute's summary entry, tests/auditlog/test_alog_refusals.py).
    # (A slow run may cross into the next minute, which then has its own entry.)
    minutes = int(time.time() // 60 - started // 60) + 1
    recorded = len(audit(app, "csrf.refused"))
    assert min(len(csrf_first), 1) <= recorded <= min(len(csrf_first), minutes)
