"""Consent in a real browser: the DPO opens the Consent page (totals, the chart, the notices)
and a customer's consent history, then follows a receipt link; no serious axe violation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import customer_doc, make_user
from e2e_helpers import axe_violations
from test_e2e_console import sign_in

pytestmark = pytest.mark.e2e


def test_dpo_sees_consent_totals_history_and_a_receipt(
    app: Any, live_server: str, axe_page: Any, crm: dict[str, str]
) -> None:
    page = axe_page
    client = app.test_client()
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    body = {"purpose": "marketing_sms", "action": "grant", "source": "web_form",
            "notice_version": "1"}  # fmt: skip
    event = client.post(f"/api/v1/customers/{created['id']}/consents", json=body, headers=crm).json
    _, secret = make_user(app, "dpo", "dpo-consent@example.com")
    sign_in(page, live_server, "dpo-consent@example.com", secret)
    page.click("nav >> text=Consent")
    page.wait_for_url(f"{live_server}/consent")
    assert page.locator("#consent-totals").is_visible()
    assert page.locator("#consent-monthly svg").count() == 1
    assert "marketing_sms" in page.locator("#consent-totals").inner_text()
    assert axe_violations(page) == []
    page.goto(f"{live_server}/customers/{created['id']}")
    history = page.locator("#consent-history")
    assert "marketing_sms" in history.inner_text() and "web_form" in history.inner_text()
    assert axe_violations(page) == []
    page.goto(f"{live_server}/api/v1/consents/{event['id']}/receipt")
    receipt = json.loads(page.locator("body").inner_text())
    assert receipt["event"]["id"] == event["id"] and receipt["inclusion"]["proof"] is not None


def test_support_records_then_withdraws_a_consent_from_the_customer_page(
    app: Any, live_server: str, axe_page: Any, crm: dict[str, str]
) -> None:
    page = axe_page
    client = app.test_client()
    doc = customer_doc(email="paper.consent@example.com")
    doc.pop("marketing")  # nothing in the ledger yet
    created = client.post("/api/v1/customers", json=doc, headers=crm).json
    _, secret = make_user(app, "support", "support-consent@example.com")
    sign_in(page, live_server, "support-consent@example.com", secret)
    page.goto(f"{live_server}/customers/{created['id']}")
    assert "p***@example.com" in page.locator("#customer-fields").inner_text()  # masked
    form = page.locator("#consent-form")
    form.locator("select[name=purpose]").select_option("marketing_email")
    form.locator("select[name=action]").select_option("grant")
    form.locator("select[name=source]").select_option("paper")
    form.locator("input[name=evidence_ref]").fill("FORM-2026-204")
    assert axe_violations(page) == []
    form.locator("#record-consent").click()
    page.wait_for_url(f"{live_server}/customers/{created['id']}#consent")
    assert "marketing_email granted" in page.locator(".flash.ok").inner_text()
    history = page.locator("#consent-history").inner_text()
    assert "marketing_email" in history and "paper" in history

    form = page.locator("#consent-form")
    form.locator("select[name=purpose]").select_option("marketing_email")
    form.locator("select[name=action]").select_option("withdraw")
    form.locator("select[name=notice_version]").select_option("")
    form.locator("#record-consent").click()
    page.wait_for_url(f"{live_server}/customers/{created['id']}#consent")
    assert "marketing_email withdrawn" in page.locator(".flash.ok").inner_text()
    state = client.get(f"/api/v1/customers/{created['id']}/consents", headers=crm).json
    assert state["purposes"]["marketing_email"]["state"] == "withdrawn"
    assert [e["action"] for e in state["events"]] == ["grant", "withdraw"]
