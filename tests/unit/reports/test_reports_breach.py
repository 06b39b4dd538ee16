"""reports/breach.py: every builder's PDF read back as text (Chinese included)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from reports import breach
from reports.style import ReportDataError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def _notice(language: str, what: str) -> breach.IndividualNotice:
    return breach.IndividualNotice(
        NOW,
        "inc-1",
        "cust-1",
        language,
        what,
        ["email", "phone"],
        "Phishing.",
        "Token revoked.",
        "Change passwords.",
        "dpo@example.com",
    )


def test_the_individual_notice_in_english_and_chinese() -> None:
    en = _text(breach.build_individual_notice(_notice("en", "A token leaked. " * 40)))
    assert "security incident involving your personal data" in en
    assert "cust-1" in en and "dpo@example.com" in en and "email; phone" in en
    zh = _text(breach.build_individual_notice(_notice("zh", "一份数据库导出文件被泄露。" * 30)))
    assert "涉及您个人信息的安全事件" in zh and "您可以采取的措施" in zh
    assert "一份数据库导出文件被泄露" in zh  # long Chinese text wraps between characters
    with pytest.raises(ReportDataError):
        breach.build_individual_notice(_notice("fr", "x"))


def test_authority_notice_incident_report_and_register() -> None:
    notice = breach.AuthorityNotice(
        NOW,
        "inc-1",
        "Token leak",
        "GDPR",
        "EU GDPR",
        "Lead supervisory authority",
        [("Nature of the breach", "A token leaked."), ("Likely consequences", "")],
        "2026-03-05T09:00:00Z",
    )
    text = _text(breach.build_authority_notice(notice))
    assert "Lead supervisory authority" in text and "A token leaked." in text
    assert "Not yet known; will be supplemented." in text
    report = breach.IncidentReport(
        NOW,
        "inc-1",
        "Token leak",
        "closed",
        [("Cause", "A push")],
        [("Affected customers", "2")],
        [["GDPR", "authority", "2026-03-05", "done", "2026-03-03", "portal R-1"]],
        [breach.TimelineRow("2026-03-02", "detected -> triage", "dpo")],
    )
    text = _text(breach.build_incident_report(report))
    assert "Timeline" in text and "detected -> triage" in text and "portal R-1" in text
    rows = [
        breach.RegisterRow(
            "01a2-inc", "Token leak", "closed", "2026-03-02", 2, "high", "GDPR authority 2026-03-03"
        )
    ]
    text = _text(breach.build_breach_register(NOW, rows))
    assert "Token leak" in text and "GDPR authority" in text
    assert "No incident has been recorded" in _text(breach.build_breach_register(NOW, []))
