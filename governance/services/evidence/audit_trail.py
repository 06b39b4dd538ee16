"""Data for the audit-trail PDF report: entries in a period, summaries, a fresh verification.

The report (``reports.build_audit_trail_report``) lists the entries of ``[start, end)`` (up to
``REPORT_ROWS``), counts by action, actor and outcome over the whole period, and the result of
verifying the whole log now, with the signed checkpoint it was verified against. The download is
itself recorded in the log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from audit.verify import VerifyError
from governance.context import Call
from governance.errors import ValidationError
from governance.models import AuditEntry
from governance.services.auditlog.append import rfc3339
from governance.services.auditlog.names import principals
from governance.services.auditlog.views import verify_live
from governance.services.customers import normalise as norm
from governance.services.evidence.downloads import record_download
from reports import (
    AuditEntryRow,
    AuditTrailReport,
    CheckpointRef,
    VerificationResult,
    build_audit_trail_report,
)

REPORT_ROWS = 10_000


def _span(start: datetime, end: datetime) -> tuple[Any, ...]:
    return AuditEntry.timestamp >= rfc3339(start), AuditEntry.timestamp < rfc3339(end)


def _reason(leaf: str) -> str:
    details = json.loads(leaf).get("details")
    return str(details.get("reveal_reason") or "") if isinstance(details, dict) else ""


def _rows(call: Call, span: tuple[Any, ...]) -> list[AuditEntryRow]:
    rows = list(
        call.session.scalars(
            select(AuditEntry).where(*span).order_by(AuditEntry.seq).limit(REPORT_ROWS)
        )
    )
    # People by email and service accounts by name; other ids as they are.
    known = principals(call.session, [r.actor_id for r in rows])
    return [
        AuditEntryRow(
            seq=r.seq,
            timestamp=norm.parse_timestamp(r.timestamp),
            actor=known[r.actor_id].label if r.actor_id in known else (r.actor_id or "-"),
            reason=_reason(r.leaf) if r.action == "customer.read" else "",
            role=r.actor_role or "-",
            action=r.action,
            resource=r.resource or "",
            subject=r.subject_id or "",
            purpose=r.purpose or "",
            outcome=r.outcome,
        )  # fmt: skip
        for r in rows
    ]


def _counts(call: Call, span: tuple[Any, ...], column: Any) -> dict[str, int]:
    rows = call.session.execute(select(column, func.count()).where(*span).group_by(column))
    return {str(key or "-"): n for key, n in rows}


def _named(call: Call, counts: dict[str, int]) -> dict[str, int]:
    """Counts by actor with people and service accounts named."""
    known = principals(call.session, list(counts))
    named: dict[str, int] = {}
    for key, n in counts.items():
        label = known[key].label if key in known else key
        named[label] = named.get(label, 0) + n
    return named


def _verification(call: Call) -> VerificationResult:
    try:
        report = verify_live(call)
    except VerifyError as exc:
        return VerificationResult(ok=False, message=str(exc), verified_tree_size=0)
    latest = report.latest_checkpoint
    checkpoint = None
    if latest is not None:
        checkpoint = CheckpointRef(
            latest.tree_size, latest.root_hash.hex(), norm.parse_timestamp(latest.timestamp),
            latest.key_id,
        )  # fmt: skip
    return VerificationResult(
        ok=True,
        message=f"all {report.tree_size} entries and {report.checkpoints_verified} "
        "signed checkpoints verified",
        verified_tree_size=report.tree_size,
        checkpoint=checkpoint,
    )


def audit_trail_pdf(call: Call, start: datetime, end: datetime) -> bytes:
    """Build the report for ``[start, end)`` and record its download (the caller commits).

    Raises ValidationError when the period is empty.
    """
    if end <= start:
        raise ValidationError("bad period", [{"field": "to", "message": "must be after from"}])
    span = _span(start, end)
    verification = _verification(call)  # first: a failed verification rolls the session back
    total = call.session.scalar(select(func.count()).select_from(AuditEntry).where(*span)) or 0
    pdf = build_audit_trail_report(
        AuditTrailReport(
            generated_at=call.now(),
            period_start=start,
            period_end=end,
            entries=_rows(call, span),
            counts_by_action=_counts(call, span, AuditEntry.action),
            counts_by_actor=_named(call, _counts(call, span, AuditEntry.actor_id)),
            counts_by_outcome=_counts(call, span, AuditEntry.outcome),
            verification=verification,
            total_entries=total,
        )
    )
    return record_download(call, "audit-trail", pdf, **{"from": rfc3339(start), "to": rfc3339(end)})
