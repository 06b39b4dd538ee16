"""Customer edit and erase from the console: the same store functions as the API (audited),
masked values never sent back, erasure behind a password re-check that resumes it, with the
request reference recorded."""

from __future__ import annotations

import re
from typing import Any

from conftest import PASSWORD, customer_doc, login_as
from test_console_forms import csrf
from werkzeug.datastructures import MultiDict


def _customer(client: Any, crm: dict[str, str]) -> str:
    return str(client.post("/api/v1/customers", json=customer_doc(), headers=crm).json["id"])


def _entries(client: Any, app: Any, action: str) -> list[dict[str, Any]]:
    from test_console_audit_views import integrate

    integrate(app)
    return list(client.get(f"/api/v1/audit/entries?action={action}").json["items"])


def test_support_edits_a_phone_number_typing_only_what_changes(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "support")
    page = client.get(f"/customers/{customer_id}/edit").get_data(as_text=True)
    assert "a***@example.com" in page and "alice.example@example.com" not in page
    res = client.post(
        f"/customers/{customer_id}/edit",
        data={
            "phone": "+8613912345678",
            "csrf_token": csrf(client, f"/customers/{customer_id}/edit"),
        },
    )
    assert res.status_code == 302 and res.location == f"/customers/{customer_id}"
    doc = app.test_client().get(f"/api/v1/customers/{customer_id}", headers=crm).json
    assert doc["phone"] == "+8613912345678" and doc["email"] == "alice.example@example.com"


def test_a_bad_value_stays_on_the_edit_form(app: Any, client: Any, crm: dict[str, str]) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "support")
    res = client.post(
        f"/customers/{customer_id}/edit",
        data={"email": "nope", "csrf_token": csrf(client, f"/customers/{customer_id}/edit")},
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and 'id="email-error"' in html and 'value="nope"' in html


def test_support_cannot_erase(app: Any, client: Any, crm: dict[str, str]) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "support")
    assert client.get(f"/customers/{customer_id}/erase").status_code == 403
    assert 'id="erase-customer"' not in client.get(f"/customers/{customer_id}").get_data(
        as_text=True
    )


def test_dpo_erases_after_the_password_check_and_the_action_resumes(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "dpo")
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    form = {"request_ref": "DSAR-2026-014", "confirm": "y",
            "csrf_token": csrf(client, f"/customers/{customer_id}/erase")}  # fmt: skip
    res = client.post(f"/customers/{customer_id}/erase", data=form)
    assert res.status_code == 302 and res.location.startswith("/reauth?next=")
    confirmed = client.post(
        res.location, data={"password": PASSWORD, "csrf_token": csrf(client, "/reauth")}
    )
    page = confirmed.get_data(as_text=True)
    assert 'id="resume-form"' in page and "DSAR-2026-014" in page
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    done = client.post(f"/customers/{customer_id}/erase", data=MultiDict(fields))
    assert done.status_code == 302 and done.location == "/customers"
    assert app.test_client().get(f"/api/v1/customers/{customer_id}", headers=crm).status_code in (
        404,
        410,
    )
    erased = _entries(client, app, "customer.erase")
    assert erased[-1]["details"]["request_ref"] == "DSAR-2026-014"


def test_erase_needs_the_reference_and_the_tick(app: Any, client: Any, crm: dict[str, str]) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "dpo")
    res = client.post(
        f"/customers/{customer_id}/erase",
        data={"request_ref": "", "csrf_token": csrf(client, f"/customers/{customer_id}/erase")},
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert 'id="request_ref-error"' in html and 'id="confirm-error"' in html
