"""PII discovery report: where a store scan found personal data (per table and column), findings
per entity type, the trend against the previous scan, and the findings still open for review
(GDPR Art. 30 records of processing; entity types as named by Presidio plus CN_RESIDENT_ID
(GB 11643-1999), CN_USCC (GB 32100-2015) and CN_BANK_CARD).

Pure function: :class:`PiiDiscoveryReport` in, PDF bytes out. Findings are located by table,
column and record id only; the matched values never reach this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reports.style import (
    ReportDataError,
    bar_chart,
    build_document,
    data_table,
    format_timestamp,
    heading,
    key_figures,
    paragraph,
    percent,
)

__all__ = [
    "InventoryRow",
    "OpenItem",
    "PiiDiscoveryReport",
    "TrendRow",
    "build_pii_discovery_report",
]

TITLE = "PII Discovery Report"


@dataclass(frozen=True)
class InventoryRow:
    """Share of a column's records holding one entity type."""

    table: str
    column: str
    entity_type: str
    records_with: int
    records_total: int
    share: float  # records_with / records_total, 0..1


@dataclass(frozen=True)
class TrendRow:
    """Findings of one entity type in the previous scan and in this one."""

    entity_type: str
    previous: int | None  # None when the previous scan did not report this type (or none exists)
    current: int


@dataclass(frozen=True)
class OpenItem:
    """A finding not yet reviewed to a final state."""

    finding_id: int | str
    table: str
    column: str
    record_id: int | str
    entity_type: str
    score: float  # recogniser confidence, 0..1
    status: str  # e.g. "new", "confirmed"


@dataclass(frozen=True)
class PiiDiscoveryReport:
    """Everything the PII discovery report shows."""

    generated_at: datetime
    scan_id: int | str
    scanned_at: datetime
    inventory: Sequence[InventoryRow] = ()
    findings_by_entity: Mapping[str, int] = field(default_factory=dict)
    trend: Sequence[TrendRow] = ()
    open_items: Sequence[OpenItem] = ()
    previous_scan_id: int | str | None = None
    previous_scanned_at: datetime | None = None


def _validate(data: PiiDiscoveryReport) -> None:
    for i, row in enumerate(data.inventory):
        if not 0.0 <= row.share <= 1.0:
            raise ReportDataError(f"inventory[{i}].share must be within 0..1")
        if not 0 <= row.records_with <= row.records_total:
            raise ReportDataError(f"inventory[{i}] needs 0 <= records_with <= records_total")
    if any(count < 0 for count in data.findings_by_entity.values()):
        raise ReportDataError("findings_by_entity counts must not be negative")
    for i, trend in enumerate(data.trend):
        if trend.current < 0 or (trend.previous is not None and trend.previous < 0):
            raise ReportDataError(f"trend[{i}] counts must not be negative")
    for i, item in enumerate(data.open_items):
        if not 0.0 <= item.score <= 1.0:
            raise ReportDataError(f"open_items[{i}].score must be within 0..1")


def _previous_label(data: PiiDiscoveryReport) -> str:
    if data.previous_scan_id is None:
        return "none (first scan)"
    when = data.previous_scanned_at
    return f"{data.previous_scan_id}" + (f" at {format_timestamp(when)}" if when else "")


def _summary(data: PiiDiscoveryReport) -> list[Any]:
    columns = {(r.table, r.column) for r in data.inventory if r.records_with > 0}
    found = {name: count for name, count in data.findings_by_entity.items() if count > 0}
    figures = [
        ("Scan", f"{data.scan_id} at {format_timestamp(data.scanned_at)}"),
        ("Previous scan", _previous_label(data)),
        ("Columns holding personal data", f"{len(columns):,}"),
        ("Findings", f"{sum(found.values()):,}"),
        ("Entity types found", f"{len(found):,}"),
        ("Open items", f"{len(data.open_items):,}"),
    ]
    story: list[Any] = [
        heading("Summary"),
        paragraph(
            "This report shows where the latest scan of the customer store found personal data, "
            "including data typed into free-text fields where the schema does not declare it."
        ),
        key_figures(figures),
    ]
    return story


