"""Reading the audit log: entries, checkpoints, proofs, live verification, export, report data.

Proofs come from the stored perfect-subtree nodes (one SELECT per proof, RFC 9162 order);
verification and export use the ``audit`` library's single verifier and export writer, so the
live database and an auditor's offline check run exactly the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, load_public_key_pem, public_key_pem
from audit.export import write_export
from audit.proofs import ProofRequestError, prove_consistency, prove_inclusion
from audit.verify import Progress, VerifyError, VerifyReport, verify_log
from governance.errors import ValidationError
from governance.models import AuditCheckpoint, AuditEntry
from governance.services import normalise as norm
from governance.services.auditlog import SqlNodeStore, rfc3339, to_checkpoint, tree_size
from governance.services.context import Call

ENTRY_FIELDS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "subject_id",
    "purpose", "outcome",
)  # fmt: skip
log = logging.getLogger(__name__)
FILTERS = ("from", "to", "actor", "subject", "action", "after", "limit")


def entry_json(row: AuditEntry) -> dict[str, Any]:
    """The API shape of one entry: seq, its fields, the hashed leaf and its hash."""
    import json

    body = json.loads(row.leaf)
    return {
        "seq": row.seq,
        **{k: body.get(k) for k in (*ENTRY_FIELDS, "request_id", "client", "details")},
        "leaf": row.leaf,
        "leaf_hash": bytes(row.leaf_hash).hex(),
    }


def _int(value: str | None, name: str, default: int | None = None, low: int = 0) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError(
            "bad parameter", [{"field": name, "message": "must be an integer"}]
        ) from None
    if number < low:
        raise ValidationError("bad parameter", [{"field": name, "message": f"must be ≥ {low}"}])
    return number


def list_entries(session: Session, params: dict[str, str]) -> dict[str, Any]:
    """Entries filtered by time, actor, subject and action, in sequence order (cursor: seq)."""
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        raise ValidationError(
            "unknown parameter", [{"field": k, "message": "is not a filter"} for k in unknown]
        )
    query = select(AuditEntry).order_by(AuditEntry.seq)
    try:
        if params.get("from"):
            start = rfc3339(norm.parse_timestamp(params["from"]))
            query = query.where(AuditEntry.timestamp >= start)
        if params.get("to"):
            end = rfc3339(norm.parse_timestamp(params["to"]))
            query = query.where(AuditEntry.timestamp < end)
    except norm.FieldError as exc:
        raise ValidationError("bad time", [{"field": "from/to", "message": str(exc)}]) from None
    for name, column in (("actor", AuditEntry.actor_id), ("subject", AuditEntry.subject_id),
                         ("action", AuditEntry.action)):  # fmt: skip
        if params.get(name):
            query = query.where(column == params[name])
    after = _int(params.get("after"), "after", 0)
    limit = min(_int(params.get("limit"), "limit", 100, 1) or 100, 1000)
    rows = list(session.scalars(query.where(AuditEntry.seq > after).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [entry_json(r) for r in rows],
        "next_after": rows[-1].seq if more and rows else None,
        "tree_size": tree_size(session),
    }


def list_checkpoints(session: Session) -> list[dict[str, Any]]:
    """All checkpoints, oldest first, in the API shape."""
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size))
    return [to_checkpoint(r).to_json() for r in rows]


def _sizes(session: Session, requested: int | None) -> int:
    current = tree_size(session)
    size = current if requested is None else requested
    if size > current:
        raise ValidationError(
            "tree too small",
            [{"field": "tree_size", "message": f"the log has {current} entries"}],
        )
    return size


def inclusion(session: Session, seq: str | None, size: str | None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``tree_size`` (default: now)."""
    number = _int(seq, "seq", None, 1)
    if number is None:
        raise ValidationError("seq is required", [{"field": "seq", "message": "is required"}])
    tree = _sizes(session, _int(size, "tree_size", None, 1))
    try:
        return prove_inclusion(SqlNodeStore(session), number - 1, tree).to_json()
    except ProofRequestError as exc:
        raise ValidationError("no such proof", [{"field": "seq", "message": str(exc)}]) from None


def consistency(session: Session, first: str | None, second: str | None) -> dict[str, Any]:
    """RFC 9162 consistency proof between tree sizes ``first`` and ``second``."""
    m = _int(first, "first", None, 1)
    if m is None:
        raise ValidationError("first is required", [{"field": "first", "message": "is required"}])
    n = _sizes(session, _int(second, "second", None, 1))
    try:
        return prove_consistency(SqlNodeStore(session), m, n).to_json()
    except ProofRequestError as exc:
        raise ValidationError("no such proof", [{"field": "first", "message": str(exc)}]) from None


def records(session: Session, upto: int) -> Iterator[tuple[int, bytes, bytes]]:
    """Stored ``(seq, leaf, leaf hash)`` for seq 1..upto, streamed in pages."""
    last = 0
    while last < upto:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.leaf, AuditEntry.leaf_hash)
            .where(AuditEntry.seq > last, AuditEntry.seq <= upto)
            .order_by(AuditEntry.seq)
            .limit(5000)
        ).all()
        if not rows:
            return
        for seq, leaf, digest in rows:
            yield seq, leaf.encode("utf-8"), bytes(digest)
        last = rows[-1][0]


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    return [to_checkpoint(r) for r in session.scalars(select(AuditCheckpoint))]


def public_pem(call: Call) -> str:
    return public_key_pem(call.audit.signing_key).decode("ascii")


