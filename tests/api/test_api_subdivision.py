"""A customer's subdivision (ISO 3166-2): normalised, checked against the country, readable."""

from __future__ import annotations

from typing import Any

from conftest import customer_doc


def _create(app: Any, crm: dict[str, str], **fields: Any) -> Any:
    return app.test_client().post("/api/v1/customers", json=customer_doc(**fields), headers=crm)


def test_a_state_is_stored_in_iso_3166_2_and_returned(app: Any, crm: dict[str, str]) -> None:
    created = _create(
        app, crm, country="US", subdivision="ca", phone="+1 202 555 0100",
        national_id=None, date_of_birth="1980-01-02",
    )  # fmt: skip
    assert created.status_code == 201, created.json
    assert created.json["subdivision"] == "US-CA"
    read = app.test_client().get(f"/api/v1/customers/{created.json['id']}", headers=crm)
    assert read.json["subdivision"] == "US-CA"


def test_a_subdivision_of_another_country_is_refused(app: Any, crm: dict[str, str]) -> None:
    response = _create(app, crm, subdivision="US-CA")  # the record is in CN
    assert response.status_code == 422
    assert response.content_type.startswith("application/problem+json")
    assert any(e["field"] == "subdivision" for e in response.json["errors"])


def test_an_unknown_code_is_refused(app: Any, crm: dict[str, str]) -> None:
    response = _create(app, crm, subdivision="CN-XX")
    assert response.status_code == 422
    assert any("3166-2" in e["message"] for e in response.json["errors"])


def test_changing_the_country_alone_cannot_leave_a_foreign_state(
    app: Any, crm: dict[str, str]
) -> None:
    created = _create(app, crm, subdivision="CN-BJ")
    assert created.status_code == 201, created.json
    url = f"/api/v1/customers/{created.json['id']}"
    client = app.test_client()
    patch = {"country": "DE", "phone": None, "national_id": None}
    refused = client.patch(url, json=patch, headers=crm)
    assert refused.status_code == 422
    assert any(e["field"] == "subdivision" for e in refused.json["errors"])
    assert client.get(url, headers=crm).json["country"] == "CN"  # nothing half-changed
    moved = client.patch(url, json={**patch, "subdivision": "DE-BE"}, headers=crm)
    assert moved.status_code == 200, moved.json
    assert moved.json["subdivision"] == "DE-BE"
