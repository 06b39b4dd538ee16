"""The consent report PDF, read back as text (Chinese included), and in the evidence pack."""

from __future__ import annotations

import io
from typing import Any

from consent_helpers import create, grant, withdraw
from pypdf import PdfReader

from governance.services.evidence.pack import REPORTS


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_consent_report_reads_back(app: Any, client: Any, crm: dict[str, str]) -> None:
    from conftest import login_as

    cid = create(client, crm, marketing=None)
    grant(client, crm, cid, "marketing_email")
    withdraw(client, crm, cid, "marketing_email")
    grant(client, crm, cid, "marketing_sms")
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    res = dpo.get("/api/v1/reports/consent")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    text = text_of(res.data)
    assert "Consent Report" in text and "marketing_sms" in text and "Notices" in text
    assert "通过短信发送营销信息" in text  # the purpose's Chinese description, in STSong-Light
    assert "consent" in REPORTS
