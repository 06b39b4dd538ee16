"""The console in a real browser under its Content-Security-Policy: pages arrive with the
policy, the browser reports no violation, and the page behaviour that used to be inline script
(the lookup field switch, a job's live progress) still works from the static script."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import customer_doc, make_user
from test_e2e_console import sign_in

pytestmark = pytest.mark.e2e


def test_console_pages_work_under_the_csp_without_violations(
    app: Any, live_server: str, page: Any, crm: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    created = app.test_client().post("/api/v1/customers", json=customer_doc(), headers=crm).json
    with app.app_context():
        job_id = jobs.submit(deps(app).call(db.session), "import", {"path": "missing.csv"}).id
        db.session.commit()
    _, secret = make_user(app, "dpo", "csp@example.com")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "csp@example.com", secret)

    for path in ("/", "/customers", f"/customers/{created['id']}", "/audit", "/pii", "/reports"):
        response = page.goto(f"{live_server}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert page.locator("main h1").count() == 1, path  # the page rendered
    page.goto(f"{live_server}/api/v1/docs")
    # our own heading; Swagger UI adds its own h1 once the document has loaded
    title = page.get_by_role("heading", name="Governance Server data API", exact=True)
    expect(title).to_be_visible()

    page.goto(f"{live_server}/customers")
    page.select_option("#lookup-field", "phone")
    assert page.locator("#lookup").get_attribute("name") == "phone"  # console.js ran

    page.goto(f"{live_server}/jobs/{job_id}")
    with app.app_context():  # a worker runs the job while its page is open
        jobs.run(deps(app).call(db.session), jobs.get(db.session, job_id))
    expect(page.locator("#job-state")).to_have_text("failed")  # polled by console.js
    page.locator(".flash.error").wait_for()  # reloaded at the end: the failure is shown

    violations = [e for e in errors if "Content Security Policy" in e]
    assert not violations, violations
