"""The DPO's and the auditor's work in a real browser, each page checked with axe-core (zero
serious or critical violations): sign in with password and TOTP, the dashboard, a support agent
finding a customer (masked), a PII scan and the review of a finding, verifying the audit log and
downloading the evidence pack as an auditor, switching to Chinese. A screenshot of every step
is kept in ``tests/e2e/artifacts/`` when a test fails (``GOVERNANCE_SCREENSHOTS=1`` also writes
the README's screenshots to ``docs/screenshots/``)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from conftest import PASSWORD, customer_doc, make_user
from e2e_helpers import axe_violations
from test_e2e_console import totp_now

from governance.bootstrap import deps

pytestmark = pytest.mark.e2e


def sign_in(page: Any, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/login/mfa")
    page.fill("#code", totp_now(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def sign_out(page: Any, base: str) -> None:
    page.click("#sign-out")
    page.wait_for_url(f"{base}/login")


def accessible(page: Any, where: str) -> None:
    bad = axe_violations(page)
    assert not bad, f"{where}: {bad}"


def run_queued(app: Any, kind: str) -> None:
    from datetime import UTC, datetime

    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    with app.app_context():
        job = jobs.claim(db.session, "e2e-worker", datetime.now(UTC), kinds=[kind])
        assert job is not None, f"no queued {kind}"
        done = jobs.run(deps(app).call(db.session), job)
        assert done.state == "succeeded", done.error
        db.session.remove()


def integrate(app: Any) -> None:
    from governance.extensions import db
    from governance.services.auditlog.integrator import integrate_pending

    with app.app_context():
        integrate_pending(db.engine, deps(app).call(db.session).audit)


def test_dpo_support_and_auditor_work_in_the_browser(
    app: Any, live_server: str, axe_page: Any, steps: Any, crm: dict[str, str]
) -> None:
    page, base = axe_page, live_server
    client = app.test_client()
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    note = {"channel": "phone", "occurred_at": "2026-01-01T10:00:00Z",
            "note": "Call her back on 13912345678 about the refund"}  # fmt: skip
    assert client.post(f"/api/v1/customers/{created['id']}/interactions", json=note,
                       headers=crm).status_code == 201  # fmt: skip
    _, dpo = make_user(app, "dpo", "dpo@example.com")
    _, support = make_user(app, "support", "support@example.com")
    _, auditor = make_user(app, "auditor", "auditor@example.com")

    # 1. Sign in with password and TOTP; the dashboard
    page.goto(f"{base}/login")
    accessible(page, "login")
    steps("sign-in", readme="login")
    sign_in(page, base, "dpo@example.com", dpo)
    assert page.locator("[data-figure=customers]").inner_text() == "1"
    accessible(page, "dashboard")
    steps("dashboard", readme="dashboard")

    # 2. A PII scan, then the review of a finding
    page.click("nav.side >> text=PII findings")
    page.click("#start-scan")
    page.wait_for_url(f"{base}/jobs/**")
    run_queued(app, "pii.scan")
    page.locator("#job-result").wait_for()  # live progress: the page reloads when done
    accessible(page, "job")
    steps("scan-job", readme="job")
    page.goto(f"{base}/pii?place=all")
    row = page.locator("#pii-findings-table tr[data-status=open]").first
    finding = row.get_attribute("data-finding")
    row.locator("button", has_text="Confirm").click()
    page.wait_for_selector(f"tr[data-finding='{finding}'][data-status=confirmed]")
    accessible(page, "pii")
    steps("pii-reviewed", readme="pii")
    page.goto(f"{base}/audit")
    accessible(page, "audit")
    steps("audit-log", readme="audit")
    page.goto(f"{base}/jobs")
    accessible(page, "jobs")
    steps("jobs", readme="jobs")
    sign_out(page, base)

    # 3. A support agent finds the customer by email: masked, and the email is in no URL
    sign_in(page, base, "support@example.com", support)
    page.click("nav.side >> text=Customers")
    page.fill("#lookup", "alice.example@example.com")
    page.click("#lookup-form button[type=submit]")
    table = page.locator("#customers").inner_text()
    assert "a***@example.com" in table and "alice.example@example.com" not in table
    assert "alice" not in page.url  # the lookup was POSTed: no personal data in the URL
    accessible(page, "customers")
    steps("support-lookup", readme="customers")
    page.locator("#customers a").first.click()
    page.wait_for_url(f"{base}/customers/{created['id']}")
    assert "a***@example.com" in page.locator("#customer-fields").inner_text()
    accessible(page, "customer")
    steps("customer-masked", readme="customer")
    sign_out(page, base)

    # 4. The auditor verifies the log and downloads the evidence pack
    integrate(app)
    sign_in(page, base, "auditor@example.com", auditor)
    page.click("nav.side >> text=Auditor's corner")
    page.click("#verify-now")
    assert "Verified:" in page.locator("#verify-result").inner_text()
    accessible(page, "audit verified")
    page.goto(f"{base}/auditor")
    accessible(page, "auditor")
    steps("auditor-corner", readme="auditor")
    with page.expect_download() as info:
        page.click("#download-pack")
    with open(info.value.path(), "rb") as fh:
        archive = zipfile.ZipFile(io.BytesIO(fh.read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert "audit/audit-export.jsonl" in manifest["files"]
    assert "reports/pii-discovery.pdf" in manifest["files"]  # the scan above made it possible

    # 5. Switch to Chinese
    page.click("#account-link")
    page.select_option("#locale", "zh_CN")
    page.click("#save-language")
    page.wait_for_url(f"{base}/account")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "语言已保存。" in page.content()
    page.goto(f"{base}/")
    assert page.locator("main h1").inner_text() == "仪表板"
    accessible(page, "dashboard (zh)")
    steps("chinese-dashboard", readme="dashboard-zh")
