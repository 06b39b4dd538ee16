"""Derived states (expired, re-consent needed), objections and restrictions, the marketing view,
and the consent check's query budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from consent_helpers import create, grant
from sqlalchemy import event

from governance.services.consent import objections


def dpo_client(app: Any) -> Any:
    from conftest import csrf_headers, login_as

    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    dpo.environ_base["HTTP_X_CSRFTOKEN"] = csrf_headers(dpo)["X-CSRFToken"]
    return dpo


def test_a_new_notice_widening_a_purpose_needs_reconsent(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm, marketing=None)
    assert grant(client, crm, cid, "marketing_email").status_code == 201
    dpo = dpo_client(app)
    notice = {
        "version": "2",
        "text": "Privacy notice v2: we now also email partner offers.",
        "purposes": ["marketing_email", "marketing_sms"],
        "widens": ["marketing_email"],
    }
    res = dpo.post("/api/v1/notices", json=notice)
    assert res.status_code == 201, res.json
    assert set(res.json["widens"]) == {"marketing_email"}
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json["purposes"]
    assert state["marketing_email"]["state"] == "reconsent_needed"
    read = client.get(f"/api/v1/customers/{cid}", headers={**crm, "X-Purpose": "marketing_email"})
    assert read.status_code == 403
    assert dpo.post("/api/v1/notices", json=notice).status_code == 409
    assert grant(client, crm, cid, "marketing_email", notice_version="2").status_code == 201
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json["purposes"]
    assert state["marketing_email"]["state"] == "granted"


def test_a_consent_expires_after_the_notice_lifetime(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    dpo = dpo_client(app)
    past = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    notice = {"version": "0.9", "text": "Old notice.", "purposes": ["marketing_post"],
              "consent_lifetime_days": 365, "effective_at": past}  # fmt: skip
    assert dpo.post("/api/v1/notices", json=notice).status_code == 201
    cid = create(client, crm, marketing=None)
    res = grant(client, crm, cid, "marketing_post", notice_version="0.9", occurred_at=past)
    assert res.status_code == 201 and res.json["expires_at"]
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json["purposes"]
    assert state["marketing_post"]["state"] == "expired"


def test_objection_and_restriction_block_the_purpose(
    call: Any, client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm)
    analytics = {**crm, "X-Purpose": "analytics"}
    assert client.get(f"/api/v1/customers/{cid}", headers=analytics).status_code == 200
    objections.record_objection(call, cid, "analytics", reason="asked by phone")
    call.session.commit()
    res = client.get(f"/api/v1/customers/{cid}", headers=analytics)
    assert res.status_code == 403 and "objected" in res.json["detail"]
    assert client.get("/api/v1/customers", headers=analytics).json["items"] == []
    assert client.get(f"/api/v1/customers/{cid}", headers=crm).status_code == 200  # support
    with pytest.raises(Exception, match="already in force"):
        objections.record_objection(call, cid, "analytics")
    call.session.rollback()
    objections.lift_objection(call, cid, "analytics")
    objections.record_restriction(call, cid, request_ref="DSR-7")
    call.session.commit()
    assert client.get(f"/api/v1/customers/{cid}", headers=crm).status_code == 403
    objections.lift_restriction(call, cid)
    call.session.commit()
    assert client.get(f"/api/v1/customers/{cid}", headers=analytics).status_code == 200
    with pytest.raises(Exception, match="not a purpose a person may object to"):
        objections.record_objection(call, cid, "billing")


def test_marketing_writes_become_events_and_the_view_follows_the_ledger(
    client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm, marketing={"email": True, "sms": False})
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json
    assert state["purposes"]["marketing_email"]["state"] == "granted"
    assert state["purposes"]["marketing_sms"]["state"] == "refused"
    assert {e["source"] for e in state["events"]} == {"app"}
    url = f"/api/v1/customers/{cid}"
    assert client.patch(url, json={"marketing": {"email": False}}, headers=crm).status_code == 200
    assert client.get(url, headers=crm).json["marketing"] == {"email": False, "sms": False}
    assert grant(client, crm, cid, "marketing_post").status_code == 201
    assert client.get(url, headers=crm).json["marketing"] == {
        "email": False, "sms": False, "post": True
    }  # fmt: skip


def _count(app: Any, fn: Any) -> list[str]:
    from governance.extensions import db

    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        res = fn()
        assert res.status_code == 200, res.get_data(as_text=True)[:300]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_the_consent_check_adds_no_query(
    app: Any, client: Any, crm: dict[str, str], monkeypatch: Any
) -> None:
    from governance.bootstrap import deps

    deps(app).audit.inline = False
    ids = [create(client, crm, external_ref=f"Q{i}", email=f"q{i}@example.com", phone=None,
                  national_id=None, full_name=f"Q {i}") for i in range(3)]  # fmt: skip
    for cid in ids:
        grant(client, crm, cid, "marketing_email")
    email = {**crm, "X-Purpose": "marketing_email"}
    analytics = {**crm, "X-Purpose": "analytics"}
    client.get(f"/api/v1/customers/{ids[0]}", headers=analytics)  # warm up: the token cache
    # analytics does not use the marketing view: the baseline of a read without a view
    base = _count(app, lambda: client.get(f"/api/v1/customers/{ids[0]}", headers=analytics))
    checked = _count(app, lambda: client.get(f"/api/v1/customers/{ids[0]}", headers=email))
    consent = [s for s in checked if "consent_current" in s]
    # the check rides in the read's own statement (the row, its key, the consent lookup)
    assert len(consent) == 1 and "dk_wrapped" in consent[0], checked
    assert len(checked) == len(base), (base, checked)
    listed = _count(app, lambda: client.get("/api/v1/customers", headers=email))
    # the consent filter is part of the list's own query (with the rows and their keys)
    assert [s for s in listed if "consent_current" in s and "dk_wrapped" in s], listed
    # the same list with the consent filter taken out costs as many statements
    from governance.services.customers import reads

    statement = reads._list_statement
    monkeypatch.setattr(reads, "_list_statement", lambda f, purpose, a: statement(f, None, a))
    unfiltered = _count(app, lambda: client.get("/api/v1/customers", headers=email))
    assert len(listed) == len(unfiltered), (unfiltered, listed)  # a list adds no query
