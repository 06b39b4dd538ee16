"""Customer writes: merge-patch of nested objects, mask strings refused as values, and the
duplicate check that must not unmask data (identical conflicts, refusals audited, lookups
rate-limited per caller)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import csrf_headers, customer_doc, login_as, make_app, make_token

from governance.models import AuditEntry


def entries(call: Any, action: str) -> list[dict[str, Any]]:
    """The audit entries of ``action`` as their canonical leaves, oldest first."""
    call.session.rollback()  # see what the requests committed
    rows = call.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.seq)
    return [json.loads(row.leaf) for row in rows]


def create(client: Any, crm: dict[str, str], **overrides: Any) -> dict[str, Any]:
    res = client.post("/api/v1/customers", json=customer_doc(**overrides), headers=crm)
    assert res.status_code == 201, res.json
    return dict(res.json)


def other(n: int) -> dict[str, Any]:
    """Fields of a customer unrelated to the default one (no shared lookup value)."""
    return {
        "external_ref": f"CRM-{n}",
        "full_name": f"Person {n}",
        "email": f"p{n}@example.com",
        "phone": None,
        "national_id": None,
        "date_of_birth": "1980-01-01",
    }


# --- item 2: PATCH merges nested objects (RFC 7396) ------------------------------------------


def test_patch_merges_nested_objects_and_audits_subfields(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    doc = create(client, crm)
    url = f"/api/v1/customers/{doc['id']}"
    res = client.patch(url, json={"address": {"region": "Beijing"}}, headers=crm)
    assert res.status_code == 200, res.json
    assert res.json["address"] == {
        "line1": "1 Example Road",
        "city": "Beijing",
        "region": "Beijing",
        "postal_code": "100000",
    }
    res = client.patch(url, json={"marketing": {"sms": False}}, headers=crm)
    assert res.json["marketing"] == {"email": True, "sms": False}
    # null removes a member, not the object; null at the top removes the object
    res = client.patch(url, json={"address": {"postal_code": None, "line2": "Unit 3"}}, headers=crm)
    assert res.json["address"] == {
        "line1": "1 Example Road",
        "line2": "Unit 3",
        "city": "Beijing",
        "region": "Beijing",
    }
    assert client.get(url, headers=crm).json["address"] == res.json["address"]
    res = client.patch(url, json={"marketing": None}, headers=crm)
    assert res.json["marketing"] == {"email": False, "sms": False}  # withdrawn: a ledger view
    updates = [e["details"] for e in entries(call, "customer.update")]
    assert updates[0]["fields"] == ["address"]
    assert updates[0]["subfields"] == ["address.region"]
    assert updates[1]["subfields"] == ["marketing.sms"]
    assert updates[2]["subfields"] == ["address.line2", "address.postal_code"]
    assert "Beijing" not in json.dumps(updates) and "Unit 3" not in json.dumps(updates)


def test_patch_of_a_nested_object_is_still_validated(client: Any, crm: dict[str, str]) -> None:
    doc = create(client, crm)
    url = f"/api/v1/customers/{doc['id']}"
    res = client.patch(url, json={"address": {"floor": "3"}}, headers=crm)
    assert res.status_code == 422 and res.json["errors"][0]["field"] == "address"
    res = client.patch(url, json={"marketing": {"sms": "yes"}}, headers=crm)
    assert res.status_code == 422 and res.json["errors"][0]["field"] == "marketing"
    assert client.get(url, headers=crm).json == doc


# --- item 3: mask strings are not values -----------------------------------------------------


def test_support_read_modify_write_of_masked_values_is_refused(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    doc = create(client, crm)
    url = f"/api/v1/customers/{doc['id']}"
    support = app.test_client()
    login_as(app, support, "support")
    seen = support.get(url).json
    assert seen["email"] == "a***@example.com" and seen["address"]["line1"] == "[masked]"
    res = support.patch(
        url,
        json={"email": seen["email"], "address": seen["address"], "full_name": "Alice Example"},
        headers=csrf_headers(support),
    )
    assert res.status_code == 422, res.json
    assert res.mimetype == "application/problem+json"
    assert {e["field"] for e in res.json["errors"]} == {
        "email",
        "address.line1",
        "address.postal_code",
    }
    res = support.patch(
        url,
        json={"date_of_birth": seen["date_of_birth"], "phone": seen["phone"]},
        headers=csrf_headers(support),
    )
    assert res.status_code == 422
    assert {e["field"] for e in res.json["errors"]} == {"date_of_birth", "phone"}
    assert client.get(url, headers=crm).json == doc  # nothing was written
    # a real new value from the same user is accepted
    res = support.patch(url, json={"email": "alice.new@example.com"}, headers=csrf_headers(support))
    assert res.status_code == 200, res.json
    assert client.get(url, headers=crm).json["email"] == "alice.new@example.com"


def test_mask_shaped_values_are_refused_for_every_caller(client: Any, crm: dict[str, str]) -> None:
    res = client.post(
        "/api/v1/customers",
        json=customer_doc(full_name="A*** E***", address={"line1": "[masked]", "city": "Beijing"}),
        headers=crm,
    )
    assert res.status_code == 422
    assert {e["field"] for e in res.json["errors"]} == {"full_name", "address.line1"}
    assert client.get("/api/v1/customers", headers=crm).json["items"] == []


# --- item 12: the duplicate check is not an unmasking oracle ----------------------------------


def test_patch_guess_of_a_masked_birth_date_gets_one_answer_right_or_wrong(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    victim = create(client, crm)  # Alice Example, born 1990-04-01, external_ref CRM-1
    mine = create(client, crm, **other(2))
    support = app.test_client()
    login_as(app, support, "support")
    url = f"/api/v1/customers/{mine['id']}"
    answers = []
    for guess in ("1990-04-01", "1990-04-02"):  # right, then wrong
        res = support.patch(
            url,
            json={"full_name": "Alice Example", "date_of_birth": guess, "external_ref": "CRM-1"},
            headers=csrf_headers(support),
        )
        assert res.status_code == 409
        assert res.mimetype == "application/problem+json"
        assert victim["id"] not in res.get_data(as_text=True)
        answers.append(res.json)
    assert answers[0] == answers[1]
    refused = entries(call, "customer.update")
    assert len(refused) == 2
    for entry in refused:
        assert entry["outcome"] == "denied"
        assert entry["subject_id"] == mine["id"]
        assert entry["details"]["status"] == 409
        assert entry["details"]["fields"] == ["date_of_birth", "external_ref", "full_name"]
        assert "1990-04" not in json.dumps(entry) and "Alice" not in json.dumps(entry)
    assert client.get(url, headers=crm).json == mine


def test_crm_app_which_sees_everything_in_clear_still_gets_the_conflicting_id(
    client: Any, crm: dict[str, str]
) -> None:
    first = create(client, crm)
    res = client.post("/api/v1/customers", json=customer_doc(external_ref="CRM-9"), headers=crm)
    assert res.status_code == 409 and first["id"] in res.json["detail"]


def test_refused_and_failed_customer_calls_are_audited_with_field_names(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    doc = create(client, crm)
    missing = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    assert client.get(f"/api/v1/customers/{missing}", headers=crm).status_code == 404
    res = client.patch(
        f"/api/v1/customers/{doc['id']}",
        json={"email": "not-an-email", "alice@example.com": 1},
        headers=crm,
    )
    assert res.status_code == 422
    res = client.post("/api/v1/customers", json=customer_doc(external_ref="X-2"), headers=crm)
    assert res.status_code == 409
    read = entries(call, "customer.read")
    assert [(e["outcome"], e["details"]["status"]) for e in read] == [("failed", 404)]
    update = entries(call, "customer.update")[-1]
    assert update["outcome"] == "failed" and update["subject_id"] == doc["id"]
    assert update["details"]["fields"] == ["email"]
    assert update["details"]["unknown_fields"] == 1
    assert "not-an-email" not in json.dumps(update) and "alice@" not in json.dumps(update)
    created = entries(call, "customer.create")[-1]
    assert created["outcome"] == "denied" and created["details"]["status"] == 409
    assert "address.line1" in created["details"]["subfields"]


@pytest.fixture
def lookup_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The app with a lookup limit of 3 per minute (its engine closed afterwards)."""
    from governance.extensions import db

    app = make_app(database_url, tmp_path / "instance", LOOKUP_RATE_LIMIT="3 per minute")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_filter_lookups_by_a_masked_role_count_against_the_lookup_limit(lookup_app: Any) -> None:
    app = lookup_app
    crm = {"Authorization": f"Bearer {make_token(app, 'crm_app')}", "X-Purpose": "support"}
    client = app.test_client()
    create(client, crm)
    support = app.test_client()
    login_as(app, support, "support")
    answers = [support.get(f"/api/v1/customers?phone=1380013800{n}").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    res = support.get("/api/v1/customers?email=alice.example@example.com")
    assert res.status_code == 429 and res.mimetype == "application/problem+json"
    assert int(res.headers["Retry-After"]) >= 1
    assert support.get("/api/v1/customers?country=CN").status_code == 200  # no blind index
    # crm_app sees these fields in clear: a lookup tells it nothing it could not read
    for _ in range(5):
        assert client.get("/api/v1/customers?phone=13800138000", headers=crm).status_code == 200


def test_duplicate_checks_a_masked_role_drives_count_against_the_lookup_limit(
    lookup_app: Any,
) -> None:
    app = lookup_app
    crm = {"Authorization": f"Bearer {make_token(app, 'crm_app')}"}
    client = app.test_client()
    mine = create(client, crm, **other(2))
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    url = f"/api/v1/customers/{mine['id']}"
    codes = []
    for day in range(1, 5):
        body = {"full_name": "Alice Example", "date_of_birth": f"1990-04-0{day}"}
        codes.append(dpo.patch(url, json=body, headers=csrf_headers(dpo)).status_code)
    assert codes == [200, 200, 200, 429]
    # a change of fields no duplicate check uses is not counted
    res = dpo.patch(url, json={"language": "en"}, headers=csrf_headers(dpo))
    assert res.status_code == 200
