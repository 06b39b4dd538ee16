"""Audit-trail report: the audit-log entries of a period, activity by action and by actor, and the
result of verifying the RFC 9162 Merkle log against a signed (Ed25519) checkpoint.

Pure function: :class:`AuditTrailReport` in, PDF bytes out. Entries carry identifiers only
(actor ids, subject ids, field names), never personal data values, as the audit log itself does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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
    notice,
    paragraph,
)

__all__ = [
    "AuditEntryRow",
    "AuditTrailReport",
    "CheckpointRef",
    "VerificationResult",
    "build_audit_trail_report",
]

TITLE = "Audit Trail Report"
_FLAGGED_OUTCOMES = frozenset({"denied", "failed"})


@dataclass(frozen=True)
class AuditEntryRow:
    """One audit-log entry as listed in the report."""

    seq: int
    timestamp: datetime
    actor: str  # user or service-account id
    role: str
    action: str
    resource: str  # e.g. "customer"
    subject: str  # subject id, "" when the action has none
    purpose: str  # "" when none was declared
    outcome: str  # allowed / denied / failed
    reason: str = ""  # the reason a person gave to see customer data in clear ("" if none)


@dataclass(frozen=True)
class CheckpointRef:
    """The signed checkpoint a verification was checked against."""

    tree_size: int
    root_hash: str  # lowercase hex
    timestamp: datetime
    key_id: str


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of recomputing the Merkle tree and checking the checkpoint signature."""

    ok: bool
    message: str
    verified_tree_size: int
    checkpoint: CheckpointRef | None = None


@dataclass(frozen=True)
class AuditTrailReport:
    """Everything the audit-trail report shows.

    ``counts_by_*`` left as ``None`` are counted from ``entries``; pass them (from a SQL
    ``GROUP BY``) when ``entries`` is a truncated listing, together with ``total_entries``.
    """

    generated_at: datetime
    period_start: datetime
    period_end: datetime
    entries: Sequence[AuditEntryRow] = ()
    counts_by_action: Mapping[str, int] | None = None
    counts_by_actor: Mapping[str, int] | None = None
    counts_by_outcome: Mapping[str, int] | None = None
    verification: VerificationResult | None = None
    total_entries: int | None = None  # entries in the period when more than ``entries`` holds


