"""API tokens at the HTTP edge: malformed headers, expiry, revocation, disabled accounts,
per-token and sign-in rate limits (429), each refusal audited."""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, make_app, make_token, make_user
from idn_helpers import audit, csrf_from, service

from governance.config import ConfigError, load_config
from governance.services.identity import service_accounts

VALID_SHAPE = "gov_abcdefghijkl_" + "A" * 43

MALFORMED = [
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNzd29yZA==",
    "Token " + VALID_SHAPE,
    "Bearer  " + VALID_SHAPE,
    "Bearer " + VALID_SHAPE + " extra",
    "Bearer " + VALID_SHAPE[:-1],
    "Bearer gov_ABCDEFGHIJKL_" + "A" * 43,
    "Bearer gov_abcdefghijkl_" + "!" * 43,
    "Bearer " + "x" * 400,
    "Bearer g\u00f6v_abcdefghijkl_" + "A" * 42,
    "Bearer\t" + VALID_SHAPE,
    "Bearer ' OR 1=1 --",
]


@pytest.mark.parametrize("header", MALFORMED)
def test_malformed_authorization_headers_get_a_plain_401(
    app: Any, client: Any, header: str
) -> None:
    res = client.get("/api/v1/customers", headers={"Authorization": header})
    assert res.status_code == 401
    assert res.mimetype == "application/problem+json"
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    body = res.get_data(as_text=True)
    for part in {header, *header.split()} - {"", "Bearer"}:
        assert part not in body, "the answer must not echo the header"
    entry = audit(app, "auth.token")[0]
    assert entry["outcome"] == "denied" and entry["details"]["reason"].startswith("malformed")


def test_unknown_well_formed_token_is_refused(app: Any, client: Any) -> None:
    res = client.get("/api/v1/customers", headers={"Authorization": "Bearer " + VALID_SHAPE})
    assert res.status_code == 401
    assert audit(app, "auth.token")[0]["details"]["reason"] == "unknown"


def test_missing_credentials_on_the_api(app: Any, client: Any) -> None:
    res = client.get("/api/v1/customers")
    assert res.status_code == 401 and res.headers["WWW-Authenticate"].startswith("Bearer")
    assert audit(app, "auth.required")[0]["details"]["reason"] == "no credentials"


