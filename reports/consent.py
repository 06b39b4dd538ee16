"""Consent report: per purpose, consents granted, withdrawn and refused by month, the subjects
per derived state now (re-consent needed included), and the privacy notices in force, with each
purpose's lawful basis and its description in English and Chinese (GDPR Art. 7(1), PIPL Art. 14).

Pure function: :class:`ConsentReport` in, PDF bytes out. Counts, versions and hashes only; no
personal data reaches this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
)

__all__ = ["ConsentReport", "MonthRow", "NoticeRow", "PurposeRow", "build_consent_report"]

TITLE = "Consent Report"
STATES = ("granted", "withdrawn", "refused", "expired", "reconsent_needed")


@dataclass(frozen=True)
class PurposeRow:
    """A consent-based purpose: its basis, descriptions and subjects per state now."""

    name: str
    basis: str
    description_en: str
    description_zh: str
    states: Mapping[str, int]


@dataclass(frozen=True)
class MonthRow:
    """Events of one purpose in one month (``YYYY-MM``)."""

    month: str
    purpose: str
    granted: int
    withdrawn: int
    refused: int


@dataclass(frozen=True)
class NoticeRow:
    version: str
    effective_at: str
    text_sha256: str
    purposes: Sequence[str]
    in_force: bool


@dataclass(frozen=True)
class ConsentReport:
    generated_at: datetime
    start: datetime
    end: datetime
    purposes: Sequence[PurposeRow]
    months: Sequence[MonthRow]
    notices: Sequence[NoticeRow]


def _validate(report: ConsentReport) -> None:
    if report.end <= report.start:
        raise ReportDataError("the period must end after it starts")
    for row in report.months:
        if min(row.granted, row.withdrawn, row.refused) < 0:
            raise ReportDataError(f"negative count in {row.month} {row.purpose}")


def build_consent_report(report: ConsentReport) -> bytes:
    """The consent report as PDF bytes."""
    _validate(report)
    granted_now = sum(p.states.get("granted", 0) for p in report.purposes)
    reconsent = sum(p.states.get("reconsent_needed", 0) for p in report.purposes)
    story: list[Any] = [
        heading("Summary"),
        key_figures(
            [
                ("Period", f"{format_timestamp(report.start)} – {format_timestamp(report.end)}"),
                ("Consents in force", f"{granted_now:,}"),
                ("Re-consent needed", f"{reconsent:,}"),
                ("Notice versions", f"{len(report.notices):,}"),
            ]
        ),
        heading("Subjects per purpose and state now"),
        data_table(
            ["Purpose", *STATES],
            [[p.name, *(f"{p.states.get(s, 0):,}" for s in STATES)] for p in report.purposes],
            [2, 1, 1, 1, 1, 1.3],
            numeric_cols=range(1, len(STATES) + 1),
        ),
    ]
    if report.purposes:
        names = [p.name for p in report.purposes]
        granted = [p.states.get("granted", 0) for p in report.purposes]
        story.append(bar_chart(names, granted, "Consents in force per purpose"))
    story += [
        heading("Events by month"),
        data_table(
            ["Month", "Purpose", "Granted", "Withdrawn", "Refused"],
            [
                [m.month, m.purpose, f"{m.granted:,}", f"{m.withdrawn:,}", f"{m.refused:,}"]
                for m in report.months
            ]
            or [["—", "no events in the period", "0", "0", "0"]],
            [1, 2, 1, 1, 1],
            numeric_cols=(2, 3, 4),
        ),  # fmt: skip
        heading("Notices"),
        data_table(
            ["Version", "Effective", "Purposes", "SHA-256 of the text", "In force"],
            [
                [
                    n.version,
                    n.effective_at,
                    ", ".join(n.purposes),
                    n.text_sha256,
                    "yes" if n.in_force else "no",
                ]
                for n in report.notices
            ],
            [0.8, 1.6, 2.4, 3, 0.7],
        ),  # fmt: skip
        heading("Purposes and lawful bases"),
    ]
    for p in report.purposes:
        story.append(paragraph(f"{p.name} ({p.basis}): {p.description_en}"))
        story.append(paragraph(p.description_zh))
    return build_document(
        TITLE,
        "Consents per purpose, by month, and the notices in force",
        report.generated_at,
        story,
    )
