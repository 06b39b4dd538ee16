"""Audit-trail report periods: a date range is inclusive, so ``from`` = ``to`` is one day."""

from __future__ import annotations

import io
from typing import Any

from conftest import customer_doc, login_as
from pypdf import PdfReader


def _pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_a_one_day_report_covers_that_whole_day(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    today = call.now().date().isoformat()
    login_as(app, client, "auditor")
    res = client.get(f"/api/v1/reports/audit-trail?from={today}&to={today}")
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.mimetype == "application/pdf"
    assert "customer.create" in _pdf_text(res.data)


def test_the_to_date_is_included(app: Any, client: Any, crm: dict[str, str], call: Any) -> None:
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    today = call.now().date()
    start = today.replace(day=1).isoformat() if today.day > 1 else today.isoformat()
    login_as(app, client, "auditor")
    res = client.get(f"/api/v1/reports/audit-trail?from={start}&to={today.isoformat()}")
    assert res.status_code == 200
    assert "customer.create" in _pdf_text(res.data)


def test_a_reversed_period_in_the_console_leads_back_to_the_form(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.get("/audit/report?from=2026-02-01&to=2026-01-01")
    assert res.status_code == 302 and res.headers["Location"].startswith("/audit")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "must not be before" in page and 'id="audit-report-period"' in page