def count_by(values: Iterable[str]) -> dict[str, int]:
    """Count occurrences, most frequent first (ties by name)."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _validate(data: AuditTrailReport) -> None:
    if data.period_end < data.period_start:
        raise ReportDataError("period_end is before period_start")
    if data.total_entries is not None and data.total_entries < len(data.entries):
        raise ReportDataError("total_entries is smaller than the number of entries listed")
    for counts in (data.counts_by_action, data.counts_by_actor, data.counts_by_outcome):
        if counts is not None and any(value < 0 for value in counts.values()):
            raise ReportDataError("counts must not be negative")


def _period(data: AuditTrailReport) -> str:
    return f"{format_timestamp(data.period_start)} to {format_timestamp(data.period_end)}"


def _total(data: AuditTrailReport) -> int:
    return data.total_entries if data.total_entries is not None else len(data.entries)


def _counts(data: AuditTrailReport) -> tuple[Mapping[str, int], ...]:
    """Counts by action, actor and outcome: as given, or counted from the listed entries."""
    given = (data.counts_by_action, data.counts_by_actor, data.counts_by_outcome)
    names = ("action", "actor", "outcome")
    return tuple(
        count_by(str(getattr(e, name)) for e in data.entries) if counts is None else counts
        for counts, name in zip(given, names, strict=True)
    )


def _summary(
    data: AuditTrailReport, actors: Mapping[str, int], outcomes: Mapping[str, int]
) -> list[Any]:
    total = _total(data)
    figures = [
        ("Period", _period(data)),
        ("Entries in period", f"{total:,}"),
        ("Distinct actors", f"{len(actors):,}"),
        *((f"Outcome: {name}", f"{count:,}") for name, count in outcomes.items()),
    ]
    story: list[Any] = [heading("Summary"), key_figures(figures)]
    if total > len(data.entries):
        story.append(
            paragraph(f"The entry listing below shows {len(data.entries):,} of {total:,} entries.")
        )
    return story


def _verification(result: VerificationResult | None) -> list[Any]:
    story: list[Any] = [heading("Log verification")]
    if result is None:
        return [*story, notice("Log verification was not run for this report.", "info")]
    verdict = "Verified" if result.ok else "Verification FAILED"
    story.append(notice(f"{verdict}: {result.message}", "ok" if result.ok else "bad"))
    figures = [("Verified tree size", f"{result.verified_tree_size:,} entries")]
    checkpoint = result.checkpoint
    if checkpoint is None:
        figures.append(("Checkpoint", "none: no signed checkpoint was available"))
    else:
        figures += [
            ("Checkpoint tree size", f"{checkpoint.tree_size:,}"),
            ("Checkpoint root hash", checkpoint.root_hash),
            ("Checkpoint time", format_timestamp(checkpoint.timestamp)),
            ("Signing key id", checkpoint.key_id),
        ]
    story += [
        key_figures(figures),
        paragraph(
            "Verification recomputes the RFC 9162 Merkle tree from every entry and checks that "
            "its root equals the root hash in the Ed25519-signed checkpoint above, so any entry "
            "changed, removed, reordered or inserted after that checkpoint was signed is detected.",
            "small",
        ),
    ]
    return story


def _breakdown(title: str, column: str, counts: Mapping[str, int], chart: bool) -> list[Any]:
    story: list[Any] = [heading(title, 2)]
    if not counts:
        return [*story, paragraph("No entries in this period.")]
    rows = [[name, f"{count:,}"] for name, count in counts.items()]
    story.append(data_table([column, "Entries"], rows, (3, 1), numeric_cols={1}, width_share=0.6))
    if chart:
        story.append(bar_chart(list(counts), list(counts.values()), f"Entries by {column.lower()}"))
    return story


def _entries(entries: Sequence[AuditEntryRow]) -> list[Any]:
    story: list[Any] = [heading("Entries")]
    if not entries:
        return [*story, paragraph("No entries in this period.")]
    header = [
        "Seq",
        "Time (UTC)",
        "Actor",
        "Role",
        "Action",
        "Resource / subject",
        "Purpose",
        "Outcome",
    ]
    rows = [
        [
            str(e.seq),
            format_timestamp(e.timestamp).removesuffix(" UTC"),
            e.actor,
            e.role,
            e.action,
            f"{e.resource} {e.subject}".strip(),
            e.purpose or "-",
            e.outcome,
        ]
        for e in entries
    ]
    flagged = {i for i, e in enumerate(entries) if e.outcome.lower() in _FLAGGED_OUTCOMES}
    widths = (40, 88, 68, 46, 76, 72, 54, 49)  # points at full width; fits "customer.update"
    story.append(data_table(header, rows, widths, numeric_cols={0}, flagged_rows=flagged))
    story.append(paragraph("Rows shaded red were denied or failed.", "small"))
    return story


def _reveals(entries: Sequence[AuditEntryRow]) -> list[Any]:
    """Every reveal in clear in the period, with the reason the person gave."""
    revealed = [e for e in entries if e.reason]
    story: list[Any] = [heading("Reveals in clear")]
    if not revealed:
        return [*story, paragraph("No customer data was revealed in clear in this period.")]
    header = ["Seq", "Time (UTC)", "Actor", "Subject", "Reason given"]
    rows = [
        [str(e.seq), format_timestamp(e.timestamp).removesuffix(" UTC"), e.actor, e.subject,
         e.reason]
        for e in revealed
    ]  # fmt: skip
    story.append(data_table(header, rows, (40, 88, 110, 90, 165), numeric_cols={0}))
    return story


def build_audit_trail_report(data: AuditTrailReport) -> bytes:
    """Render the audit-trail report as PDF bytes; raises :class:`ReportDataError`."""
    _validate(data)
    by_action, by_actor, outcomes = _counts(data)
    story: list[Any] = [
        *_summary(data, by_actor, outcomes),
        *_verification(data.verification),
        heading("Activity"),
        *_breakdown("By action", "Action", by_action, chart=True),
        *_breakdown("By actor", "Actor", by_actor, chart=False),
        *_reveals(data.entries),
        *_entries(data.entries),
    ]
    meta = {"Period": _period(data), "Entries in period": f"{_total(data):,}"}
    if data.verification is not None:
        meta["Verification"] = "passed" if data.verification.ok else "FAILED"
    return build_document(TITLE, "Tamper-evident audit log", data.generated_at, story, meta)
