"""Every "Bad input" item of the consent issue: clear errors, nothing half-changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from consent_helpers import create, grant, withdraw
from sqlalchemy import text

from governance.models import AuditEntry, ConsentEvent


def events(call: Any) -> int:
    call.session.rollback()
    return call.session.query(ConsentEvent).count()


def test_an_unknown_purpose_is_422_and_audited_as_a_refused_read(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    cid = create(client, crm)
    res = client.get(f"/api/v1/customers/{cid}", headers={**crm, "X-Purpose": "curiosity"})
    assert res.status_code == 422 and res.mimetype == "application/problem+json"
    call.session.rollback()
    entry = call.session.query(AuditEntry).filter_by(action="customer.read").one()
    leaf = json.loads(entry.leaf)
    assert leaf["outcome"] == "denied" and leaf["details"]["declared_purpose"] == "curiosity"


def test_a_role_declaring_a_purpose_it_may_not(client: Any, crm: dict[str, str]) -> None:
    cid = create(client, crm)
    res = client.get(f"/api/v1/customers/{cid}", headers={**crm, "X-Purpose": "profiling"})
    assert res.status_code == 403 and res.json["type"].endswith("/purpose-not-allowed")


def test_the_checks_run_in_the_issue_order(client: Any, crm: dict[str, str]) -> None:
    cid = create(client, crm)
    url = f"/api/v1/customers/{cid}"
    assert client.get(url, headers={"X-Purpose": "nope"}).status_code == 401
    bare = {"Authorization": crm["Authorization"]}
    assert client.get(url, headers=bare).status_code == 400
    assert client.get(url, headers=bare).json["type"].endswith("/purpose-required")
    assert client.get(url, headers={**bare, "X-Purpose": "nope"}).status_code == 422
    # a purpose the role may not declare is refused before the customer is looked up
    unknown = "/api/v1/customers/00000000-0000-7000-8000-000000000000"
    assert client.get(unknown, headers={**bare, "X-Purpose": "profiling"}).status_code == 403
    assert client.get(unknown, headers={**bare, "X-Purpose": "support"}).status_code == 404


def test_consent_for_an_unknown_notice_version(client: Any, crm: dict[str, str], call: Any) -> None:
    cid = create(client, crm, marketing=None)
    res = grant(client, crm, cid, "marketing_email", notice_version="99")
    assert res.status_code == 422
    assert res.json["errors"] == [{"field": "notice_version", "message": "is not a notice version"}]
    assert events(call) == 0


def test_grant_needs_a_notice_version_and_derived_states_are_not_actions(
    client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm, marketing=None)
    url = f"/api/v1/customers/{cid}/consents"
    res = client.post(url, json={"purpose": "marketing_email", "action": "grant", "source": "app"},
                      headers=crm)  # fmt: skip
    assert res.status_code == 422 and res.json["errors"][0]["field"] == "notice_version"
    res = client.post(url, json={"purpose": "marketing_email", "action": "expired",
                                 "source": "app", "notice_version": "1"}, headers=crm)  # fmt: skip
    assert res.status_code == 422 and "derives" in res.json["errors"][0]["message"]
    res = client.post(url, json={"purpose": "support", "action": "grant", "source": "app",
                                 "notice_version": "1"}, headers=crm)  # fmt: skip
    assert res.status_code == 422 and "not consent" in res.json["errors"][0]["message"]


def test_withdrawal_of_a_consent_never_granted(client: Any, crm: dict[str, str], call: Any) -> None:
    cid = create(client, crm, marketing=None)
    res = withdraw(client, crm, cid, "marketing_sms")
    assert res.status_code == 201
    assert res.json["changed"] is False and "state unchanged" in res.json["note"]
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json
    assert state["purposes"]["marketing_sms"]["state"] == "none"
    assert [e["action"] for e in state["events"]] == ["withdraw"]  # recorded all the same


def test_events_dated_in_the_future(client: Any, crm: dict[str, str], call: Any) -> None:
    cid = create(client, crm, marketing=None)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    res = grant(client, crm, cid, "marketing_email", occurred_at=later)
    assert res.status_code == 422
    assert res.json["errors"] == [{"field": "occurred_at", "message": "is in the future"}]
    assert events(call) == 0


def test_a_bulk_call_with_one_bad_event_records_none(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    cid = create(client, crm, marketing=None)
    good = {"customer_id": cid, "purpose": "marketing_email", "action": "grant",
            "source": "import", "notice_version": "1"}  # fmt: skip
    bad = {**good, "customer_id": "00000000-0000-7000-8000-000000000000"}
    res = client.post("/api/v1/consents", json={"events": [good, bad]}, headers=crm)
    assert res.status_code == 404 and res.mimetype == "application/problem+json"
    assert res.json["errors"] == [
        {"field": "events[1].customer_id", "message": "is not a customer"}
    ]
    assert events(call) == 0
    late = {**good, "occurred_at": "2999-01-01T00:00:00Z"}
    res = client.post("/api/v1/consents", json={"events": [good, late]}, headers=crm)
    assert res.status_code == 422
    assert res.json["errors"] == [{"field": "events[1].occurred_at", "message": "is in the future"}]
    assert events(call) == 0
    res = client.post("/api/v1/consents", json={"events": [good, good]}, headers=crm)
    assert res.status_code == 201 and res.json["recorded"] == 2


def test_the_ledger_is_append_only(client: Any, crm: dict[str, str], call: Any) -> None:
    cid = create(client, crm, marketing=None)
    grant(client, crm, cid, "marketing_email")
    call.session.rollback()
    statements = (
        "UPDATE consent_events SET action = 'withdraw'",
        "DELETE FROM consent_events",
        "DELETE FROM consent_notices",
        "UPDATE consent_notice_purposes SET widens = false",
    )
    for statement in statements:
        with pytest.raises(Exception, match="append-only"):
            call.session.execute(text(statement))
        call.session.rollback()
