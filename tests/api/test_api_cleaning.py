"""Data cleaning through the API: phones and dates read in the record's own locale, BCP 47 case,
birth dates that agree with the GB 11643 resident id, demo data that passes its own checks."""

from __future__ import annotations

import json
from typing import Any

from conftest import customer_doc

from governance.services.customers import demo
from governance.services.customers import normalise as norm


def create(client: Any, crm: dict[str, str], **fields: Any) -> Any:
    return client.post("/api/v1/customers", headers=crm, json=customer_doc(**fields))


def us_customer(**fields: Any) -> dict[str, Any]:
    """A US customer with no Chinese id number (overrides applied)."""
    base = {"country": "us", "national_id": None, "language": "en-US", "phone": None}
    return {**base, **fields}


def test_phone_is_read_in_the_records_country(client: Any, crm: dict[str, str]) -> None:
    res = create(client, crm, **us_customer(phone="(202) 555-0143"))
    assert res.status_code == 201, res.json
    assert res.json["phone"] == "+12025550143"
    second = {"email": "mit@example.com", "external_ref": "US-2", "full_name": "Tim Beaver"}
    mit = create(client, crm, **us_customer(phone="(617) 253-1000", **second))
    assert mit.status_code == 201, mit.json
    assert mit.json["phone"] == "+16172531000"
    uk = create(client, crm, country="GB", national_id=None, phone="020 7946 0958",
                email="uk@example.com", external_ref="GB-1", full_name="Ann Other")  # fmt: skip
    assert uk.status_code == 201, uk.json
    assert uk.json["phone"] == "+442079460958"
    # a PATCH of the phone alone is read in the stored record's country, not the default region
    patched = client.patch(
        f"/api/v1/customers/{mit.json['id']}", headers=crm, json={"phone": "617-253-1001"}
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["phone"] == "+16172531001"


def test_a_number_invalid_in_the_records_country_is_refused_not_made_chinese(
    client: Any, crm: dict[str, str]
) -> None:
    res = create(client, crm, **us_customer(phone="138 0013 8000"))  # a CN mobile, no +86
    assert res.status_code == 422, res.json
    assert res.mimetype == "application/problem+json"
    assert [e["field"] for e in res.json["errors"]] == ["phone"]
    assert "138" not in json.dumps(res.json)
    written_with_prefix = create(client, crm, **us_customer(phone="+86 138 0013 8000"))
    assert written_with_prefix.status_code == 201
    assert written_with_prefix.json["phone"] == "+8613800138000"


def test_csv_rows_read_phones_in_their_own_country(client: Any, crm: dict[str, str]) -> None:
    body = (
        "external_ref,full_name,email,phone,country\n"
        "U1,Tim Beaver,tim@example.com,(617) 253-1000,US\n"
        "C1,Chen Jie,chen@example.com,13912345678,CN\n"
    )
    res = client.post(
        "/api/v1/imports", data=body.encode(), headers={**crm, "Content-Type": "text/csv"}
    )
    assert res.status_code == 201, res.json
    assert res.json["result"]["created"] == 2, res.json["result"]
    found = client.get("/api/v1/customers?phone=%2B16172531000", headers=crm).json["items"]
    assert [c["full_name"] for c in found] == ["Tim Beaver"]


def test_birth_date_must_agree_with_the_resident_id(client: Any, crm: dict[str, str]) -> None:
    res = create(client, crm, date_of_birth="1990-04-01")  # the id encodes 1949-12-31
    assert res.status_code == 422, res.json
    assert res.json["errors"] == [
        {"field": "date_of_birth", "message": "does not match the birth date in national_id "
                                              "(GB 11643)"}
    ]  # fmt: skip
    assert "1990" not in json.dumps(res.json) and "1949" not in json.dumps(res.json)
    ok = create(client, crm)
    assert ok.status_code == 201 and ok.json["date_of_birth"] == "1949-12-31"
    # a PATCH of either half is checked against the other, stored half
    url = f"/api/v1/customers/{ok.json['id']}"
    assert client.patch(url, headers=crm, json={"date_of_birth": "1950-01-01"}).status_code == 422
    other_id = "110105195001010012"  # born 1950-01-01, valid check digit
    assert norm.cn_id_valid(other_id)
    assert client.patch(url, headers=crm, json={"national_id": other_id}).status_code == 422
    both = client.patch(url, headers=crm, json={"national_id": other_id,
                                                "date_of_birth": "1950-01-01"})  # fmt: skip
    assert both.status_code == 200, both.json
    # a change to another field does not trip over the pair
    assert client.patch(url, headers=crm, json={"full_name": "A B"}).status_code == 200


def test_language_tags_take_their_canonical_case(client: Any, crm: dict[str, str]) -> None:
    res = create(client, crm, language="en-us")
    assert res.status_code == 201, res.json
    assert res.json["language"] == "en-US"
    for given, expected in (("EN_gb", "en-GB"), ("zh-hans-cn", "zh-Hans-CN"), ("es-419", "es-419"),
                            ("ZH", "zh"), ("de-de-1996", "de-DE-1996")):  # fmt: skip
        assert norm.normalise_language(given) == expected


def test_local_date_forms_are_read_in_the_records_locale(client: Any, crm: dict[str, str]) -> None:
    gb = {"country": "GB", "national_id": None, "phone": None}
    res = create(client, crm, date_of_birth="31/12/1980", **gb)
    assert res.status_code == 201, res.json
    assert res.json["date_of_birth"] == "1980-12-31"
    url = f"/api/v1/customers/{res.json['id']}"
    day_first = client.patch(url, headers=crm, json={"date_of_birth": "04/05/1980"})
    assert day_first.json["date_of_birth"] == "1980-05-04"
    us = client.patch(url, headers=crm, json={"country": "US", "date_of_birth": "04/05/1980"})
    assert us.status_code == 200 and us.json["date_of_birth"] == "1980-04-05"
    only_one_reading = client.patch(url, headers=crm, json={"date_of_birth": "12-31-1980"})
    assert only_one_reading.json["date_of_birth"] == "1980-12-31"
    # no country and no language region: an ambiguous form is refused, an obvious one is read
    unknown = {"country": None, "national_id": None, "phone": None, "language": None,
               "email": "x@example.com", "external_ref": "X-1", "full_name": "N W"}  # fmt: skip
    ambiguous = create(client, crm, date_of_birth="04/05/1980", **unknown)
    assert ambiguous.status_code == 422
    assert ambiguous.json["errors"][0]["field"] == "date_of_birth"
    assert "YYYY-MM-DD" in ambiguous.json["errors"][0]["message"]
    assert create(client, crm, date_of_birth="31/12/1980", **unknown).status_code == 201
    assert create(client, crm, date_of_birth="31/13/1980", **{**unknown, "external_ref": "X-2",
                  "email": "y@example.com"}).status_code == 422  # fmt: skip


def test_demo_data_agrees_with_its_own_resident_ids() -> None:
    checked = 0
    for doc in demo.generate(200):
        if doc.get("national_id"):
            encoded = norm.birth_date_of_id(doc["national_id"])
            assert doc["date_of_birth"] == encoded, doc["external_ref"]
            checked += 1
    assert checked > 50