def test_expired_token_is_refused(app: Any, client: Any) -> None:
    with service(app) as call:
        account = service_accounts.service_account(call, "crm", ["crm_app"])
        past = call.now() - timedelta(days=2)
        token = service_accounts.create_token(
            dataclasses.replace(call, clock=lambda: past), account, 1
        )
    res = client.get(
        "/api/v1/customers", headers={"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    )
    assert res.status_code == 401
    assert res.json["detail"] == "the token is invalid, expired or revoked"
    assert audit(app, "auth.token")[0]["details"]["reason"] == "expired"


def test_revoked_and_rotated_tokens_stop_working(app: Any, client: Any) -> None:
    token = make_token(app, "crm_app", "crm")
    headers = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    with service(app) as call:
        fresh = service_accounts.rotate_token(call, token.split("_")[1])
    assert client.get("/api/v1/customers", headers=headers).status_code == 401
    new_headers = {"X-Purpose": "support", "Authorization": f"Bearer {fresh}"}
    assert client.get("/api/v1/customers", headers=new_headers).status_code == 200
    with service(app) as call:
        service_accounts.revoke_token(call, fresh.split("_")[1])
    other = {"REMOTE_ADDR": "10.0.0.2"}  # another client: not aggregated with the first refusal
    res = client.get("/api/v1/customers", headers=new_headers, environ_base=other)
    assert res.status_code == 401
    assert [e["details"]["reason"] for e in audit(app, "auth.token")] == ["revoked", "revoked"]


def test_token_of_a_disabled_account_is_refused(app: Any, client: Any) -> None:
    token = make_token(app, "crm_app", "crm")
    headers = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    with service(app) as call:
        account_id = service_accounts.service_account(call, "crm").id
        service_accounts.set_service_account_state(call, account_id, "disabled")
    assert client.get("/api/v1/customers", headers=headers).status_code == 401
    assert audit(app, "auth.token")[0]["details"]["reason"] == "account disabled"
    with service(app) as call:
        service_accounts.set_service_account_state(call, account_id, "active")
    assert client.get("/api/v1/customers", headers=headers).status_code == 200


def test_session_api_write_needs_the_csrf_header(app: Any, client: Any) -> None:
    from conftest import login_as

    login_as(app, client, "admin")
    body = {"email": "new@example.com", "roles": ["auditor"], "password": PASSWORD}
    res = client.post("/api/v1/users", json=body)
    assert res.status_code == 401 and res.mimetype == "application/problem+json"
    assert audit(app, "auth.session")[0]["details"]["reason"].startswith("API write")
    forged = client.post("/api/v1/users", json=body, headers={"X-CSRFToken": "x.y"})
    assert forged.status_code == 401
    token = csrf_from(client, "/account")
    ok = client.post("/api/v1/users", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


@pytest.fixture
def limited(database_url: str, tmp_path: Path) -> Any:
    """An app whose API allows 3 calls a minute per token (or address)."""
    app = make_app(database_url, tmp_path / "instance", RATE_LIMIT="3 per minute")
    yield app
    from governance.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_api_rate_limit_counts_per_token(limited: Any) -> None:
    client = limited.test_client()
    first = {
        "X-Purpose": "support",
        "Authorization": f"Bearer {make_token(limited, 'crm_app', 'crm-a')}",
    }
    second = {
        "X-Purpose": "support",
        "Authorization": f"Bearer {make_token(limited, 'crm_app', 'crm-b')}",
    }
    for _ in range(3):
        assert client.get("/api/v1/customers", headers=first).status_code == 200
    for _ in range(2):
        over = client.get("/api/v1/customers", headers=first)
        assert over.status_code == 429
    assert over.mimetype == "application/problem+json"
    assert over.json["type"].endswith("/too-many-requests")
    assert 0 < int(over.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/customers", headers=second).status_code == 200
    breaches = audit(limited, "rate_limit.exceeded")
    assert len(breaches) == 1  # audited once per key and minute, not per refused call
    assert breaches[0]["outcome"] == "denied" and breaches[0]["details"]["scope"] == "api"
    assert breaches[0]["actor_type"] == "service"


def test_bad_tokens_are_limited_per_address_before_they_are_audited(limited: Any) -> None:
    client = limited.test_client()
    for n in range(6):
        res = client.get(
            "/api/v1/customers", headers={"X-Purpose": "support", "Authorization": f"Bearer x{n}"}
        )
        assert res.status_code == (401 if n < 3 else 429)
    assert len(audit(limited, "auth.token")) == 1  # the other 401s go to the minute's summary
    assert len(audit(limited, "rate_limit.exceeded")) == 1


def test_sign_in_is_limited_per_address(app: Any) -> None:
    make_user(app, "dpo", "dpo@example.com")
    client = app.test_client()
    token = csrf_from(client, "/login")
    form = {"email": "dpo@example.com", "password": "Wrong-Password-1", "csrf_token": token}
    statuses = []
    for _ in range(11):
        statuses.append(client.post("/login", data=form).status_code)
        with app.app_context():  # keep the account lock out of the way: this is about addresses
            from governance.extensions import db
            from governance.models import User

            db.session.query(User).update({"failed_attempts": 0, "locked_until": None})
            db.session.commit()
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    page = client.post("/login", data={**form, "password": PASSWORD})
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert "too many sign-in attempts" in page.get_data(as_text=True)
    other = app.test_client()  # another address is not affected
    res = other.post(
        "/login",
        data={**form, "csrf_token": csrf_from(other, "/login")},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert res.status_code == 401
    assert client.get("/login").status_code == 200  # only POSTs count
    assert audit(app, "rate_limit.exceeded")[0]["details"]["scope"] == "login"


@pytest.mark.parametrize("uri", ["nosuchstore://x", "memory", "async+memory://"])
def test_unusable_rate_limit_storage_is_refused_at_start(uri: str) -> None:
    with pytest.raises(ConfigError, match="GOVERNANCE_RATELIMIT_STORAGE is malformed"):
        load_config({"GOVERNANCE_RATELIMIT_STORAGE": uri})
    assert load_config({})["RATELIMIT_STORAGE"] == "memory://"


def test_shared_store_without_its_driver_is_refused_at_start() -> None:
    if importlib.util.find_spec("redis") is not None:
        pytest.skip("the redis package is installed here")
    with pytest.raises(ConfigError, match="'redis' prerequisite not available"):
        load_config({"GOVERNANCE_RATELIMIT_STORAGE": "redis://localhost:6379/0"})


def _expiry(app: Any, token: str) -> Any:
    from governance.extensions import db
    from governance.models import ApiToken

    with app.app_context():
        expires = db.session.get(ApiToken, token.split("_")[1]).expires_at
        db.session.rollback()
    return expires


def test_rotating_a_token_keeps_its_lifetime(app: Any, client: Any) -> None:
    """Issue item 8: the replacement of a 30-day token is a 30-day token, not "never"."""
    token = make_token(app, "crm_app", "crm", expires_days=30)
    with service(app) as call:
        fresh = service_accounts.rotate_token(call, token.split("_")[1])
        now = call.now()
    expires = _expiry(app, fresh)
    assert expires is not None
    assert abs((expires - now) - timedelta(days=30)) < timedelta(minutes=1)
    with service(app) as call:  # an explicit lifetime still wins; "never" stays never
        chosen = service_accounts.rotate_token(call, fresh.split("_")[1], 7)
    assert abs((_expiry(app, chosen) - now) - timedelta(days=7)) < timedelta(minutes=1)
    forever = make_token(app, "crm_app", "crm-2")
    with service(app) as call:
        replacement = service_accounts.rotate_token(call, forever.split("_")[1])
    assert _expiry(app, replacement) is None
    assert [e["details"]["expires_at"] is None for e in audit(app, "token.create")] == [
        False, False, False, True, True
    ]  # fmt: skip


def test_cli_rotate_keeps_the_lifetime_and_prints_the_replacement(app: Any, runner: Any) -> None:
    from governance.cli import cli

    token = make_token(app, "crm_app", "crm", expires_days=90)
    res = runner.invoke(cli, ["tokens", "rotate", token], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    fresh = res.stdout.splitlines()[-1]
    assert fresh.startswith("gov_") and fresh != token
    lifetime = _expiry(app, fresh) - _expiry(app, token)
    assert timedelta(0) <= lifetime < timedelta(minutes=1)  # same 90 days, from a moment later
    again = runner.invoke(cli, ["tokens", "rotate", token])
    assert again.exit_code != 0  # a revoked token is not rotated again
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {fresh}"}
    assert app.test_client().get("/api/v1/customers", headers=bearer).status_code == 200