def _inventory(rows: Sequence[InventoryRow]) -> list[Any]:
    story: list[Any] = [heading("Inventory per column")]
    if not rows:
        return [*story, paragraph("No personal data was found in any column in this scan.")]
    header = ["Table", "Column", "Entity type", "Records with", "Records scanned", "Share"]
    body = [
        [
            r.table,
            r.column,
            r.entity_type,
            f"{r.records_with:,}",
            f"{r.records_total:,}",
            percent(r.share),
        ]
        for r in rows
    ]
    story.append(data_table(header, body, (1.1, 1.3, 1.6, 1, 1.1, 0.8), numeric_cols={3, 4, 5}))
    return story


def _findings(counts: Mapping[str, int]) -> list[Any]:
    story: list[Any] = [heading("Findings per entity type")]
    if not counts or not any(counts.values()):
        return [*story, paragraph("No findings in this scan.")]
    ordered = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    rows = [[name, f"{count:,}"] for name, count in ordered.items()]
    story.append(
        data_table(["Entity type", "Findings"], rows, (3, 1), numeric_cols={1}, width_share=0.6)
    )
    chart_title = "Findings by entity type, this scan"
    story.append(bar_chart(list(ordered), list(ordered.values()), chart_title))
    return story


def _change(trend: TrendRow) -> str:
    if trend.previous is None:
        return "new"
    delta = trend.current - trend.previous
    if delta == 0:
        return "no change"
    if trend.previous == 0:
        return f"{delta:+,}"
    return f"{delta:+,} ({delta / trend.previous:+.0%})"


def _trend(data: PiiDiscoveryReport) -> list[Any]:
    story: list[Any] = [heading("Trend since the previous scan")]
    if data.previous_scan_id is None and all(t.previous is None for t in data.trend):
        return [*story, paragraph("This is the first scan: there is no earlier scan to compare.")]
    if not data.trend:
        return [*story, paragraph("No findings in this scan or the previous one.")]
    rows = [
        [
            t.entity_type,
            "-" if t.previous is None else f"{t.previous:,}",
            f"{t.current:,}",
            _change(t),
        ]
        for t in data.trend
    ]
    header = ["Entity type", "Previous scan", "This scan", "Change"]
    rising = {i for i, t in enumerate(data.trend) if t.current > (t.previous or 0)}
    story.append(
        data_table(header, rows, (2.2, 1, 1, 1.3), numeric_cols={1, 2, 3}, flagged_rows=rising)
    )
    story.append(paragraph("Rows shaded red have more findings than the previous scan.", "small"))
    return story


def _open_items(items: Sequence[OpenItem]) -> list[Any]:
    story: list[Any] = [heading("Open items")]
    if not items:
        return [*story, paragraph("No open items: every finding has been reviewed.")]
    header = ["Finding", "Table", "Column", "Record", "Entity type", "Score", "Status"]
    rows = [
        [
            str(i.finding_id),
            i.table,
            i.column,
            str(i.record_id),
            i.entity_type,
            f"{i.score:.2f}",
            i.status,
        ]
        for i in items
    ]
    story.append(data_table(header, rows, (0.8, 1.1, 1.2, 0.9, 1.7, 0.7, 1), numeric_cols={0, 5}))
    story.append(
        paragraph(
            "Open items are findings still to be reviewed in the console: confirm them, mark them "
            "as false positives, or remediate them (redact or move the data to a declared field).",
            "small",
        )
    )
    return story


def build_pii_discovery_report(data: PiiDiscoveryReport) -> bytes:
    """Render the PII discovery report as PDF bytes; raises :class:`ReportDataError`."""
    _validate(data)
    story: list[Any] = [
        *_summary(data),
        *_inventory(data.inventory),
        *_findings(data.findings_by_entity),
        *_trend(data),
        *_open_items(data.open_items),
    ]
    meta = {
        "Scan": str(data.scan_id),
        "Scanned at": format_timestamp(data.scanned_at),
        "Previous scan": _previous_label(data),
    }
    return build_document(
        TITLE, "Personal data found in the customer store", data.generated_at, story, meta
    )
