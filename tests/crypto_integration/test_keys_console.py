"""The console's Keys page (admin): status of the KEK versions, and rotation behind a recent
password and the form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from conftest import customer_doc, login_as


def page_csrf(client: Any, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_keys_page_shows_versions_and_rotates(app: Any, crm: dict[str, str]) -> None:
    app.test_client().post("/api/v1/customers", headers=crm, json=customer_doc())
    admin = app.test_client()
    login_as(app, admin, "admin")
    page = admin.get("/keys")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="key-versions"' in text and "current" in text and "key file" in text
    assert '<strong id="pending">0</strong>' in text
    res = admin.post("/keys", data={"csrf_token": page_csrf(admin, "/keys")})
    assert res.status_code == 302 and "/jobs/" in res.headers["Location"]
    status = admin.get("/api/v1/keys").json
    assert status["current"] == 2 and status["pending_rewrap"] == status["data_keys"] > 0
    assert status["rotation"]["state"] == "queued"
    assert f'<strong id="pending">{status["data_keys"]}</strong>' in admin.get("/keys").get_data(
        as_text=True
    )


def test_rotation_from_the_console_needs_a_recent_password(app: Any) -> None:
    admin = app.test_client()
    login_as(app, admin, "admin")
    token = page_csrf(admin, "/keys")
    with admin.session_transaction() as sess:
        sess["auth_at"] = 0
    res = admin.post("/keys", data={"csrf_token": token})
    assert res.status_code == 302 and "/reauth" in res.headers["Location"]
    assert admin.get("/api/v1/keys").json["current"] == 1


def test_rotation_without_the_csrf_token_is_refused(app: Any) -> None:
    admin = app.test_client()
    login_as(app, admin, "admin")
    assert admin.post("/keys").status_code == 400
    assert admin.get("/api/v1/keys").json["current"] == 1


def test_other_roles_cannot_open_the_keys_page(app: Any) -> None:
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    assert dpo.get("/keys").status_code == 403
