"""Reading the audit log: entries, checkpoints, RFC 9162 proofs, live verification and export.

Proofs come from the stored perfect-subtree nodes (one SELECT per proof, RFC 9162 order).
Verification and export read a snapshot of the log on a connection of their own
(``audit_snapshot``) and run the ``audit`` library's single verifier and export writer, so the
live database and an auditor's offline ``python -m audit verify`` run exactly the same code.

What is itself audited: issuing a checkpoint, every verification (and its failure), every export
and every report download. Browsing entries, checkpoints and proofs is not: those reads return
ids and field names only, and recording them would grow the log on every page view.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, public_key_pem
from audit.export import write_export
from audit.proofs import ProofRequestError, prove_consistency, prove_inclusion
from audit.verify import Progress, VerifyError, VerifyReport
from governance.context import Call
from governance.errors import Conflict, ValidationError
from governance.models import AuditCheckpoint, AuditEntry
from governance.services.auditlog.append import (
    SqlNodeStore,
    pending_count,
    rfc3339,
    to_checkpoint,
    tree_size,
)
from governance.services.auditlog.snapshot import COLUMNS, snapshot
from governance.services.auditlog.witness import WitnessError
from governance.services.customers import normalise as norm

log = logging.getLogger(__name__)
MAX_ENTRIES_PAGE = 1000  # above it a 422 naming the maximum, as every API limit
FILTERS = ("from", "to", "actor", "subject", "action", "after", "limit")
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII digits only, and always within a BIGINT


def _bad(field: str, message: str, detail: str = "bad parameter") -> ValidationError:
    return ValidationError(detail, [{"field": field, "message": message}])


def entry_json(row: AuditEntry) -> dict[str, Any]:
    """The API shape of one entry: seq, its fields (as hashed), the leaf and its hash."""
    body = json.loads(row.leaf)
    return {
        "seq": row.seq,
        **{k: body.get(k) for k in (*COLUMNS, "request_id", "client", "details")},
        "leaf": row.leaf,
        "leaf_hash": bytes(row.leaf_hash).hex(),
    }


def _int(
    value: str | None, name: str, default: int | None = None, low: int = 0, high: int | None = None
) -> int | None:
    if not value:
        return default
    if _DIGITS.fullmatch(value) is None:
        raise _bad(name, "must be a non-negative integer of at most 18 digits")
    number = int(value)
    if high is not None and not low <= number <= high:
        raise _bad(name, f"must be between {low} and {high}")  # the API's one rule for limits
    if number < low:
        raise _bad(name, f"must be at least {low}")
    return number


def _moment(value: str, field: str) -> str:
    try:
        return rfc3339(norm.parse_timestamp(value))
    except (norm.FieldError, ValueError, OverflowError):
        raise _bad(field, "must be an ISO 8601 date or time", "bad time") from None


def _filtered(params: dict[str, str]) -> Select[AuditEntry]:
    """The SELECT of the entries matching ``params`` (unknown or bad filters: 422)."""
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        raise ValidationError(
            "unknown parameter", [{"field": k, "message": "is not a filter"} for k in unknown]
        )
    query = select(AuditEntry)
    if params.get("from"):
        query = query.where(AuditEntry.timestamp >= _moment(params["from"], "from"))
    if params.get("to"):
        query = query.where(AuditEntry.timestamp < _moment(params["to"], "to"))
    for name, column in (("actor", AuditEntry.actor_id), ("subject", AuditEntry.subject_id),
                         ("action", AuditEntry.action)):  # fmt: skip
        if params.get(name):
            query = query.where(column == params[name])
    return query


def list_entries(session: Session, params: dict[str, str]) -> dict[str, Any]:
    """Entries filtered by time, actor, subject and action, in seq order (cursor: ``after``)."""
    query = _filtered(params).order_by(AuditEntry.seq)
    after = _int(params.get("after"), "after", 0)
    limit = _int(params.get("limit"), "limit", 100, 1, MAX_ENTRIES_PAGE) or 100
    rows = list(session.scalars(query.where(AuditEntry.seq > after).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [entry_json(r) for r in rows],
        "next_after": rows[-1].seq if more and rows else None,
        "tree_size": tree_size(session),
    }


def newest_entries(session: Session, params: dict[str, str], before: str | None) -> dict[str, Any]:
    """The same filters, newest first (what a person browsing the log wants to see first);
    cursor ``before``: entries with a smaller seq, ``next_before`` for the page after."""
    query = _filtered({k: v for k, v in params.items() if k != "after"})
    older = _int(before, "before", 0)
    if older:
        query = query.where(AuditEntry.seq < older)
    limit = _int(params.get("limit"), "limit", 100, 1, MAX_ENTRIES_PAGE) or 100
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [entry_json(r) for r in rows],
        "next_before": rows[-1].seq if more and rows else None,
        "tree_size": tree_size(session),
    }


def list_checkpoints(session: Session, latest: int | None = None) -> list[dict[str, Any]]:
    """All checkpoints (or only the ``latest`` few), oldest first, in the API shape."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(latest)
    return [to_checkpoint(r).to_json() for r in reversed(session.scalars(query).all())]


