"""Data-inventory report: which customer-store fields exist, how complete they are, which are
sensitive and whether those are encrypted at rest (GDPR Art. 30 records of processing, Art. 32).

Pure function: :class:`DataInventory` in, PDF bytes out. The figures are counts and shares only;
no personal data value ever reaches this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.style import (
    ReportDataError,
    bar_chart,
    build_document,
    data_table,
    heading,
    key_figures,
    notice,
    paragraph,
    percent,
)

__all__ = ["DataInventory", "FieldInventory", "build_data_inventory_report"]

TITLE = "Data Inventory Report"


@dataclass(frozen=True)
class FieldInventory:
    """One column of the customer store and how well it is filled."""

    table: str
    field: str
    sensitive: bool
    encrypted: bool
    completeness: float  # share of the table's records holding a value, 0..1
    filled: int  # records holding a value
    invalid: int = 0  # values present that fail validation


@dataclass(frozen=True)
class DataInventory:
    """Everything the data-inventory report shows, measured at ``generated_at``."""

    generated_at: datetime
    database: str  # a label such as "PostgreSQL crm@db1", never a URL with a password
    total_customers: int
    total_orders: int
    total_interactions: int
    fields: Sequence[FieldInventory] = ()


def _validate(inv: DataInventory) -> None:
    totals = (inv.total_customers, inv.total_orders, inv.total_interactions)
    if min(totals) < 0:
        raise ReportDataError("record totals must not be negative")
    for index, item in enumerate(inv.fields):
        if not 0.0 <= item.completeness <= 1.0:
            raise ReportDataError(f"fields[{index}].completeness must be within 0..1")
        if item.filled < 0 or item.invalid < 0:
            raise ReportDataError(f"fields[{index}] counts must not be negative")


def _name(item: FieldInventory) -> str:
    return f"{item.table}.{item.field}"


def _summary(inv: DataInventory) -> list[Any]:
    sensitive = [f for f in inv.fields if f.sensitive]
    encrypted = [f for f in sensitive if f.encrypted]
    mean = sum(f.completeness for f in inv.fields) / len(inv.fields) if inv.fields else 0.0
    figures = [
        ("Customers", f"{inv.total_customers:,}"),
        ("Orders", f"{inv.total_orders:,}"),
        ("Interactions", f"{inv.total_interactions:,}"),
        ("Fields inventoried", f"{len(inv.fields):,}"),
        ("Sensitive fields", f"{len(sensitive):,} ({len(encrypted):,} encrypted at rest)"),
        ("Average completeness", percent(mean) if inv.fields else "n/a"),
        ("Invalid values", f"{sum(f.invalid for f in inv.fields):,}"),
    ]
    return [
        heading("Summary"),
        paragraph(
            "This report lists the fields of the customer store, how completely each one is "
            "filled, and which fields hold personal data that must be stored encrypted."
        ),
        key_figures(figures),
    ]


def _encryption_notice(inv: DataInventory) -> Any:
    sensitive = [f for f in inv.fields if f.sensitive]
    exposed = [_name(f) for f in sensitive if not f.encrypted]
    if exposed:
        return notice(
            f"{len(exposed)} sensitive field(s) are NOT encrypted at rest: {', '.join(exposed)}.",
            "bad",
        )
    if not sensitive:
        return notice("No field is classified as sensitive.", "info")
    return notice(f"All {len(sensitive)} sensitive fields are encrypted at rest.", "ok")


def _fields_section(inv: DataInventory) -> list[Any]:
    story: list[Any] = [heading("Fields"), _encryption_notice(inv)]
    if not inv.fields:
        story.append(paragraph("No fields were inventoried."))
        return story
    rows = [
        [
            f.table,
            f.field,
            f"{f.filled:,}",
            f"{f.invalid:,}",
            percent(f.completeness),
            "Yes" if f.sensitive else "No",
            "Yes" if f.encrypted else "No",
        ]
        for f in inv.fields
    ]
    flagged = {i for i, f in enumerate(inv.fields) if f.sensitive and not f.encrypted}
    header = ["Table", "Field", "Filled", "Invalid", "Completeness", "Sensitive", "Encrypted"]
    table = data_table(
        header, rows, (1.3, 1.7, 1, 0.9, 1.2, 1, 1), numeric_cols={2, 3, 4}, flagged_rows=flagged
    )
    chart = bar_chart(
        [_name(f) for f in inv.fields],
        [f.completeness * 100 for f in inv.fields],
        "Completeness per field",
        unit="%",
        value_max=100,
    )
    story += [table, chart]
    return story


_EXPLANATION = [
    "<b>Completeness</b> is the share of a table's records in which the field holds a value; "
    "<b>Filled</b> is the number of those records.",
    "<b>Invalid</b> counts values that are present but fail the field's validation "
    "(for example an email address without a domain or a phone number that is not E.164).",
    "<b>Sensitive</b> fields hold personal data as classified by the data protection policy. "
    "<b>Encrypted</b> fields are stored only as AES-256-GCM ciphertext under the data subject's "
    "own data key (envelope encryption); erasing a subject destroys that key.",
    "Rows shaded red are sensitive fields stored without encryption and need attention.",
]


def build_data_inventory_report(inv: DataInventory) -> bytes:
    """Render the data-inventory report as PDF bytes; raises :class:`ReportDataError`."""
    _validate(inv)
    story: list[Any] = [*_summary(inv), *_fields_section(inv), heading("How to read this report")]
    story += [paragraph(text, markup=True) for text in _EXPLANATION]
    meta = {
        "Database": inv.database,
        "Customers": f"{inv.total_customers:,}",
        "Fields inventoried": f"{len(inv.fields):,}",
    }
    return build_document(
        TITLE, "Customer-store fields, completeness and protection", inv.generated_at, story, meta
    )
