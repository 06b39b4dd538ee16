"""Console administration pages: users and roles, service accounts and tokens, the policy."""

from __future__ import annotations

import re
from typing import Any

from conftest import PASSWORD, login_as, make_user
from idn_helpers import audit, csrf_from, service, user_row

from governance.security.authz import DEFAULT_POLICY_PATH, load_policy_csv

TOKEN = re.compile(r"gov_[a-z2-7]{12}_[A-Za-z0-9_\-]{43}")


def post(client: Any, path: str, **form: Any) -> Any:
    return client.post(path, data={**form, "csrf_token": csrf_from(client, path)})


def test_admin_creates_a_user_with_a_role(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    res = post(client, "/users", email="New.Person@Example.com", role="dpo", password=PASSWORD)
    assert res.status_code == 302
    stored = user_row(app, "new.person@example.com")
    assert res.location == f"/users/{stored['id']}"
    assert stored["roles"] == ["dpo"] and not stored["totp_enrolled"]
    listing = client.get("/users").get_data(as_text=True)
    assert "new.person@example.com" in listing and "not yet" in listing
    created = [e for e in audit(app, "user.create") if e["actor_type"] == "user"]
    assert created[0]["details"]["roles"] == ["dpo"]


def test_bad_new_user_input_is_shown_not_stored(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    weak = post(client, "/users", email="x@example.com", role="dpo", password="password1234")
    assert weak.status_code == 422 and "password" in weak.get_data(as_text=True).lower()
    service_role = post(client, "/users", email="x@example.com", role="crm_app", password=PASSWORD)
    assert service_role.status_code == 422
    assert "x@example.com" not in client.get("/users").get_data(as_text=True)


def test_admin_changes_roles_state_and_resets_mfa(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    user_id, _ = make_user(app, "support", "sup@example.com")
    page = f"/users/{user_id}"
    assert post(client, page, action="roles", roles=["support", "analyst"]).status_code == 302
    assert user_row(app, "sup@example.com")["roles"] == ["analyst", "support"]
    assert post(client, page, action="disable").status_code == 302
    assert user_row(app, "sup@example.com")["state"] == "disabled"
    assert post(client, page, action="enable").status_code == 302
    assert post(client, page, action="reset_mfa").status_code == 302
    row = user_row(app, "sup@example.com")
    assert row["state"] == "active" and not row["totp_enrolled"] and row["totp_secret_ct"] is None
    actions = [(e["action"], e["actor_type"]) for e in audit(app) if e["actor_type"] == "user"]
    assert actions == [
        ("user.roles", "user"),
        ("user.state", "user"),
        ("user.state", "user"),
        ("mfa.reset", "user"),
    ]


def test_nobody_changes_their_own_roles(app: Any, client: Any) -> None:
    admin_id = login_as(app, client, "admin")
    make_user(app, "admin", "second-admin@example.com")
    page = client.get(f"/users/{admin_id}").get_data(as_text=True)
    assert "You cannot change your own roles" in page
    res = post(client, f"/users/{admin_id}", action="roles", roles=["admin", "dpo"])
    assert res.status_code == 403
    assert "cannot change your own roles" in res.get_data(as_text=True)
    assert user_row(app, "admin@example.com")["roles"] == ["admin"]
    refusal = audit(app, "user.roles")[0]
    assert refusal["outcome"] == "denied" and refusal["details"]["reason"] == "own roles"


def test_the_last_admin_cannot_be_disabled(app: Any, client: Any) -> None:
    admin_id = login_as(app, client, "admin")
    res = post(client, f"/users/{admin_id}", action="disable")
    assert res.status_code == 409
    assert user_row(app, "admin@example.com")["state"] == "active"


def test_support_calling_admin_pages_is_refused_and_audited(app: Any, client: Any) -> None:
    login_as(app, client, "support")
    target, _ = make_user(app, "dpo", "dpo@example.com")
    assert client.get("/users").status_code == 403
    res = client.post(
        f"/users/{target}",
        data={"action": "roles", "roles": ["admin"], "csrf_token": csrf_from(client, "/account")},
    )
    assert res.status_code == 403 and "your role does not allow" in res.get_data(as_text=True)
    assert user_row(app, "dpo@example.com")["roles"] == ["dpo"]
    denied = audit(app, "access.denied")
    assert [(e["details"]["route"], e["details"]["method"]) for e in denied] == [
        ("/users", "GET"),
        ("/users/:user_id", "POST"),
    ]
    assert all(e["actor_role"] == "support" and e["outcome"] == "denied" for e in denied)


def _operator_token(app: Any, account: str = "crm-production", **kwargs: Any) -> tuple[str, str]:
    """An application's account and token made the operator's way (the CLI, on the server)."""
    from governance.services.identity import service_accounts

    with service(app) as call:
        sa = service_accounts.service_account(call, account, ["crm_app"])
        token = service_accounts.create_token(call, sa, **kwargs)
        return sa.id, token


def test_tokens_are_listed_never_shown_and_revoked_from_the_console(app: Any, client: Any) -> None:
    account_id, token = _operator_token(app, expires_days=30)
    login_as(app, client, "admin")
    page = f"/service-accounts/{account_id}"
    api = app.test_client()
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/customers", headers=bearer).status_code == 200
    listing = client.get(page).get_data(as_text=True)
    token_id = token.split("_")[1]
    assert token_id in listing and token not in listing  # the secret is never shown again
    assert TOKEN.search(client.get("/service-accounts").get_data(as_text=True)) is None
    assert post(client, page, action="revoke", token_id=token_id).status_code == 302
    assert api.get("/api/v1/customers", headers=bearer).status_code == 401
    assert post(client, page, action="rotate", token_id=token_id).status_code == 409
    mine = [e["action"] for e in audit(app) if e["actor_type"] == "user"]
    assert mine == ["token.revoke"]


def test_admin_cannot_give_itself_customer_data_through_an_application(
    app: Any, client: Any
) -> None:
    """Issue item 17: no crm_app account, token or rotation from the admin's console."""
    account_id, token = _operator_token(app)
    login_as(app, client, "admin")
    page = f"/service-accounts/{account_id}"
    created = post(client, "/service-accounts", name="mine", role="crm_app")
    issued = post(client, page, action="issue", expires_days="30")
    rotated = post(client, page, action="rotate", token_id=token.split("_")[1])
    for res in (created, issued, rotated):
        assert res.status_code == 403
        assert TOKEN.search(res.get_data(as_text=True)) is None
        assert "operator" in res.get_data(as_text=True)
    api = app.test_client()  # the operator's token was not revoked by the refused rotation
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/customers", headers=bearer).status_code == 200
    refused = audit(app, "access.grant_refused")
    assert [(e["details"]["attempted"], e["outcome"]) for e in refused] == [
        ("service_account.create", "denied"),
        ("token.create", "denied"),
        ("token.rotate", "denied"),
    ]
    assert [e["action"] for e in audit(app) if e["actor_type"] == "user"] == [
        "access.grant_refused"
    ] * 3
    assert "mine" not in client.get("/service-accounts").get_data(as_text=True)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-figure="refused grants of customer data"' in dashboard
    assert re.search(r'data-figure="refused grants of customer data">3<', dashboard)


def test_disabling_a_service_account_stops_its_tokens(app: Any, client: Any) -> None:
    account_id, token = _operator_token(app, "crm")
    login_as(app, client, "admin")
    page = f"/service-accounts/{account_id}"
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert post(client, page, action="disable").status_code == 302
    assert app.test_client().get("/api/v1/customers", headers=bearer).status_code == 401
    assert post(client, page, action="enable").status_code == 302
    assert app.test_client().get("/api/v1/customers", headers=bearer).status_code == 200


def test_policy_page_export_and_reload(app: Any, client: Any) -> None:
    from governance.extensions import db
    from governance.models import CasbinRule

    login_as(app, client, "admin")
    page = client.get("/policy").get_data(as_text=True)
    assert "policies/policy.csv</code> (nothing loaded" in page and "Reload from" in page
    export = client.get("/policy/export")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    file_lines = load_policy_csv(DEFAULT_POLICY_PATH)
    assert set(map(tuple, _csv_lines(export.get_data(as_text=True)))) == set(file_lines)
    assert post(client, "/policy").status_code == 302
    with app.app_context():
        assert db.session.query(CasbinRule).count() == len(file_lines)
    assert "Enforced from the database" in client.get("/policy").get_data(as_text=True)
    loaded = audit(app, "policy.load")[0]
    assert loaded["actor_type"] == "user" and loaded["details"]["rules"] == len(file_lines)
    assert [e["outcome"] for e in audit(app, "policy.export")] == ["allowed"]


def test_policy_check_form_explains_a_decision(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    res = client.get("/policy?role=support&method=DELETE&path=/api/v1/customers/42")
    text = res.get_data(as_text=True)
    assert res.status_code == 200 and "deny by default" in text
    assert "Reload from" not in text  # auditors read the policy; they do not change it
    token = csrf_from(client, "/account")
    assert client.post("/policy", data={"csrf_token": token}).status_code == 403


def _csv_lines(text: str) -> list[tuple[str, ...]]:
    return [
        tuple(part.strip() for part in line.split(","))
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]
