"""Console sessions: fixation, idle timeout, password change, CSRF, re-authentication."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from conftest import PASSWORD, login_as, make_user
from idn_helpers import (
    audit,
    csrf_from,
    service,
    sign_in,
    sign_in_password,
    sign_out,
    submit_code,
    totp_now,
    user_row,
)

from governance.services.identity import people as identity


def test_session_cookie_rotates_and_a_planted_cookie_grants_nothing(app: Any) -> None:
    victim = app.test_client()
    _, secret = make_user(app, "dpo", "dpo@example.com")
    victim.get("/login")
    planted = victim.get_cookie("session").value  # what an attacker could have fixed
    after_password = sign_in_password(victim, "dpo@example.com")
    assert after_password.location.endswith("/login/mfa")
    middle = victim.get_cookie("session").value
    assert submit_code(victim, totp_now(secret)).location == "/"
    final = victim.get_cookie("session").value
    assert len({planted, middle, final}) == 3
    assert victim.get("/").status_code == 200
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer.loads(planted).get("sid") != serializer.loads(final)["sid"]
    for stale in (planted, middle):
        attacker = app.test_client()
        attacker.set_cookie("session", stale)
        res = attacker.get("/")
        assert res.status_code == 302 and "/login" in res.location


def test_idle_session_expires(app: Any, client: Any) -> None:
    login_as(app, client, "support")
    assert client.get("/customers").status_code == 200
    idle = app.config["SESSION_MINUTES"] * 60 + 5
    with client.session_transaction() as sess:
        sess["seen"] = int(time.time()) - idle
    res = client.get("/customers")
    assert res.status_code == 302 and res.location.startswith("/login")
    assert client.get("/customers").status_code == 302  # the session is gone for good
    refusal = audit(app, "auth.required")[0]
    assert refusal["outcome"] == "denied" and refusal["details"]["reason"] == "idle timeout"


def test_password_change_ends_other_sessions(app: Any) -> None:
    _, secret = make_user(app, "auditor", "aud@example.com")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "aud@example.com", secret)
    with phone.session_transaction() as sess:  # a second, independent signed-in session
        with laptop.session_transaction() as other:
            sess.update(dict(other))
    assert phone.get("/account").status_code == 200
    token = csrf_from(laptop, "/account")
    res = laptop.post(
        "/account",
        data={"current": PASSWORD, "new": "Another-Long-Phrase-7781", "csrf_token": token},
    )
    assert res.status_code == 302
    assert laptop.get("/account").status_code == 200  # the session that changed it lives on
    assert phone.get("/account").status_code == 302
    assert audit(app, "auth.required")[-1]["details"]["reason"].startswith("session revoked")
    assert [e["outcome"] for e in audit(app, "password.change")] == ["allowed"]


def test_missing_or_forged_csrf_token_is_refused_with_a_readable_page(app: Any) -> None:
    make_user(app, "dpo", "dpo@example.com")
    client = app.test_client()
    client.get("/login")
    missing = client.post("/login", data={"email": "dpo@example.com", "password": PASSWORD})
    forged = client.post(
        "/login",
        data={"email": "dpo@example.com", "password": PASSWORD, "csrf_token": "IjEyMyI.forged"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # another client: recorded on its own
    )
    for res in (missing, forged):
        assert res.status_code == 400
        assert res.mimetype == "text/html"
        assert "Form expired or forged" in res.get_data(as_text=True)
    assert audit(app, "login.password") == []  # the form never reached the password check
    refusals = audit(app, "csrf.refused")
    assert [(e["outcome"], e["details"]["reason"]) for e in refusals] == [
        ("denied", "missing"),
        ("denied", "invalid"),
    ]


def test_console_form_of_a_signed_in_admin_needs_csrf(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    res = client.post(
        "/users", data={"email": "x@example.com", "role": "dpo", "password": PASSWORD}
    )
    assert res.status_code == 400 and "Form expired or forged" in res.get_data(as_text=True)
    assert [e["actor_type"] for e in audit(app, "user.create")] == ["system"]  # login_as's own
    assert audit(app, "csrf.refused")[0]["details"] == {"reason": "missing", "path": "/users"}


def test_sensitive_action_asks_for_the_password_again(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    target_id, _ = make_user(app, "support", "sup@example.com")
    with client.session_transaction() as sess:
        sess["auth_at"] = int(time.time()) - app.config["REAUTH_MINUTES"] * 60 - 5
    token = csrf_from(client, f"/users/{target_id}")
    form = {"action": "roles", "roles": ["support", "analyst"], "csrf_token": token}
    res = client.post(f"/users/{target_id}", data=form)
    assert res.status_code == 302
    assert res.location == f"/reauth?next=/users/{target_id}"
    assert audit(app, "user.roles") == []
    wrong = client.post(
        res.location,
        data={"password": "Wrong-Password-123", "csrf_token": csrf_from(client, "/reauth")},
    )
    assert wrong.status_code == 401
    ok = client.post(
        res.location, data={"password": PASSWORD, "csrf_token": csrf_from(client, "/reauth")}
    )
    # The interrupted action resumes: the page posts the same form again (console.js submits
    # it), with a fresh CSRF token, to the same path.
    page = ok.get_data(as_text=True)
    assert ok.status_code == 200 and 'id="resume-form"' in page
    assert f'action="/users/{target_id}"' in page
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    assert ("action", "roles") in fields and ("roles", "analyst") in fields
    resumed = client.post(f"/users/{target_id}", data=_multi(fields))
    assert resumed.status_code == 302
    assert audit(app, "user.roles")[0]["details"]["roles"] == ["analyst", "support"]
    # The sealed form was used once: confirming again only says so.
    again = client.post(
        "/reauth?next=/users/x",
        data={"password": PASSWORD, "csrf_token": csrf_from(client, "/reauth")},
    )
    assert again.status_code == 302


def _multi(fields: list[tuple[str, str]]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict(fields)


def test_resumed_form_is_sealed_in_the_cookie(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    token = csrf_from(client, "/users")
    form = {
        "email": "new@example.com",
        "role": "dpo",
        "password": "Initial-Pass-1234!x",
        "csrf_token": token,
    }
    assert client.post("/users", data=form).status_code == 302
    with client.session_transaction() as sess:
        sealed = sess["resume"]
    assert "Initial-Pass" not in sealed and "new@example.com" not in sealed


def test_unauthenticated_console_request_goes_to_sign_in(app: Any, client: Any) -> None:
    res = client.get("/users")
    assert res.status_code == 302 and res.location == "/login?next=/users"
    assert audit(app, "auth.required")[0]["details"] == {
        "reason": "no credentials",
        "path": "/users",
    }


# Issue item 18: server-side sessions that end, and no password-hash material in the cookie.
def _copy_session(source: Any, target: Any) -> None:
    """Give ``target`` a byte-for-byte copy of ``source``'s session cookie (a stolen cookie)."""
    target.set_cookie("session", source.get_cookie("session").value)


