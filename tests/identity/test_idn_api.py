"""The identity administration API: users, service accounts, tokens, policy."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import PASSWORD, login_as, make_token, make_user
from idn_helpers import audit, csrf_from, service

from governance.security.authz import DEFAULT_POLICY_PATH, load_policy_csv


@pytest.fixture
def admin(app: Any, client: Any) -> dict[str, str]:
    """``client`` signed in as an admin; returns the CSRF header its API writes need."""
    login_as(app, client, "admin")
    return {"X-CSRFToken": csrf_from(client, "/account")}


def test_users_list_create_read_patch(app: Any, client: Any, admin: dict[str, str]) -> None:
    body = {"email": "Ana@Example.com", "roles": ["support"], "password": PASSWORD}
    res = client.post("/api/v1/users", json=body, headers=admin)
    assert res.status_code == 201, res.json
    user = res.json
    assert res.headers["Location"] == f"/api/v1/users/{user['id']}"
    assert user["email"] == "ana@example.com" and user["roles"] == ["support"]
    assert not user["mfa_enrolled"] and "password" not in str(user).lower()
    assert client.get(f"/api/v1/users/{user['id']}").json == user
    emails = [u["email"] for u in client.get("/api/v1/users").json["items"]]
    assert emails == ["admin@example.com", "ana@example.com"]
    patched = client.patch(
        f"/api/v1/users/{user['id']}", json={"roles": ["support", "analyst"]}, headers=admin
    )
    assert patched.json["roles"] == ["analyst", "support"]
    disabled = client.patch(
        f"/api/v1/users/{user['id']}", json={"state": "disabled"}, headers=admin
    )
    assert disabled.json["state"] == "disabled"
    assert [e["actor_type"] for e in audit(app, "user.roles")] == ["user"]


def test_user_input_errors(client: Any, admin: dict[str, str]) -> None:
    bad = client.post(
        "/api/v1/users", json={"email": "a@example.com", "roles": "dpo", "x": 1}, headers=admin
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} == {"x", "password"}
    weak = client.post(
        "/api/v1/users",
        json={"email": "a@example.com", "roles": ["dpo"], "password": "short"},
        headers=admin,
    )
    assert weak.status_code == 422 and "short" not in weak.get_data(as_text=True)
    assert client.get("/api/v1/users/nope").status_code == 404
    dup = {"email": "admin@example.com", "roles": ["dpo"], "password": PASSWORD}
    assert client.post("/api/v1/users", json=dup, headers=admin).status_code == 409
    empty = client.patch("/api/v1/users/nope", json={}, headers=admin)
    assert empty.status_code == 422


def test_own_roles_cannot_be_changed_through_the_api(app: Any, client: Any) -> None:
    admin_id = login_as(app, client, "admin")
    headers = {"X-CSRFToken": csrf_from(client, "/account")}
    res = client.patch(f"/api/v1/users/{admin_id}", json={"roles": ["dpo"]}, headers=headers)
    assert res.status_code == 403 and res.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/users/{admin_id}").json["roles"] == ["admin"]
    assert audit(app, "user.roles")[0]["outcome"] == "denied"


def test_granting_access_needs_a_recent_password(
    app: Any, client: Any, admin: dict[str, str]
) -> None:
    user_id, _ = make_user(app, "support", "sup@example.com")
    with client.session_transaction() as sess:
        sess["auth_at"] = int(time.time()) - 3600
    res = client.patch(f"/api/v1/users/{user_id}", json={"roles": ["dpo"]}, headers=admin)
    assert res.status_code == 401 and res.json["type"].endswith("/reauth-required")
    # taking access away does not wait for a password
    res = client.patch(f"/api/v1/users/{user_id}", json={"state": "disabled"}, headers=admin)
    assert res.status_code == 200


def test_service_accounts_and_tokens(app: Any, client: Any, admin: dict[str, str]) -> None:
    from governance.services.identity import service_accounts

    with service(app) as call:  # the operator's way: `governance tokens create` on the server
        account = service_accounts.service_account(call, "crm", ["crm_app"])
        account_id = account.id
        token = service_accounts.create_token(call, account, 7)
    token_id = token.split("_")[1]
    again = client.post(
        "/api/v1/service-accounts", json={"name": "crm", "roles": ["crm_app"]}, headers=admin
    )
    assert again.status_code == 409
    person_role = client.post(
        "/api/v1/service-accounts", json={"name": "x", "roles": ["dpo"]}, headers=admin
    )
    assert person_role.status_code == 422
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get("/api/v1/customers", headers=bearer).status_code == 200
    listed = client.get("/api/v1/service-accounts").json["items"][0]
    assert [t["id"] for t in listed["tokens"]] == [token_id]
    assert token not in str(listed) and listed["tokens"][0]["expires_at"].endswith("Z")
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert api.get("/api/v1/customers", headers=bearer).status_code == 401
    assert client.delete("/api/v1/tokens/nosuchtoken1", headers=admin).status_code == 404
    bad = client.post(
        f"/api/v1/service-accounts/{account_id}/tokens", json={"expires_days": 0}, headers=admin
    )
    assert bad.status_code == 422


def test_admin_cannot_grant_customer_data_to_an_application(
    app: Any, client: Any, admin: dict[str, str]
) -> None:
    """Issue item 17 on the API: a crm_app account or token is refused (403, audited)."""
    from governance.services.identity import service_accounts

    with service(app) as call:
        account_id = service_accounts.service_account(call, "crm", ["crm_app"]).id
    created = client.post(
        "/api/v1/service-accounts", json={"name": "mine", "roles": ["crm_app"]}, headers=admin
    )
    issued = client.post(
        f"/api/v1/service-accounts/{account_id}/tokens", json={"expires_days": 7}, headers=admin
    )
    for res in (created, issued):
        assert res.status_code == 403 and res.mimetype == "application/problem+json"
        assert set(res.json) >= {"type", "title", "status", "detail"}
        assert "token" not in res.json
    items = client.get("/api/v1/service-accounts").json["items"]
    assert [(a["name"], a["tokens"]) for a in items] == [("crm", [])]
    refused = audit(app, "access.grant_refused")
    attempted = [e["details"]["attempted"] for e in refused]
    assert attempted == ["service_account.create", "token.create"]
    assert all(e["actor_type"] == "user" and e["outcome"] == "denied" for e in refused)


def test_policy_lines_and_export(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    res = client.get("/api/v1/policy")
    assert res.json["source"] == "file"
    assert [tuple(x) for x in res.json["lines"]] == load_policy_csv(DEFAULT_POLICY_PATH)
    export = client.get("/api/v1/policy/export")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "p, crm_app, /api/v1/customers, GET|POST" in export.get_data(as_text=True)
    assert client.get("/api/v1/users").status_code == 403


def test_service_role_cannot_administer(app: Any, client: Any, crm: dict[str, str]) -> None:
    res = client.post(
        "/api/v1/users",
        json={"email": "evil@example.com", "roles": ["admin"], "password": PASSWORD},
        headers=crm,
    )
    assert res.status_code == 403
    assert client.get("/api/v1/policy", headers=crm).status_code == 403
    denied = audit(app, "access.denied")
    assert [(e["actor_type"], e["details"]["route"]) for e in denied] == [
        ("service", "/api/v1/users"),
        ("service", "/api/v1/policy"),
    ]


def test_support_calling_the_admin_api_is_refused(app: Any, client: Any) -> None:
    make_token(app, "crm_app")  # some token exists; support still gets nothing
    login_as(app, client, "support")
    headers = {"X-CSRFToken": csrf_from(client, "/account")}
    res = client.post(
        "/api/v1/users",
        json={"email": "me2@example.com", "roles": ["admin"], "password": PASSWORD},
        headers=headers,
    )
    assert res.status_code == 403
    assert audit(app, "access.denied")[0]["details"] == {
        "route": "/api/v1/users",
        "method": "POST",
    }
