"""A breach driven from detection to closure in a real browser by the DPO, each page checked with
axe-core: record the incident, move it step by step, find who a leaked token read (from the audit
log), contain it (revoke the token, with confirmation), complete the notification task, download
the authority notice, close. The auditor then reads the incident and the breach register."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import customer_doc, make_token, make_user
from test_e2e_journey import accessible, run_queued, sign_in, sign_out

from governance.extensions import db

pytestmark = pytest.mark.e2e


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _move(page: Any, to: str) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"#move-{to} button[type=submit]")
    page.wait_for_selector(f"#incident-state:text('{to}')")


def test_a_dpo_drives_an_incident_from_detection_to_closure(
    app: Any, live_server: str, axe_page: Any, steps: Any
) -> None:
    from governance.models import ApiToken

    page, base = axe_page, live_server
    client = app.test_client()
    token = make_token(app, "crm_app", "leaky-crm")
    crm = {"Authorization": f"Bearer {token}", "X-Purpose": "support"}
    german = client.post(
        "/api/v1/customers",
        headers=crm,
        json=customer_doc(
            country="DE",
            external_ref="DE-1",
            national_id=None,
            phone="+49 1512 3456789",
            language="de",
        ),
    ).json["id"]
    assert client.get(f"/api/v1/customers/{german}", headers=crm).status_code == 200
    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    _, dpo = make_user(app, "dpo", "dpo@example.com")
    _, auditor = make_user(app, "auditor", "auditor@example.com")

    sign_in(page, base, "dpo@example.com", dpo)
    page.goto(f"{base}/incidents")
    now = datetime.now(UTC)
    page.fill("#i-title", "CRM token published")
    page.fill("#i-description", "A CRM token was found in a public repository.")
    page.fill("#i-detected", _local(now - timedelta(hours=2)))
    page.fill("#i-aware", _local(now - timedelta(hours=1)))
    page.click("#new-incident button[type=submit]")
    page.wait_for_selector("#incident-state:text('detected')")
    accessible(page, "incident")
    steps("incident recorded")
    incident_url = page.url
    _move(page, "triage")

    page.select_option("#a-scope", "actor")
    page.select_option("#a-type", "token")
    page.fill("#a-id", token_id)
    page.fill("#a-from", _local(now - timedelta(days=1)))
    page.click("#analyse button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/.*"))
    run_queued(app, "breach.analysis")
    page.goto(incident_url)
    page.wait_for_selector("#analysis-message:has-text('1 affected customer')")
    assert page.inner_text("#task-GDPR-authority")  # the GDPR clock now runs
    steps("analysis: who the token read")

    page.fill("#t-revoke_token", token_id)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#contain-revoke_token button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert client.get("/api/v1/customers", headers=crm).status_code == 401
    _move(page, "contained")
    _move(page, "assessed")

    page.fill("#complete-GDPR-authority input[name=completed_at]", _local(datetime.now(UTC)))
    page.fill("#complete-GDPR-authority input[name=channel]", "DPA portal")
    page.fill("#complete-GDPR-authority input[name=reference]", "BfDI-2026-0042")
    page.click("#complete-GDPR-authority button[type=submit]")
    page.wait_for_selector("#task-GDPR-authority:has-text('BfDI-2026-0042')")
    accessible(page, "incident with tasks")
    for target in ("individuals",):
        row = f"#complete-GDPR-{target}"
        if page.query_selector(row):
            page.fill(f"{row} input[name=completed_at]", _local(datetime.now(UTC)))
            page.fill(f"{row} input[name=channel]", "email")
            page.fill(f"{row} input[name=reference]", "notice batch 1")
            page.click(f"{row} button[type=submit]")
            page.wait_for_selector(f"#task-GDPR-{target}:has-text('notice batch 1')")
    with page.expect_download() as download:
        page.click("#doc-authority-GDPR")
    assert download.value.suggested_filename.endswith(".pdf")
    _move(page, "notified")
    _move(page, "closed")
    steps("incident closed")
    sign_out(page, base)

    sign_in(page, base, "auditor@example.com", auditor)
    page.goto(f"{base}/incidents")
    page.wait_for_selector("#incidents:has-text('CRM token published')")
    accessible(page, "incidents (auditor)")
    page.goto(incident_url)
    page.wait_for_selector("#timeline")
    assert page.query_selector("#containment") is None
