"""Data-quality summary and the data-inventory PDF through the API."""

from __future__ import annotations

import io
from typing import Any

from conftest import customer_doc, login_as
from pypdf import PdfReader

from governance.models import AuditEntry


def test_quality_summary_counts_completeness_and_duplicates(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    client.post(
        "/api/v1/customers",
        json=customer_doc(
            external_ref="CRM-2",
            email="b@example.com",
            phone=None,
            national_id=None,
            full_name="Bob",
            date_of_birth=None,
        ),
        headers=crm,
    )
    login_as(app, client, "analyst")
    res = client.get("/api/v1/quality")
    assert res.status_code == 200, res.json
    body = res.json
    assert body["customers"] == 2
    assert body["fields"]["phone"] == {"filled": 1, "completeness": 0.5, "invalid": 0}
    assert body["fields"]["full_name"]["completeness"] == 1.0
    assert body["duplicate_groups"] == {"email": 0, "phone": 0, "national_id": 0, "name_dob": 0}
    assert call.session.query(AuditEntry).filter_by(action="quality.summary").count() == 1


def test_data_inventory_pdf_reads_back(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    login_as(app, client, "auditor")
    res = client.get("/api/v1/reports/data-inventory")
    assert res.status_code == 200
    assert res.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(res.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Data Inventory Report" in text
    assert "customers.national_id" in text and "interactions.note" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Alice" not in text and "alice.example" not in text
    entry = call.session.query(AuditEntry).filter_by(action="report.download").one()
    assert entry.outcome == "allowed"
