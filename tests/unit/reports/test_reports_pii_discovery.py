"""Tests of the PII discovery report, read back from the PDF with pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from reports import (
    InventoryRow,
    OpenItem,
    PiiDiscoveryReport,
    ReportDataError,
    TrendRow,
    build_pii_discovery_report,
)

OPEN_HEADER = "Finding Table Column Record Entity type Score Status"


def pages_text(pdf: bytes) -> list[str]:
    """Text of each page, whitespace collapsed so table cells read as one line."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def open_items(count: int) -> list[OpenItem]:
    types = ["PHONE_NUMBER", "CN_RESIDENT_ID", "CREDIT_CARD"]
    return [
        OpenItem(1000 + i, "interactions", "note", 50000 + i, types[i % 3], 0.85, "new")
        for i in range(count)
    ]


def report(**changes: object) -> PiiDiscoveryReport:
    data = PiiDiscoveryReport(
        generated_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        scan_id="scan-0042",
        scanned_at=datetime(2025, 3, 1, 2, 0, tzinfo=UTC),
        inventory=[
            InventoryRow("customers", "email", "EMAIL_ADDRESS", 11519, 12480, 0.923),
            InventoryRow("interactions", "note", "PHONE_NUMBER", 4210, 88421, 0.0476),
            InventoryRow("interactions", "note", "CN_RESIDENT_ID", 311, 88421, 0.0035),
            InventoryRow("orders", "comment", "CN_BANK_CARD", 14, 48211, 0.00029),
        ],
        findings_by_entity={
            "PHONE_NUMBER": 4390,
            "EMAIL_ADDRESS": 11519,
            "CN_RESIDENT_ID": 311,
            "CN_BANK_CARD": 14,
            "CN_USCC": 0,
        },
        trend=[
            TrendRow("PHONE_NUMBER", 4100, 4390),
            TrendRow("EMAIL_ADDRESS", 11600, 11519),
            TrendRow("CN_RESIDENT_ID", 311, 311),
            TrendRow("CN_BANK_CARD", None, 14),
        ],
        open_items=open_items(3),
        previous_scan_id="scan-0041",
        previous_scanned_at=datetime(2025, 2, 22, 2, 0, tzinfo=UTC),
    )
    return replace(data, **changes)


def test_report_shows_scan_inventory_and_findings() -> None:
    pdf = build_pii_discovery_report(report())
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    assert "PII Discovery Report" in pages[0] and "scan-0042" in pages[0]
    body = " ".join(pages[1:])
    for expected in (
        "Previous scan scan-0041 at 2025-02-22 02:00:00 UTC",
        "Columns holding personal data 3",
        "Findings 16,234",
        "Entity types found 4",
        "Open items 3",
    ):
        assert expected in body
    assert "interactions note CN_RESIDENT_ID 311 88,421 0.4%" in body
    assert "orders comment CN_BANK_CARD 14 48,211 <0.1%" in body
    assert "Entity type Findings EMAIL_ADDRESS 11,519 PHONE_NUMBER 4,390 CN_RESIDENT_ID 311" in body
    assert "Findings by entity type, this scan" in body


def test_trend_shows_change_against_the_previous_scan() -> None:
    body = " ".join(pages_text(build_pii_discovery_report(report())))
    assert "PHONE_NUMBER 4,100 4,390 +290 (+7%)" in body
    assert "EMAIL_ADDRESS 11,600 11,519 -81 (-1%)" in body
    assert "CN_RESIDENT_ID 311 311 no change" in body
    assert "CN_BANK_CARD - 14 new" in body


def test_first_scan_says_there_is_no_trend() -> None:
    first = report(
        previous_scan_id=None,
        previous_scanned_at=None,
        trend=[TrendRow("PHONE_NUMBER", None, 4390)],
    )
    body = " ".join(pages_text(build_pii_discovery_report(first)))
    assert "This is the first scan: there is no earlier scan to compare." in body
    assert "Previous scan none (first scan)" in body


def test_open_items_are_listed() -> None:
    body = " ".join(pages_text(build_pii_discovery_report(report())))
    assert OPEN_HEADER in body
    assert "1001 interactions note 50001 CN_RESIDENT_ID 0.85 new" in body


def test_many_open_items_split_across_pages_with_the_header_repeated() -> None:
    pages = pages_text(build_pii_discovery_report(report(open_items=open_items(500))))
    with_rows = [text for text in pages if "interactions note 5" in text]
    assert len(with_rows) >= 8
    assert all(OPEN_HEADER in text for text in with_rows)
    body = " ".join(pages)
    assert all(f"{1000 + i} interactions note {50000 + i} " in body for i in range(500))
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_scan_without_findings_still_renders_with_clear_sentences() -> None:
    empty = report(inventory=[], findings_by_entity={}, trend=[], open_items=[])
    pdf = build_pii_discovery_report(empty)
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    body = " ".join(pages)
    for expected in (
        "No personal data was found in any column in this scan.",
        "No findings in this scan.",
        "No findings in this scan or the previous one.",
        "No open items: every finding has been reviewed.",
        "Findings 0",
    ):
        assert expected in body
    assert f"Page 1 of {len(pages)}" in pages[0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"inventory": [InventoryRow("t", "c", "PERSON", 1, 2, 1.5)]}, r"inventory\[0\].share"),
        ({"inventory": [InventoryRow("t", "c", "PERSON", 3, 2, 1.0)]}, r"inventory\[0\] needs"),
        ({"findings_by_entity": {"PERSON": -1}}, "findings_by_entity"),
        ({"trend": [TrendRow("PERSON", -1, 2)]}, r"trend\[0\]"),
        ({"open_items": [OpenItem(1, "t", "c", 2, "PERSON", 1.5, "new")]}, r"open_items\[0\]"),
    ],
)
def test_inconsistent_input_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ReportDataError, match=message):
        build_pii_discovery_report(report(**changes))
