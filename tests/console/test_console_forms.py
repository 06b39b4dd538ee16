"""One form style: a refused value stays on its form, typed input kept, the reason beside the
field (no dead-end error page); lookups never put personal data in a URL."""

from __future__ import annotations

import re
from typing import Any

from conftest import customer_doc, login_as


def csrf(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, path
    return match.group(1)


def test_bad_lookup_email_stays_on_the_form_with_the_input(app: Any, client: Any) -> None:
    login_as(app, client, "support")
    res = client.post(
        "/customers", data={"email": "not-an-email", "csrf_token": csrf(client, "/customers")}
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert 'id="lookup-form"' in html and 'value="not-an-email"' in html
    assert 'id="lookup-error"' in html and 'aria-invalid="true"' in html
    assert 'id="error-page"' not in html


def test_lookup_posts_so_the_email_is_never_in_a_url(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    login_as(app, client, "support")
    html = client.get("/customers").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/customers" [^>]*id="lookup-form"', html)
    res = client.post(
        "/customers",
        data={"email": "alice.example@example.com", "csrf_token": csrf(client, "/customers")},
    )
    found = res.get_data(as_text=True)
    assert res.status_code == 200 and "a***@example.com" in found
    assert "alice.example@example.com" not in re.sub(r'value="[^"]*"', "", found)


def test_weak_password_for_a_new_user_stays_on_the_form(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    res = client.post(
        "/users",
        data={"email": "new.person@example.com", "role": "dpo", "password": "short",
              "csrf_token": csrf(client, "/users")},
    )  # fmt: skip
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert 'id="new-user"' in html and 'value="new.person@example.com"' in html
    assert 'id="password-error"' in html
    assert 'id="error-page"' not in html


def test_weak_new_password_on_the_account_page_shows_beside_the_field(
    app: Any, client: Any
) -> None:
    from conftest import PASSWORD

    login_as(app, client, "dpo")
    res = client.post(
        "/account",
        data={"current": PASSWORD, "new": "password", "csrf_token": csrf(client, "/account")},
    )
    html = res.get_data(as_text=True)
    assert res.status_code in (400, 422)
    assert 'id="new-error"' in html
