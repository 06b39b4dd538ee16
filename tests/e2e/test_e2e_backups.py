"""Backups in a real browser: an admin backs up and verifies the backup by restore, each from the
backups page and followed live on its job page; the DPO then reads the list and downloads the
verification report. Every page is checked with axe-core (zero serious/critical violations)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import make_user
from test_e2e_journey import accessible, run_queued, sign_in, sign_out

pytestmark = pytest.mark.e2e


def test_admin_backs_up_and_verifies_and_the_dpo_reads_the_report(
    app: Any, live_server: str, axe_page: Any, steps: Any
) -> None:
    page, base = axe_page, live_server
    _, admin = make_user(app, "admin", "admin@example.com")
    _, dpo = make_user(app, "dpo", "dpo@example.com")

    # 1. The admin backs up now: a job, followed live until its readable result
    sign_in(page, base, "admin@example.com", admin)
    page.click("nav.side >> text=Backups")
    page.wait_for_url(f"{base}/backups")
    assert "No backups yet." in page.locator("#backups").inner_text()
    accessible(page, "backups (empty)")
    page.click("#backup-now")
    page.wait_for_url(f"{base}/jobs/**")
    run_queued(app, "backup.create")
    page.locator("#job-result").wait_for()  # the job page reloads itself when the job ends
    assert page.locator("#job-state").inner_text() == "succeeded"
    accessible(page, "backup job")
    steps("backup-job")

    # 2. ... then verifies it by restore into a scratch database
    page.goto(f"{base}/backups")
    assert "never verified" in page.locator("#backups").inner_text()
    page.click("#verify-now")
    page.wait_for_url(f"{base}/jobs/**")
    run_queued(app, "backup.verify")
    page.locator("#job-result").wait_for()
    assert page.locator("#job-state").inner_text() == "succeeded"
    page.goto(f"{base}/backups")
    assert "passed" in page.locator("#backups").inner_text()
    assert "passed" in page.locator("#verifications").inner_text()
    accessible(page, "backups (verified)")
    steps("backups-verified", readme="backups")
    sign_out(page, base)

    # 3. The DPO sees the same list read-only and downloads the verification report
    sign_in(page, base, "dpo@example.com", dpo)
    page.goto(f"{base}/backups")
    assert page.locator("#backup-now").count() == 0  # read-only
    with page.expect_download() as download:
        page.click("#download-backup-report")
    assert download.value.suggested_filename.endswith(".pdf")
    accessible(page, "backups (dpo)")