def test_after_sign_out_a_copy_of_the_cookie_is_worthless(app: Any) -> None:
    _, secret = make_user(app, "dpo", "dpo@example.com")
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, "dpo@example.com", secret)
    _copy_session(browser, thief)
    assert thief.get("/customers").status_code == 200  # the copy works while signed in
    assert sign_out(browser).status_code == 302
    res = thief.get("/customers")
    assert res.status_code == 302 and res.location.startswith("/login")
    assert thief.get("/customers").status_code == 302  # not renewed either
    refusal = audit(app, "auth.required")[0]["details"]["reason"]
    assert refusal.startswith("session revoked")


@pytest.mark.parametrize(
    "change",
    [
        lambda call: identity.reset_mfa(call, "sup@example.com"),
        lambda call: identity.set_roles(call, "sup@example.com", ["support", "analyst"]),
        lambda call: identity.set_state(call, "sup@example.com", "disabled"),
    ],
    ids=["reset-mfa", "role-change", "disable"],
)
def test_admin_changes_end_every_session_of_the_user(app: Any, change: Any) -> None:
    _, secret = make_user(app, "support", "sup@example.com")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "sup@example.com", secret)
    _copy_session(laptop, phone)
    assert laptop.get("/customers").status_code == 200
    with service(app) as call:
        change(call)
    for client in (laptop, phone):
        res = client.get("/customers")
        assert res.status_code == 302 and res.location.startswith("/login")


def test_reset_mfa_from_the_admin_console_ends_the_users_session(app: Any) -> None:
    target_id, secret = make_user(app, "support", "sup@example.com")
    user = app.test_client()
    sign_in(user, "sup@example.com", secret)
    admin = app.test_client()
    login_as(app, admin, "admin")
    token = csrf_from(admin, f"/users/{target_id}")
    res = admin.post(f"/users/{target_id}", data={"action": "reset_mfa", "csrf_token": token})
    assert res.status_code == 302
    assert user.get("/customers").status_code == 302
    assert admin.get("/users").status_code == 200  # the admin's own session is untouched
    assert audit(app, "mfa.reset")[0]["details"]["sessions_ended"] == 1


def test_the_session_cookie_holds_no_part_of_the_password_hash(app: Any) -> None:
    import json

    _, secret = make_user(app, "dpo", "dpo@example.com")
    client = app.test_client()
    sign_in(client, "dpo@example.com", secret)
    serializer = app.session_interface.get_signing_serializer(app)
    content = serializer.loads(client.get_cookie("session").value)
    password_hash = user_row(app, "dpo@example.com")["password_hash"]
    text = json.dumps(content)
    pieces = {password_hash[i : i + 8] for i in range(len(password_hash) - 7)}
    assert not any(piece in text for piece in pieces), sorted(content)
    assert "pwd" not in content and len(content["sid"]) >= 43  # 256 random bits
