"""The customer API: create, read, update, list, erase; normalisation; errors as problem+json."""

from __future__ import annotations

from typing import Any

from conftest import customer_doc, login_as, make_token


def post(client: Any, headers: dict[str, str], path: str, body: Any) -> Any:
    return client.post(path, json=body, headers=headers)


def test_create_normalises_and_returns_clear_to_crm(client: Any, crm: dict[str, str]) -> None:
    res = post(client, crm, "/api/v1/customers", customer_doc())
    assert res.status_code == 201, res.json
    doc = res.json
    assert res.headers["Location"] == f"/api/v1/customers/{doc['id']}"
    assert doc["full_name"] == "Alice Example"
    assert doc["email"] == "alice.example@example.com"
    assert doc["phone"] == "+8613800138000"
    assert doc["country"] == "CN"
    assert doc["national_id"] == "11010519491231002X"
    assert doc["address"] == {"line1": "1 Example Road", "city": "Beijing", "postal_code": "100000"}
    assert doc["created_at"].endswith("Z")
    again = client.get(f"/api/v1/customers/{doc['id']}", headers=crm)
    assert again.status_code == 200
    assert again.json == doc


def test_support_sees_masked_and_analyst_is_refused(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    created = post(client, crm, "/api/v1/customers", customer_doc()).json
    login_as(app, client, "support")
    res = client.get(f"/api/v1/customers/{created['id']}")
    assert res.status_code == 200
    assert res.json["email"] == "a***@example.com"
    assert res.json["phone"].startswith("+86138") and "****" in res.json["phone"]
    assert res.json["national_id"].endswith("002X") and res.json["national_id"].startswith("*")
    analyst = app.test_client()
    login_as(app, analyst, "analyst")
    res = analyst.get(f"/api/v1/customers/{created['id']}")
    assert res.status_code == 403
    assert res.mimetype == "application/problem+json"


def test_validation_errors_name_each_field(client: Any, crm: dict[str, str]) -> None:
    bad = customer_doc(
        email="not-an-email",
        phone="12",
        date_of_birth="2999-01-01",
        national_id="110105194912310021",
        country="XX",
        shoe_size=42,
    )
    res = post(client, crm, "/api/v1/customers", bad)
    assert res.status_code == 422
    assert res.mimetype == "application/problem+json"
    fields = {e["field"] for e in res.json["errors"]}
    assert fields == {"email", "phone", "date_of_birth", "national_id", "country", "shoe_size"}
    assert res.json["type"].endswith("/validation-error")
    assert "not-an-email" not in res.get_data(as_text=True)
    listing = client.get("/api/v1/customers", headers=crm).json
    assert listing["items"] == []


def test_malformed_requests_are_4xx_problem_json(client: Any, crm: dict[str, str]) -> None:
    res = client.post(
        "/api/v1/customers", data="{nope", headers={**crm, "Content-Type": "application/json"}
    )
    assert res.status_code == 400 and res.mimetype == "application/problem+json"
    res = client.post(
        "/api/v1/customers", data="a=b", headers={**crm, "Content-Type": "text/plain"}
    )
    assert res.status_code == 415
    res = post(client, crm, "/api/v1/customers", ["a list"])
    assert res.status_code == 422
    assert client.get("/api/v1/customers/not-a-uuid", headers=crm).status_code == 404
    assert client.get("/api/v1/customers?cursor=%%%", headers=crm).status_code == 400
    assert client.get("/api/v1/customers?limit=0", headers=crm).status_code == 422
    assert client.get("/api/v1/customers?favourite=1", headers=crm).status_code == 422
    huge = "x" * (17 * 1024 * 1024)
    res = client.post(
        "/api/v1/customers", data=huge, headers={**crm, "Content-Type": "application/json"}
    )
    assert res.status_code == 413 and res.mimetype == "application/problem+json"


def test_duplicates_are_refused_with_the_existing_id(client: Any, crm: dict[str, str]) -> None:
    first = post(client, crm, "/api/v1/customers", customer_doc()).json
    res = post(
        client,
        crm,
        "/api/v1/customers",
        customer_doc(
            external_ref="CRM-2", email="ALICE.EXAMPLE@example.com ", phone=None, national_id=None
        ),
    )
    assert res.status_code == 409
    assert first["id"] in res.json["detail"]
    res = post(
        client,
        crm,
        "/api/v1/customers",
        customer_doc(external_ref="CRM-3", email="other@example.com", phone=None, national_id=None),
    )
    assert res.status_code == 409  # same name + date of birth


def test_update_merges_and_revalidates(client: Any, crm: dict[str, str]) -> None:
    doc = post(client, crm, "/api/v1/customers", customer_doc()).json
    res = client.patch(
        f"/api/v1/customers/{doc['id']}",
        json={"email": "NEW@Example.com", "phone": None},
        headers=crm,
    )
    assert res.status_code == 200, res.json
    assert res.json["email"] == "new@example.com"
    assert res.json["phone"] is None
    assert res.json["full_name"] == "Alice Example"
    assert res.json["updated_at"] >= doc["updated_at"]
    found = client.get("/api/v1/customers?email=new@EXAMPLE.com", headers=crm).json["items"]
    assert [c["id"] for c in found] == [doc["id"]]
    assert (
        client.get("/api/v1/customers?email=alice.example@example.com", headers=crm).json["items"]
        == []
    )
    res = client.patch(f"/api/v1/customers/{doc['id']}", json={"full_name": None}, headers=crm)
    assert res.status_code == 422
    res = client.patch(f"/api/v1/customers/{doc['id']}", json={"id": "x"}, headers=crm)
    assert res.status_code == 422


def test_cursor_pagination_visits_every_customer_once(client: Any, crm: dict[str, str]) -> None:
    ids = []
    for n in range(7):
        doc = customer_doc(
            external_ref=f"R{n}",
            email=f"p{n}@example.com",
            phone=None,
            national_id=None,
            full_name=f"Person {n}",
        )
        ids.append(post(client, crm, "/api/v1/customers", doc).json["id"])
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/customers?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=crm).json
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids


