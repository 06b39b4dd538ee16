"""The console drives a request from receipt to completion, and a retention plan, hold and run."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from governance.models import Customer, SubjectRequest
from tests.conftest import login_as
from tests.requests.req_helpers import new_customer

EMAIL = "alice.example@example.com"


def _csrf(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_console_erasure_request_from_receipt_to_certificate(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call)
    login_as(app, client, "dpo")
    token = _csrf(client, "/requests")
    made = client.post("/requests", data={"csrf_token": token, "kind": "erasure",
                                          "subject_key": "email", "subject": EMAIL,
                                          "jurisdiction": "PIPL"})  # fmt: skip
    assert made.status_code == 302
    path = made.headers["Location"]
    page = client.get(path).get_data(as_text=True)
    assert "received" in page and EMAIL not in page
    for form in ({"to": "verifying"}, {"to": "in_progress", "verification": "ID card seen"},
                 {"to": "completed"}):  # fmt: skip
        answer = client.post(path, data={"csrf_token": token, **form})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    page = client.get(path).get_data(as_text=True)
    assert 'id="request-certificate"' in page, page[:2000]
    assert call.session.get(Customer, customer) is None
    rid = call.session.scalars(select(SubjectRequest.id)).one()
    call.session.rollback()
    pdf = client.get(f"/reports/erasure-certificate/{rid}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert customer in text and "Erasure Certificate" in text
    queue = client.get("/requests?state=completed").get_data(as_text=True)
    assert rid[:8] in queue


def test_console_retention_plan_hold_and_run(app: Any, client: Any, call: Any) -> None:
    customer = new_customer(call)
    login_as(app, client, "dpo")
    token = _csrf(client, "/retention")
    assert client.get("/retention/plan").status_code == 200
    held = client.post("/retention/holds", data={"csrf_token": token, "customer_id": customer,
                                                 "reason": "regulator inquiry"})  # fmt: skip
    assert held.status_code == 302
    page = client.get("/retention").get_data(as_text=True)
    assert "regulator inquiry" in page
    run = client.post("/retention/runs", data={"csrf_token": token})
    assert run.status_code == 302 and "/jobs/" in run.headers["Location"]
    report = client.get("/reports/retention")
    assert report.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.data)).pages)
    assert "Retention Report" in text and "regulator inquiry" in text
    dashboard = client.get("/").get_data(as_text=True)
    assert "Requests open" in dashboard and "Retention sweeps" in dashboard