def verify_live(call: Call, progress: Progress | None = None) -> VerifyReport:
    """Verify the database's log against its checkpoints and our public key (audited).

    Raises VerifyError naming the first bad entry or checkpoint; the failure is audited too.
    """
    session = call.session
    total = session.scalar(select(func.max(AuditEntry.seq))) or 0
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    key = load_public_key_pem(public_pem(call).encode())
    try:
        report = verify_log(
            records(session, max(total, count)), stored_checkpoints(session), key,
            total=max(total, count), progress=progress,
        )  # fmt: skip
    except VerifyError as exc:
        try:
            call.audit.record_alone(
                session, call.actor, "audit.verify", now=call.now(), resource="audit",
                outcome="failed", details={"error": str(exc)[:300]},
            )  # fmt: skip
        except Exception:  # a tampered log may refuse even this append; the failure still shows
            session.rollback()
            log.error("audit verification failed and could not be recorded: %s", exc)
        raise
    call.audit.record(
        session, call.actor, "audit.verify", now=call.now(), resource="audit",
        details={"tree_size": report.tree_size, "checkpoints": report.checkpoints_verified},
    )  # fmt: skip
    return report


def report_json(report: VerifyReport) -> dict[str, Any]:
    latest = report.latest_checkpoint
    return {
        "ok": True,
        "tree_size": report.tree_size,
        "root_hash": report.root_hash.hex(),
        "checkpoints_verified": report.checkpoints_verified,
        "latest_checkpoint": latest.to_json() if latest else None,
        "unsigned_entries": report.unsigned_entries,
        "key_id": report.key_id,
    }


def export(call: Call, sink: IO[str], now: datetime) -> int:
    """Write the whole log as a JSON Lines export after signing a fresh checkpoint (audited).

    The export's own audit entry comes first, so the checkpoint that covers every exported entry
    also covers the record of the export.
    """
    call.audit.record(
        call.session, call.actor, "audit.export", now=now, resource="audit",
        details={"tree_size": tree_size(call.session) + 1},
    )  # fmt: skip
    cp = call.audit.checkpoint(call.session, now)
    call.session.commit()
    size = cp.tree_size
    checkpoints = [c for c in stored_checkpoints(call.session) if c.tree_size <= size]
    return write_export(
        sink, public_pem(call), records(call.session, size), sorted(checkpoints,
        key=lambda c: c.tree_size), tree_size=size, now=now,
    )  # fmt: skip


REPORT_ROWS = 10_000


def audit_trail_pdf(call: Call, start: datetime, end: datetime) -> bytes:
    """The audit-trail report for [start, end): entries, summaries, and a fresh verification."""
    from reports import (
        AuditEntryRow,
        AuditTrailReport,
        CheckpointRef,
        VerificationResult,
        build_audit_trail_report,
    )

    if end <= start:
        raise ValidationError("bad period", [{"field": "to", "message": "must be after from"}])
    session = call.session
    span = (AuditEntry.timestamp >= rfc3339(start), AuditEntry.timestamp < rfc3339(end))

    def counts(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(*span).group_by(column))
        return {str(key or "-"): n for key, n in rows}

    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*span)) or 0
    rows = session.scalars(select(AuditEntry).where(*span).order_by(AuditEntry.seq)
                           .limit(REPORT_ROWS))  # fmt: skip
    entries = [
        AuditEntryRow(
            seq=r.seq,
            timestamp=norm.parse_timestamp(r.timestamp),
            actor=r.actor_id or "-",
            role=r.actor_role or "-",
            action=r.action,
            resource=r.resource or "",
            subject=r.subject_id or "",
            purpose=r.purpose or "",
            outcome=r.outcome,
        )  # fmt: skip
        for r in rows
    ]
    try:
        report = verify_live(call)
        latest = report.latest_checkpoint
        verification = VerificationResult(
            ok=True,
            message=f"all {report.tree_size} entries and {report.checkpoints_verified} "
            "signed checkpoints verified",
            verified_tree_size=report.tree_size,
            checkpoint=CheckpointRef(latest.tree_size, latest.root_hash.hex(),
                                     norm.parse_timestamp(latest.timestamp), latest.key_id)
            if latest else None,
        )  # fmt: skip
    except VerifyError as exc:
        verification = VerificationResult(ok=False, message=str(exc), verified_tree_size=0)
    pdf = build_audit_trail_report(
        AuditTrailReport(
            generated_at=call.now(),
            period_start=start,
            period_end=end,
            entries=entries,
            counts_by_action=counts(AuditEntry.action),
            counts_by_actor=counts(AuditEntry.actor_id),
            counts_by_outcome=counts(AuditEntry.outcome),
            verification=verification,
            total_entries=total,
        )  # fmt: skip
    )
    call.audit.record(
        session, call.actor, "report.download", now=call.now(), resource="reports",
        details={"report": "audit-trail", "from": rfc3339(start), "to": rfc3339(end)},
    )  # fmt: skip
    return pdf


def period(params: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    """``from``/``to`` query parameters (default: the last 30 days up to now)."""
    from datetime import timedelta

    try:
        end = norm.parse_timestamp(params["to"]) if params.get("to") else now
        start = (norm.parse_timestamp(params["from"]) if params.get("from")
                 else end - timedelta(days=30))  # fmt: skip
    except norm.FieldError as exc:
        raise ValidationError("bad period", [{"field": "from/to", "message": str(exc)}]) from None
    return start, end
