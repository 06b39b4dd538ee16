"""In a real browser: a DPO drives an erasure request from receipt to its certificate, and a
retention plan and run (with a legal hold in the way)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import customer_doc, make_user
from e2e_helpers import axe_violations
from test_e2e_console import sign_in

pytestmark = pytest.mark.e2e


def test_dpo_takes_a_request_to_completion_and_runs_retention(
    app: Any, live_server: str, axe_page: Any, crm: dict[str, str]
) -> None:
    page = axe_page
    client = app.test_client()
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    kept = client.post("/api/v1/customers", json=customer_doc(
        external_ref="CRM-2", email="bob@example.com", phone=None, national_id=None,
        full_name="Bob Example"), headers=crm).json  # fmt: skip
    _, secret = make_user(app, "dpo", "dpo@example.com")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, "dpo@example.com", secret)
    page.goto(f"{live_server}/requests")
    assert axe_violations(page) == []
    page.select_option("#kind", "erasure")
    page.fill("#subject", "alice.example@example.com")
    page.select_option("#jurisdiction", "GDPR")
    page.click("#record-request")
    page.wait_for_selector("#request-state")
    assert page.locator("#request-state").inner_text() == "received"
    assert axe_violations(page) == []
    page.click("#advance-button")
    page.wait_for_selector("#verification")
    page.fill("#verification", "ID card checked at the counter")
    page.click("#advance-button")
    page.wait_for_selector("#request-state:has-text('in_progress')")
    page.click("#advance-button")
    page.wait_for_selector("#request-certificate")
    assert page.locator("#request-state").inner_text() == "completed"
    assert "alice.example@example.com" not in page.content()
    with page.expect_download() as info:
        page.click("text=Erasure certificate (JSON)")
    with open(info.value.path(), encoding="utf-8") as fh:
        assert created["id"] in fh.read()

    page.goto(f"{live_server}/retention")
    assert axe_violations(page) == []
    page.fill("#hold-customer", kept["id"])
    page.fill("#hold-reason", "pending litigation")
    page.click("#place-hold")
    page.wait_for_selector("#legal-holds:has-text('pending litigation')")
    page.click("#show-plan")
    page.wait_for_selector("#retention-plan")
    assert "inactive-customers" in page.locator("#retention-plan").inner_text()
    assert axe_violations(page) == []
    page.click("#run-sweep")
    page.wait_for_url(f"{live_server}/jobs/*")