class NotYetIntegrated(Conflict):
    """The entry or tree size is committed but not integrated yet: ask again shortly (409)."""

    headers = {"Retry-After": "1"}


def _size(session: Session, requested: int | None, field: str) -> int:
    current = tree_size(session)
    size = current if requested is None else requested
    if size > current:
        _refuse_pending(session, current, size, field)
        raise _bad(field, f"the log has {current} entries", "tree too small")
    return size


def _refuse_pending(session: Session, current: int, wanted: int, field: str) -> None:
    """Raise NotYetIntegrated when ``wanted`` lies among the entries waiting for integration."""
    if wanted <= current + pending_count(session):
        raise NotYetIntegrated(
            f"{field} {wanted} is committed but not integrated into the tree yet "
            f"(the tree has {current} entries); retry shortly"
        )


def inclusion(session: Session, seq: str | None, size: str | None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``tree_size`` (default: now)."""
    number = _int(seq, "seq", None, 1)
    if number is None:
        raise _bad("seq", "is required", "seq is required")
    requested = _int(size, "tree_size", None, 1)
    tree = _size(session, requested, "tree_size")
    if requested is None and number > tree:  # "in the tree as it is now"
        _refuse_pending(session, tree, number, "seq")
    try:
        return prove_inclusion(SqlNodeStore(session), number - 1, tree).to_json()
    except ProofRequestError as exc:
        raise _bad("seq", str(exc), "no such proof") from None


def consistency(session: Session, first: str | None, second: str | None) -> dict[str, Any]:
    """RFC 9162 consistency proof between tree sizes ``first`` and ``second`` (default: now)."""
    m = _int(first, "first", None, 1)
    if m is None:
        raise _bad("first", "is required", "first is required")
    n = _size(session, _int(second, "second", None, 1), "second")
    try:
        return prove_consistency(SqlNodeStore(session), m, n).to_json()
    except ProofRequestError as exc:
        raise _bad("first", str(exc), "no such proof") from None


def public_pem(call: Call) -> str:
    """The checkpoint signing key's public half (SubjectPublicKeyInfo PEM)."""
    return public_key_pem(call.audit.signing_key).decode("ascii")


def checkpoint_now(call: Call) -> Checkpoint:
    """Sign a checkpoint of the log now (audited; the caller commits)."""
    call.audit.record(call.session, call.actor, "audit.checkpoint", now=call.now(),
                      resource="audit")  # fmt: skip
    return call.audit.checkpoint(call.session, call.now())


def verify_live(
    call: Call, progress: Progress | None = None, public_key: Ed25519PublicKey | None = None
) -> VerifyReport:
    """Verify the database's log against its checkpoints, the checkpoint kept outside the
    database and a key (default: ours); audited.

    Raises VerifyError naming the first bad entry or checkpoint; the failure is recorded and
    committed on its own. On success the record is left for the caller to commit.
    """
    key = public_key or call.audit.signing_key.public_key()
    # Checkpoint (a long read): commit what the caller did so far, so that no write lock is held
    # while the whole log is read on a connection of its own.
    call.session.commit()
    try:
        kept = kept_checkpoint(call)
        with snapshot(call.session) as snap:
            report = snap.verify(key, progress, kept, restore_explainer(call))
            gap = snap.explained_gap
    except VerifyError as exc:
        try:
            call.audit.record_alone(
                call.session, call.actor, "audit.verify", now=call.now(), resource="audit",
                outcome="failed", details={"error": str(exc)[:300]},
            )  # fmt: skip
        except Exception:  # a damaged log may refuse even this append; the failure still shows
            call.session.rollback()
            log.error("audit verification failed and could not be recorded: %s", exc)
        raise
    call.audit.record(
        call.session, call.actor, "audit.verify", now=call.now(), resource="audit",
        details={"tree_size": report.tree_size, "checkpoints": report.checkpoints_verified,
                 **({"explained_gap": gap} if gap else {})},
    )  # fmt: skip
    if gap:
        log.warning("audit log verified with an explained gap: %s", gap)
    return report


def restore_explainer(call: Call) -> Any:
    """The signed restore records' explanation of a log cut back by a restore (backups issue)."""
    from governance.services.backups import restore_records

    return restore_records.explainer(call)


def kept_checkpoint(call: Call) -> Checkpoint | None:
    """The newest checkpoint kept outside the database, if any; raise VerifyError if unreadable.

    Read before the snapshot: a checkpoint signed meanwhile can only make the kept one older
    than the snapshot's, never newer.
    """
    if call.audit.witness is None:
        return None
    try:
        return call.audit.witness.load()
    except WitnessError as exc:
        raise VerifyError(f"the checkpoint kept outside the database: {exc}") from None


def report_json(report: VerifyReport) -> dict[str, Any]:
    """A successful verification in the API shape."""
    latest = report.latest_checkpoint
    return {
        "ok": True,
        "tree_size": report.tree_size,
        "root_hash": report.root_hash.hex(),
        "checkpoints_verified": report.checkpoints_verified,
        "latest_checkpoint": latest.to_json() if latest else None,
        "unsigned_entries": report.unsigned_entries,
        "pending_entries": report.pending_entries,
        "key_id": report.key_id,
    }


def failure_json(exc: VerifyError) -> dict[str, Any]:
    """A failed verification in the API shape: the first bad entry (seq) or checkpoint."""
    return {"ok": False, "error": str(exc), "seq": exc.seq, "tree_size": exc.tree_size}


def export(call: Call, sink: IO[str], now: datetime) -> int:
    """Write the whole log as a JSON Lines export after signing a fresh checkpoint (audited).

    The export's own audit entry comes first and what is pending is integrated with it, so the
    checkpoint covers every exported entry and the record of the export; entries committed
    meanwhile follow as pending lines. Raises Conflict if stored entries are missing.
    """
    call.audit.record(
        call.session, call.actor, "audit.export", now=now, resource="audit",
        details={"tree_size": tree_size(call.session) + 1},
    )  # fmt: skip
    size = call.audit.checkpoint(call.session, now).tree_size
    call.session.commit()  # checkpoint before the long read of the whole log
    with snapshot(call.session) as snap:
        try:
            count = write_export(
                sink, public_pem(call), snap.records(size), snap.checkpoints(size),
                tree_size=size, now=now, pending=snap.pending(),
            )  # fmt: skip
        except ValueError as exc:
            raise Conflict(f"the audit log cannot be exported ({exc}); verify it") from None
    return count


def export_file(call: Call, now: datetime) -> tuple[IO[bytes], int]:
    """The export in a rewound temporary file (streamed to a download, not held in memory)."""
    spool = tempfile.TemporaryFile()
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
        count = export(call, text, now)
        text.flush()
        text.detach()
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, count


def chunks(spool: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """Read a spooled export in chunks for a streamed response, closing it at the end."""
    try:
        while chunk := spool.read(size):
            yield chunk
    finally:
        spool.close()


def period(params: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    """``from``/``to`` query parameters as ``[start, end)`` (default: the 30 days up to now).

    The range is inclusive, as people read dates: a date-only ``to`` covers that whole day (so
    ``from`` = ``to`` is a one-day report) and a timestamp ``to`` includes that instant.
    """
    try:
        end = _inclusive_end(params["to"]) if params.get("to") else now
        start = (norm.parse_timestamp(params["from"]) if params.get("from")
                 else end - timedelta(days=30))  # fmt: skip
    except (norm.FieldError, ValueError, OverflowError):
        raise _bad("from/to", "must be an ISO 8601 date or time", "bad period") from None
    if end <= start:
        raise _bad("to", "must not be before from", "bad period")
    return start, end


def _inclusive_end(value: str) -> datetime:
    """The exclusive bound just after ``value``: the next midnight for a date, else 1 µs on."""
    moment = norm.parse_timestamp(value)
    if _DATE_ONLY.fullmatch(value.strip()):
        return moment + timedelta(days=1)
    return moment + timedelta(microseconds=1)


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def audit_trail_pdf(call: Call, start: datetime, end: datetime) -> bytes:
    """The audit-trail report for [start, end): entries, summaries and a fresh verification."""
    from governance.services.evidence.audit_trail import audit_trail_pdf as build

    return build(call, start, end)
