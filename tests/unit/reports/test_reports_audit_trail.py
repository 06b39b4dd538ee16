"""Tests of the audit-trail report, read back from the PDF with pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from reports import (
    AuditEntryRow,
    AuditTrailReport,
    CheckpointRef,
    ReportDataError,
    VerificationResult,
    build_audit_trail_report,
)
from reports.audit_trail import count_by

START = datetime(2025, 2, 1, tzinfo=UTC)
ENTRY_HEADER = "Seq Time (UTC) Actor Role Action Resource / subject Purpose Outcome"
ROOT = "5d2f" * 16
ACTORS = [("dpo.li", "dpo"), ("app:crm-web", "service"), ("auditor.chen", "auditor")]
ACTIONS = ["customer.read", "customer.update", "login", "report.download"]


def pages_text(pdf: bytes) -> list[str]:
    """Text of each page, whitespace collapsed so table cells read as one line."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def entries(count: int) -> list[AuditEntryRow]:
    rows = []
    for i in range(count):
        actor, role = ACTORS[i % 3]
        rows.append(
            AuditEntryRow(
                seq=i + 1,
                timestamp=START + timedelta(minutes=7 * i),
                actor=actor,
                role=role,
                action=ACTIONS[i % 4],
                resource="customer",
                subject=f"S{i + 1:05d}",
                purpose="support" if i % 2 else "",
                outcome="denied" if i % 10 == 9 else "allowed",
            )
        )
    return rows


def verified(size: int) -> VerificationResult:
    signed_at = datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
    checkpoint = CheckpointRef(size, ROOT, signed_at, "ed25519:5b1c")
    message = f"all {size} entries match the signed checkpoint"
    return VerificationResult(True, message, size, checkpoint)


def report(count: int = 20, **changes: object) -> AuditTrailReport:
    data = AuditTrailReport(
        generated_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        period_start=START,
        period_end=datetime(2025, 3, 1, tzinfo=UTC),
        entries=entries(count),
        verification=verified(count),
    )
    return replace(data, **changes)


def test_report_shows_period_summary_and_entries() -> None:
    pdf = build_audit_trail_report(report())
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    assert "Audit Trail Report" in pages[0]
    assert "2025-02-01 00:00:00 UTC to 2025-03-01 00:00:00 UTC" in pages[0]
    body = " ".join(pages[1:])
    for expected in (
        "Entries in period 20",
        "Distinct actors 3",
        "Outcome: allowed 18",
        "Outcome: denied 2",
    ):
        assert expected in body
    assert (
        "2 2025-02-01 00:07:00 app:crm-web service customer.update customer S00002 "
        "support allowed" in body
    )
    assert "1 2025-02-01 00:00:00 dpo.li dpo customer.read customer S00001 - allowed" in body
    assert (
        "10 2025-02-01 01:03:00 dpo.li dpo customer.update customer S00010 support denied" in body
    )


def test_summary_by_action_and_actor_is_counted_from_entries() -> None:
    body = " ".join(pages_text(build_audit_trail_report(report())))
    assert "Action Entries customer.read 5 customer.update 5 login 5 report.download 5" in body
    assert "Actor Entries app:crm-web 7 dpo.li 7 auditor.chen 6" in body
    assert count_by(["b", "a", "b"]) == {"b": 2, "a": 1}


def test_verification_result_names_the_checkpoint() -> None:
    body = " ".join(pages_text(build_audit_trail_report(report())))
    assert "Verified: all 20 entries match the signed checkpoint" in body
    for expected in (
        "Verified tree size 20 entries",
        "Checkpoint tree size 20",
        f"Checkpoint root hash {ROOT}",
        "Checkpoint time 2025-02-28 23:00:00 UTC",
        "Signing key id ed25519:5b1c",
    ):
        assert expected in body


def test_failed_or_missing_verification_is_stated() -> None:
    failed = VerificationResult(False, "entry 7 does not match its leaf hash", 6, None)
    pages = pages_text(build_audit_trail_report(report(verification=failed)))
    assert "Verification FAILED" in pages[0]
    body = " ".join(pages)
    assert "Verification FAILED: entry 7 does not match its leaf hash" in body
    assert "Checkpoint none: no signed checkpoint was available" in body
    body = " ".join(pages_text(build_audit_trail_report(report(verification=None))))
    assert "Log verification was not run for this report." in body


def test_truncated_listing_uses_the_given_totals() -> None:
    data = report(
        10,
        total_entries=2000,
        counts_by_action={"customer.read": 1500, "login": 500},
        counts_by_actor={"app:crm-web": 2000},
        counts_by_outcome={"allowed": 1990, "denied": 10},
    )
    body = " ".join(pages_text(build_audit_trail_report(data)))
    assert "The entry listing below shows 10 of 2,000 entries." in body
    assert "Action Entries customer.read 1,500 login 500" in body
    assert "Distinct actors 1" in body and "Outcome: denied 10" in body


def test_footer_page_numbers_match_the_page_count() -> None:
    pages = pages_text(build_audit_trail_report(report(120)))
    assert len(pages) >= 4
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_long_listing_splits_across_pages_with_the_header_repeated() -> None:
    pages = pages_text(build_audit_trail_report(report(500, verification=verified(500))))
    with_rows = [text for text in pages if "customer S00" in text]
    assert len(with_rows) >= 8
    assert all(ENTRY_HEADER in text for text in with_rows)
    body = " ".join(pages)
    assert all(f"customer S{seq:05d}" in body for seq in range(1, 501))


def test_empty_period_still_renders_with_a_clear_sentence() -> None:
    pdf = build_audit_trail_report(report(0, verification=None))
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    body = " ".join(pages)
    assert "No entries in this period." in body
    assert "Entries in period 0" in body
    assert ENTRY_HEADER not in body
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_inconsistent_input_is_refused() -> None:
    with pytest.raises(ReportDataError, match="period_end is before period_start"):
        build_audit_trail_report(report(period_end=START - timedelta(days=1)))
    with pytest.raises(ReportDataError, match="total_entries"):
        build_audit_trail_report(report(20, total_entries=5))
    with pytest.raises(ReportDataError, match="negative"):
        build_audit_trail_report(report(counts_by_action={"login": -1}))
