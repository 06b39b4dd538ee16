"""One reader cannot stall the server: large reports and summaries are jobs, probes never wait."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc, login_as, make_app, make_token
from pypdf import PdfReader

from governance.models import AuditEntry, Job
from governance.services.jobs import queue as jobs


@pytest.fixture
def small_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """An app whose inline limits are tiny, so a handful of rows counts as large data."""
    app = make_app(
        database_url, tmp_path / "instance", REPORT_INLINE_ENTRIES=3, QUALITY_INLINE_CUSTOMERS=1
    )
    yield app
    from governance.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _customers(app: Any, client: Any, n: int, first: int = 0) -> None:
    crm = {"Authorization": f"Bearer {make_token(app, 'crm_app')}", "X-Purpose": "support"}
    for i in range(first, first + n):
        doc = customer_doc(external_ref=f"R-{i}", email=f"c{i}@example.com", phone=None,
                           national_id=None, full_name=f"Person {i}")  # fmt: skip
        assert client.post("/api/v1/customers", json=doc, headers=crm).status_code == 201


def _run_queued(app: Any) -> None:
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():
        while jobs.tick(deps(app).call(db.session), "test-worker") is not None:
            pass
        db.session.remove()


def test_an_audit_report_over_a_large_log_is_a_job_then_the_pdf(small_app: Any) -> None:
    client = small_app.test_client()
    _customers(small_app, client, 2)
    login_as(small_app, client, "auditor")
    res = client.get("/api/v1/reports/audit-trail?from=2000-01-01")
    assert res.status_code == 202, res.get_data(as_text=True)
    assert res.json["kind"] == "report.audit-trail" and res.json["state"] == "queued"
    follow = res.headers["Location"]
    assert follow == f"/api/v1/reports/audit-trail?job={res.json['id']}"
    assert client.get(follow).status_code == 202  # not built yet
    _run_queued(small_app)
    pdf = client.get(follow)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "customer.create" in text
    done = client.get(f"/api/v1/jobs/{res.json['id']}", headers={})
    assert "_pdf" not in done.get_data(as_text=True)  # the PDF never rides along in job JSON
    other = small_app.test_client()
    login_as(small_app, other, "auditor", "other-auditor@example.com")
    assert other.get(follow).status_code == 404  # another auditor's report job does not exist


def test_the_console_follows_a_report_job(small_app: Any) -> None:
    client = small_app.test_client()
    _customers(small_app, client, 2)
    login_as(small_app, client, "dpo")
    res = client.get("/audit/report")
    assert res.status_code == 202
    page = res.get_data(as_text=True)
    assert 'id="report-pending"' in page and 'id="report-follow"' in page
    job_id = page.split('data-job-id="')[1].split('"')[0]
    _run_queued(small_app)
    pdf = client.get(f"/audit/report?job={job_id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_the_quality_summary_is_kept_until_a_customer_changes(
    app: Any, client: Any, call: Any
) -> None:
    _customers(app, client, 2)
    login_as(app, client, "analyst")
    first = client.get("/api/v1/quality")
    second = client.get("/api/v1/quality")
    assert first.status_code == second.status_code == 200
    assert first.json["customers"] == 2 and second.json == first.json
    call.session.rollback()
    computed = call.session.query(Job).filter_by(kind="quality.summary", state="succeeded")
    assert computed.count() == 1  # the second call decrypted nothing
    reads = call.session.query(AuditEntry).filter_by(action="quality.summary").count()
    assert reads == 2  # but each read is audited
    call.session.rollback()
    _customers(app, client, 1, first=2)
    third = client.get("/api/v1/quality")
    assert third.json["customers"] == 3


def test_the_quality_summary_of_a_large_store_is_a_job(small_app: Any) -> None:
    client = small_app.test_client()
    _customers(small_app, client, 2)
    login_as(small_app, client, "analyst")
    res = client.get("/api/v1/quality")
    assert res.status_code == 202 and res.json["kind"] == "quality.summary"
    follow = res.headers["Location"]
    assert client.get(follow).status_code == 202
    _run_queued(small_app)
    done = client.get(follow)
    assert done.status_code == 200 and done.json["customers"] == 2
    assert client.get("/api/v1/quality").json["customers"] == 2  # kept: no new job


def test_health_probes_never_wait_for_a_writer_held_open(app: Any, client: Any) -> None:
    """A transaction holding the write lock (SQLite) or row locks (PostgreSQL) stays open while
    the probes answer; were they queued behind it they would time out into 503."""
    from governance.bootstrap import deps
    from governance.extensions import db

    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with app.app_context():
            c = deps(app).call(db.session)
            c.audit.record(c.session, c.actor, "test.long_writer", now=c.now())
            holding.set()
            release.wait(120)
            db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        health = client.get("/healthz")
        ready = client.get("/readyz")
        still_held = not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join(30)
    assert health.status_code == 200, health.json
    assert ready.status_code == 200 and ready.json["ready"] is True
    assert ready.json["backups"]["state"] == "off"  # read without waiting for the writer
    assert still_held
