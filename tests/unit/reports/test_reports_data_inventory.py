"""Tests of the data-inventory report, read back from the PDF with pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from reports import DataInventory, FieldInventory, ReportDataError, build_data_inventory_report

TABLE_HEADER = "Table Field Filled Invalid Completeness Sensitive Encrypted"


def pages_text(pdf: bytes) -> list[str]:
    """Text of each page, whitespace collapsed so table cells read as one line."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def inventory(fields: list[FieldInventory] | None = None) -> DataInventory:
    if fields is None:
        fields = [
            FieldInventory("customers", "full_name", True, True, 0.998, 12455, 3),
            FieldInventory("customers", "email", True, True, 0.923, 11519, 41),
            FieldInventory("customers", "national_id", True, True, 0.412, 5142, 17),
            FieldInventory("customers", "address_line1", True, False, 0.78, 9734),
            FieldInventory("customers", "country", False, False, 0.99, 12355, 2),
            FieldInventory("orders", "comment", True, False, 0.21, 10124),
        ]
    return DataInventory(
        generated_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        database="PostgreSQL crm@db1",
        total_customers=12480,
        total_orders=48211,
        total_interactions=88421,
        fields=fields,
    )


def test_report_shows_title_totals_fields_and_percentages() -> None:
    pdf = build_data_inventory_report(inventory())
    assert pdf.startswith(b"%PDF-")
    pages = pages_text(pdf)
    assert "Data Inventory Report" in pages[0] and "PostgreSQL crm@db1" in pages[0]
    body = " ".join(pages[1:])
    for expected in (
        "Customers 12,480",
        "Orders 48,211",
        "Interactions 88,421",
        "Sensitive fields 5 (3 encrypted at rest)",
        "Invalid values 63",
    ):
        assert expected in body
    assert "customers national_id 5,142 17 41.2% Yes Yes" in body
    assert "customers country 12,355 2 99.0% No No" in body
    assert "How to read this report" in body


def test_unencrypted_sensitive_fields_are_named() -> None:
    body = " ".join(pages_text(build_data_inventory_report(inventory())))
    assert (
        "2 sensitive field(s) are NOT encrypted at rest: customers.address_line1, "
        "orders.comment." in body
    )


def test_all_sensitive_fields_encrypted_is_stated() -> None:
    fields = [FieldInventory("customers", "email", True, True, 1.0, 10)]
    body = " ".join(pages_text(build_data_inventory_report(inventory(fields))))
    assert "All 1 sensitive fields are encrypted at rest." in body
    assert "NOT encrypted" not in body


def test_completeness_chart_labels_fields() -> None:
    body = " ".join(pages_text(build_data_inventory_report(inventory())))
    assert "Completeness per field" in body
    assert "customers.national_id" in body and "orders.comment" in body


def test_footer_page_numbers_match_the_page_count() -> None:
    pages = pages_text(build_data_inventory_report(inventory()))
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_many_fields_split_across_pages_with_the_header_repeated() -> None:
    fields = [
        FieldInventory("customers", f"attribute_{i:03d}", i % 2 == 0, i % 3 == 0, i / 500, i)
        for i in range(500)
    ]
    pages = pages_text(build_data_inventory_report(inventory(fields)))
    with_rows = [text for text in pages if "attribute_" in text and "customers attribute" in text]
    assert len(with_rows) >= 5
    assert all(TABLE_HEADER in text for text in with_rows)
    body = " ".join(pages)
    assert all(f"attribute_{i:03d}" in body for i in range(500))


def test_empty_inventory_still_renders_with_a_clear_sentence() -> None:
    pdf = build_data_inventory_report(inventory([]))
    assert pdf.startswith(b"%PDF-")
    body = " ".join(pages_text(pdf))
    assert "No fields were inventoried." in body
    assert "Average completeness n/a" in body


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (FieldInventory("customers", "email", True, True, 1.2, 10), r"fields\[0\].completeness"),
        (FieldInventory("customers", "email", True, True, 0.5, -1), r"fields\[0\] counts"),
    ],
)
def test_inconsistent_input_is_refused(bad: FieldInventory, message: str) -> None:
    with pytest.raises(ReportDataError, match=message):
        build_data_inventory_report(inventory([bad]))
    with pytest.raises(ReportDataError, match="totals"):
        build_data_inventory_report(replace(inventory(), total_orders=-1))
