"""Recording consent from the customer page: a grant, withdrawal or refusal a person took on
paper or on the phone goes through the same ledger as the API (an event and its audit entry),
a refused event keeps what was typed with the reason beside the field, and only roles the
policy lets record one see the form."""

from __future__ import annotations

import re
from typing import Any

from conftest import customer_doc, login_as
from test_console_forms import csrf


def _customer(client: Any, crm: dict[str, str]) -> str:
    doc = customer_doc()
    doc.pop("marketing")  # no consent yet: the ledger is empty for this customer
    return str(client.post("/api/v1/customers", json=doc, headers=crm).json["id"])


def _record(client: Any, customer_id: str, **fields: str) -> Any:
    data = {"source": "paper", "notice_version": "1", "evidence_ref": "", **fields}
    data["csrf_token"] = csrf(client, f"/customers/{customer_id}")
    return client.post(f"/customers/{customer_id}/consents", data=data)


def _state(client: Any, crm: dict[str, str], customer_id: str, purpose: str) -> str:
    res = client.get(f"/api/v1/customers/{customer_id}/consents", headers=crm)
    return str(res.json["purposes"][purpose]["state"])


def test_support_records_a_grant_then_a_withdrawal_on_the_customer_page(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    api = app.test_client()
    login_as(app, client, "support")
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert 'id="consent-form"' in page and 'value="marketing_email"' in page
    assert 'value="service"' not in page  # a contract purpose takes no consent

    res = _record(client, customer_id, purpose="marketing_email", action="grant",
                  evidence_ref="FORM-2026-118")  # fmt: skip
    assert res.status_code == 302 and res.location.endswith(f"/customers/{customer_id}#consent")
    assert _state(api, crm, customer_id, "marketing_email") == "granted"
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Recorded: marketing_email granted" in page
    assert re.search(r"<td>marketing_email</td><td>grant</td><td>paper</td>", page)

    res = _record(client, customer_id, purpose="marketing_email", action="withdraw",
                  notice_version="")  # fmt: skip
    assert res.status_code == 302
    assert _state(api, crm, customer_id, "marketing_email") == "withdrawn"
    events = api.get(f"/api/v1/customers/{customer_id}/consents", headers=crm).json["events"]
    assert [(e["action"], e["source"], e.get("evidence_ref")) for e in events] == [
        ("grant", "paper", "FORM-2026-118"),
        ("withdraw", "paper", None),
    ]


def test_each_recorded_event_is_in_the_audit_log_with_who_recorded_it(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    from test_console_audit_views import integrate

    customer_id = _customer(client, crm)
    login_as(app, client, "dpo", email="dpo.consent@example.com")
    assert _record(client, customer_id, purpose="marketing_sms", action="refuse").status_code == 302
    integrate(app)
    entries = client.get("/api/v1/audit/entries?action=consent.refuse").json["items"]
    mine = [e for e in entries if e["subject_id"] == customer_id]
    assert len(mine) == 1 and mine[0]["actor_type"] == "user"


def test_a_refused_event_keeps_the_input_and_names_the_field(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "support")
    # a grant needs the notice the person was shown
    res = _record(client, customer_id, purpose="marketing_email", action="grant",
                  notice_version="", evidence_ref="CALL-77")  # fmt: skip
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert 'id="notice_version-error"' in html and "is required to grant" in html
    assert 'value="CALL-77"' in html  # what was typed is still there
    assert _state(app.test_client(), crm, customer_id, "marketing_email") == "none"
    # a value the form does not offer is refused by the form itself, beside its field
    res = _record(client, customer_id, purpose="service", action="grant")
    assert res.status_code == 422 and 'id="purpose-error"' in res.get_data(as_text=True)


def test_withdrawing_a_consent_never_given_is_recorded_and_said_so(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "support")
    res = _record(client, customer_id, purpose="marketing_post", action="withdraw",
                  notice_version="")  # fmt: skip
    assert res.status_code == 302
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "the state is unchanged" in page
    assert _state(app.test_client(), crm, customer_id, "marketing_post") == "none"


def test_roles_that_may_not_record_see_no_form_and_are_refused(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer(client, crm)
    login_as(app, client, "analyst")  # reads aggregates, never a customer's page
    assert client.get(f"/customers/{customer_id}").status_code == 403
    token = csrf(client, "/account")
    res = client.post(
        f"/customers/{customer_id}/consents",
        data={
            "purpose": "marketing_email",
            "action": "grant",
            "source": "paper",
            "notice_version": "1",
            "csrf_token": token,
        },  # fmt: skip
    )
    assert res.status_code == 403
    assert _state(app.test_client(), crm, customer_id, "marketing_email") == "none"
