"""The console in a real browser: sign in with password and TOTP, browse masked customers,
follow a job's progress, download a report."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import PASSWORD, customer_doc, make_user
from pypdf import PdfReader

pytestmark = pytest.mark.e2e


def totp_now(secret: str) -> str:
    from governance.security.mfa import time_step, totp_at_step

    return totp_at_step(secret, time_step(datetime.now(UTC)))


def sign_in(page: Any, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/login/mfa")
    page.fill("#code", totp_now(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_dpo_signs_in_sees_masked_customers_and_downloads_a_report(
    app: Any, live_server: str, page: Any, crm: dict[str, str]
) -> None:
    client = app.test_client()
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    _, secret = make_user(app, "dpo", "dpo@example.com")
    sign_in(page, live_server, "dpo@example.com", secret)
    assert page.locator("[data-figure=customers]").inner_text() == "1"
    page.click("text=Customers")
    row = page.locator("#customers tr").nth(1)
    assert "a***@example.com" in row.inner_text()
    assert "alice.example@example.com" not in page.content()
    row.locator("a").click()
    page.wait_for_url(f"{live_server}/customers/{created['id']}")
    assert "A*** E***" in page.content()
    page.click("text=Reports")
    with page.expect_download() as info:
        page.click("#download-data-inventory")
    with open(info.value.path(), "rb") as fh:
        pdf = PdfReader(io.BytesIO(fh.read()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Data Inventory Report" in text and "customers.email" in text


def test_wrong_code_shows_a_readable_error(app: Any, live_server: str, page: Any) -> None:
    make_user(app, "auditor", "aud@example.com")
    page.goto(f"{live_server}/login")
    page.fill("#email", "aud@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.fill("#code", "000000")
    page.click("button[type=submit]")
    assert "That code is not valid." in page.locator(".flash.error").inner_text()


def test_first_sign_in_enrols_totp_and_shows_recovery_codes(
    app: Any, live_server: str, page: Any
) -> None:
    import pyotp

    make_user(app, "support", "sup@example.com", enrol=False)
    page.goto(f"{live_server}/login")
    page.fill("#email", "sup@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/login/mfa")
    assert page.locator("svg").count() >= 1
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("text=I have saved them")
    page.wait_for_url(f"{live_server}/")
    assert "Customers" in page.locator("nav.side").inner_text()
    assert "Users" not in page.locator("nav.side").inner_text()


def test_dpo_reveals_a_customer_with_a_recorded_reason(
    app: Any, live_server: str, page: Any, crm: dict[str, str]
) -> None:
    from governance.extensions import db
    from governance.models import AuditEntry

    created = app.test_client().post("/api/v1/customers", json=customer_doc(), headers=crm).json
    _, secret = make_user(app, "dpo", "dpo2@example.com")
    sign_in(page, live_server, "dpo2@example.com", secret)
    page.goto(f"{live_server}/customers/{created['id']}")
    assert "alice.example@example.com" not in page.content()
    page.fill("#reason", "DSAR-2026-014 access request")
    page.click("#reveal-form button")
    assert "alice.example@example.com" in page.content()
    with app.app_context():
        entry = (
            db.session.query(AuditEntry)
            .filter_by(action="customer.read")
            .order_by(AuditEntry.seq.desc())
            .first()
        )
        assert '"reveal_reason":"DSAR-2026-014 access request"' in entry.leaf


def test_admin_rotates_the_master_key_from_the_keys_page_and_signs_out(
    app: Any, live_server: str, page: Any, crm: dict[str, str]
) -> None:
    app.test_client().post("/api/v1/customers", json=customer_doc(), headers=crm)
    _, secret = make_user(app, "admin", "root@example.com")
    sign_in(page, live_server, "root@example.com", secret)
    page.click("nav >> text=Keys")
    page.wait_for_url(f"{live_server}/keys")
    table = page.locator("#key-versions").inner_text()
    assert "current" in table and "active" in table
    assert page.locator("#pending").inner_text() == "0"
    page.once("dialog", lambda dialog: dialog.accept())  # the confirmation the form asks
    page.click("#rotate button[type=submit]")
    page.wait_for_url(f"{live_server}/jobs/**")
    assert "keys.rotate" in page.content()
    page.goto(f"{live_server}/keys")
    assert int(page.locator("#pending").inner_text()) >= 2  # the customer's and the admin's
    assert "2" in page.locator("#key-versions tr").nth(2).inner_text()
    page.click("#sign-out")
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/keys")
    page.wait_for_url(f"{live_server}/login**")