def test_filters_use_blind_indexes(client: Any, crm: dict[str, str]) -> None:
    doc = post(client, crm, "/api/v1/customers", customer_doc()).json
    for query in (
        "phone=%2B86%20138-0013-8000",
        "national_id=11010519491231002x",
        "country=cn",
        "external_ref=CRM-1",
    ):
        items = client.get(f"/api/v1/customers?{query}", headers=crm).json["items"]
        assert [c["id"] for c in items] == [doc["id"]], query
    res = client.get("/api/v1/customers?phone=abc", headers=crm)
    assert res.status_code == 422 and res.json["errors"][0]["field"] == "phone"


def test_filters_combine_in_any_order_and_each_request_binds_its_own_values(
    client: Any, crm: dict[str, str]
) -> None:
    first = post(client, crm, "/api/v1/customers", customer_doc()).json
    other = customer_doc(
        external_ref="CRM-9",
        email="b@example.com",
        full_name="Bo Example",
        phone=None,
        national_id=None,
    )
    second = post(client, crm, "/api/v1/customers", other).json

    def ids(query: str) -> list[str]:
        res = client.get(f"/api/v1/customers?{query}", headers=crm)
        assert res.status_code == 200, res.json
        return [c["id"] for c in res.json["items"]]

    assert ids("email=b@example.com&country=CN") == [second["id"]]
    assert ids("country=CN&email=alice.example@example.com") == [first["id"]]
    assert ids("country=CN&email=nobody@example.com") == []
    assert ids(f"updated_since={first['created_at']}&country=CN") == [first["id"], second["id"]]
    assert ids(f"updated_since={second['updated_at']}") == [second["id"]]
    assert ids("updated_since=2999-01-01T00:00:00Z") == []
    bad = client.get("/api/v1/customers?updated_since=yesterday", headers=crm)
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "updated_since"
    assert "ISO 8601 timestamp or date" in bad.json["errors"][0]["message"]


def test_orders_and_interactions(client: Any, crm: dict[str, str]) -> None:
    doc = post(client, crm, "/api/v1/customers", customer_doc()).json
    base = f"/api/v1/customers/{doc['id']}"
    res = post(
        client,
        crm,
        f"{base}/orders",
        {
            "ordered_at": "2026-01-02T03:04:05+08:00",
            "amount": "12.5",
            "currency": "cny",
            "items": [{"sku": "A1"}],
            "comment": "gift wrap",
        },
    )
    assert res.status_code == 201, res.json
    assert res.json["amount"] == "12.50" and res.json["currency"] == "CNY"
    assert res.json["ordered_at"] == "2026-01-01T19:04:05Z"
    res = post(
        client,
        crm,
        f"{base}/interactions",
        {
            "channel": "phone",
            "occurred_at": "2026-02-01T10:00:00Z",
            "note": "Called about delivery",
        },
    )
    assert res.status_code == 201
    orders = client.get(f"{base}/orders", headers=crm).json["items"]
    assert [o["comment"] for o in orders] == ["gift wrap"]
    notes = client.get(f"{base}/interactions", headers=crm).json["items"]
    assert [n["note"] for n in notes] == ["Called about delivery"]
    res = post(
        client,
        crm,
        f"{base}/orders",
        {"ordered_at": "yesterday", "amount": "-1", "currency": "ZZZ"},
    )
    assert res.status_code == 422
    assert {e["field"] for e in res.json["errors"]} == {"ordered_at", "amount", "currency"}
    res = post(
        client, crm, f"{base}/interactions", {"channel": "pigeon", "occurred_at": "2026-02-01"}
    )
    assert res.status_code == 422


def test_erasure_is_final(app: Any, client: Any, crm: dict[str, str]) -> None:
    doc = post(client, crm, "/api/v1/customers", customer_doc()).json
    other = {
        "Authorization": f"Bearer {make_token(app, 'crm_app', account='other-app')}",
        "X-Purpose": "support",
    }
    assert client.delete(f"/api/v1/customers/{doc['id']}", headers=other).status_code == 403
    with app.app_context():
        from governance.bootstrap import deps
        from governance.extensions import db
        from governance.services.customers import store as customers

        customers.erase_customer(deps(app).call(db.session), doc["id"], "DSAR-1")
        db.session.commit()
    res = client.get(f"/api/v1/customers/{doc['id']}", headers=crm)
    assert res.status_code == 410
    assert res.json["type"].endswith("/subject-erased")


def test_unauthenticated_is_401_with_bearer_challenge(client: Any) -> None:
    res = client.get("/api/v1/customers")
    assert res.status_code == 401
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    assert res.mimetype == "application/problem+json"
    res = client.get("/api/v1/customers", headers={"Authorization": "Bearer gov_nothing"})
    assert res.status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 200
