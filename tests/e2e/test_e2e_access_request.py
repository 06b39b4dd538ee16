"""An access request handled in a real browser, from receipt to its export: the DPO records it
(the person named by email, never in a URL), verifies the identity, completes it, a worker
builds the export, and the DPO downloads the ZIP (once only). Every page is checked with
axe-core."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc, make_user
from test_e2e_journey import accessible, run_queued, sign_in

pytestmark = pytest.mark.e2e


def test_dpo_handles_an_access_request_to_its_export(
    app: Any, live_server: str, axe_page: Any, steps: Any, crm: dict[str, str]
) -> None:
    page, base = axe_page, live_server
    created = app.test_client().post("/api/v1/customers", json=customer_doc(), headers=crm).json
    _, dpo = make_user(app, "dpo", "dpo@example.com")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, "dpo@example.com", dpo)

    page.goto(f"{base}/requests")
    accessible(page, "request queue")
    page.select_option("#kind", "access")
    page.fill("#subject", "alice.example@example.com")
    page.select_option("#jurisdiction", "GDPR")
    page.click("#record-request")
    page.wait_for_selector("#request-state")
    assert page.locator("#request-state").inner_text() == "received"
    assert "alice" not in page.url  # the person's email is in no URL
    assert created["id"] in page.locator("#request-summary").inner_text()  # matched
    accessible(page, "request received")

    page.click("#advance-button")
    page.wait_for_selector("#verification")
    page.fill("#verification", "Passport checked by video call")
    page.click("#advance-button")
    page.wait_for_selector("#request-state:has-text('in_progress')")
    page.click("#advance-button")  # complete: the export is built by a job
    page.wait_for_selector("#request-summary:has-text('export_building')")
    request_url = page.url

    run_queued(app, "requests.export")  # a worker builds the export
    page.goto(request_url)
    page.wait_for_selector("#request-export")
    assert page.locator("#request-state").inner_text() == "completed"
    accessible(page, "request completed")
    steps("access-request-exported", readme="request")
    with page.expect_download() as download:
        page.click("#request-export a")
    data = Path(download.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names, "an empty export"
    again = page.request.get(f"{base}{page.locator('#request-export a').get_attribute('href')}")
    assert again.status == 410  # downloadable once: gone
