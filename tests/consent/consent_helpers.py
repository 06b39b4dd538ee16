"""Helpers of the consent tests."""

from __future__ import annotations

from typing import Any

from conftest import customer_doc


def create(client: Any, crm: dict[str, str], **overrides: Any) -> str:
    res = client.post("/api/v1/customers", json=customer_doc(**overrides), headers=crm)
    assert res.status_code == 201, res.json
    return str(res.json["id"])


def grant(client: Any, crm: dict[str, str], cid: str, purpose: str, **extra: Any) -> Any:
    body = {"purpose": purpose, "action": "grant", "source": "web_form", "notice_version": "1"}
    return client.post(f"/api/v1/customers/{cid}/consents", json={**body, **extra}, headers=crm)


def withdraw(client: Any, crm: dict[str, str], cid: str, purpose: str) -> Any:
    body = {"purpose": purpose, "action": "withdraw", "source": "app"}
    return client.post(f"/api/v1/customers/{cid}/consents", json=body, headers=crm)
