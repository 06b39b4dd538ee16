"""Reviewing PII findings (list, filter, set a status; audited) and the PII discovery report.

Statuses: ``open`` (found, not reviewed), ``confirmed`` (personal data, still there),
``false_positive`` (not personal data) and ``remediated`` (removed; set by a reviewer or by a
rescan that no longer sees it). Only locations, types and scores leave this module, never the
matched values (they are never stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from governance.context import Call
from governance.errors import NotFound, ValidationError
from governance.models import PiiFinding, PiiScan
from governance.models.ids import is_id
from governance.models.pii import ACTIVE_STATUSES, FINDING_STATUSES
from governance.services.customers.store import decode_cursor, encode_cursor
from governance.services.evidence.downloads import record_download
from reports import (
    InventoryRow,
    OpenItem,
    PiiDiscoveryReport,
    TrendRow,
    build_pii_discovery_report,
)

FILTERS = ("status", "entity_type", "table", "column", "declared", "subject_id", "record_id")
STATUS_MESSAGE = f"must be one of {', '.join(FINDING_STATUSES)}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def finding_doc(row: PiiFinding) -> dict[str, Any]:
    """The public JSON shape of a finding: where, what type, how sure; never the value."""
    return {
        "id": row.id,
        "table": row.table_name,
        "column": row.column_name,
        "record_id": row.record_id,
        "subject_id": row.subject_id,
        "entity_type": row.entity_type,
        "start": row.start_offset,
        "end": row.end_offset,
        "score": round(row.score, 4),
        "declared": row.declared,
        "status": row.status,
        "first_scan_id": row.first_scan_id,
        "last_scan_id": row.last_scan_id,
        "first_seen_at": _iso(row.first_seen_at),
        "last_seen_at": _iso(row.last_seen_at),
        "reviewed_by": row.reviewed_by,
        "reviewed_at": _iso(row.reviewed_at),
    }


def _filtered(filters: Mapping[str, str]) -> Any:
    errors = [{"field": k, "message": "is not a filter"} for k in filters if k not in FILTERS]
    status = filters.get("status")
    if status and status not in FINDING_STATUSES:
        errors.append({"field": "status", "message": STATUS_MESSAGE})
    declared = filters.get("declared")
    if declared and declared not in ("true", "false"):
        errors.append({"field": "declared", "message": "must be true or false"})
    if errors:
        raise ValidationError("bad filter", errors)
    query = select(PiiFinding)
    columns = {
        "status": PiiFinding.status,
        "entity_type": PiiFinding.entity_type,
        "table": PiiFinding.table_name,
        "column": PiiFinding.column_name,
        "subject_id": PiiFinding.subject_id,
        "record_id": PiiFinding.record_id,
    }
    for name, column in columns.items():
        if filters.get(name):
            query = query.where(column == filters[name])
    if declared:
        query = query.where(PiiFinding.declared.is_(declared == "true"))
    return query


def list_findings(
    call: Call, filters: Mapping[str, str], cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """One page of findings in discovery order; ValidationError for an unknown filter."""
    query = _filtered({k: v for k, v in filters.items() if v != ""})
    if cursor:
        query = query.where(PiiFinding.id > decode_cursor(cursor))
    limit = max(1, min(limit, 500))
    rows = list(call.session.scalars(query.order_by(PiiFinding.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [finding_doc(r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }


def get_finding(call: Call, finding_id: str) -> PiiFinding:
    """A finding by id; NotFound otherwise."""
    row = call.session.get(PiiFinding, finding_id) if is_id(finding_id) else None
    if row is None:
        raise NotFound(f"no PII finding {finding_id}")
    return row


def review(call: Call, finding_id: str, status: Any) -> PiiFinding:
    """Set a finding's review status (audited ``pii.review``; locations and types only)."""
    if status not in FINDING_STATUSES:
        raise ValidationError(
            "bad status",
            [{"field": "status", "message": STATUS_MESSAGE}],
        )
    row = get_finding(call, finding_id)
    before = row.status
    row.status = status
    row.reviewed_by = call.actor.id
    row.reviewed_at = call.now()
    call.audit.record(
        call.session,
        call.actor,
        "pii.review",
        now=call.now(),
        resource="pii_findings",
        subject_id=row.subject_id,
        details={
            "finding_id": row.id,
            "table": row.table_name,
            "column": row.column_name,
            "record_id": row.record_id,
            "entity_type": row.entity_type,
            "from": before,
            "to": status,
        },
    )
    return row


def undeclared_confirmed(call: Call) -> int:
    """Confirmed findings whose entity type is not declared for their column (dashboard)."""
    query = select(func.count()).where(
        PiiFinding.status == "confirmed", PiiFinding.declared.is_(False)
    )
    return int(call.session.scalar(query.select_from(PiiFinding)) or 0)


# -- the PII discovery report ------------------------------------------------------------
OPEN_ITEMS_MAX = 300


def _scans_for_report(call: Call) -> tuple[PiiScan, PiiScan | None]:
    query = (
        select(PiiScan)
        .where(PiiScan.state == "succeeded")
        .order_by(PiiScan.started_at.desc(), PiiScan.id.desc())
        .limit(2)
    )
    scans = list(call.session.scalars(query))
    if not scans:
        raise NotFound("no PII scan has completed yet: run one first")
    return scans[0], (scans[1] if len(scans) > 1 else None)


def _open_items(call: Call) -> list[OpenItem]:
    """Undeclared findings not reviewed to a final state, most certain first."""
    rows = call.session.scalars(
        select(PiiFinding)
        .where(PiiFinding.status.in_(ACTIVE_STATUSES), PiiFinding.declared.is_(False))
        .order_by(PiiFinding.score.desc(), PiiFinding.id)
        .limit(OPEN_ITEMS_MAX)
    )
    return [
        OpenItem(
            finding_id=r.id,
            table=r.table_name,
            column=r.column_name,
            record_id=r.record_id,
            entity_type=r.entity_type,
            score=min(max(r.score, 0.0), 1.0),
            status=r.status,
        )
        for r in rows
    ]


def discovery_report(call: Call) -> PiiDiscoveryReport:
    """The report's data: latest scan's inventory and counts, trend, open items."""
    scan, previous = _scans_for_report(call)
    counts: dict[str, int] = dict((scan.summary or {}).get("by_entity", {}))
    before: dict[str, int] = dict((previous.summary or {}).get("by_entity", {})) if previous else {}
    inventory = [
        InventoryRow(
            table=row["table"],
            column=row["column"],
            entity_type=entity,
            records_with=min(held["records"], row["records_total"]),
            records_total=row["records_total"],
            share=min(held["share"], 1.0),
        )
        for row in scan.inventory or []
        for entity, held in row["entities"].items()
    ]
    trend = [
        TrendRow(
            entity_type=t, previous=before.get(t) if previous else None, current=counts.get(t, 0)
        )
        for t in sorted(set(counts) | set(before))
    ]
    return PiiDiscoveryReport(
        generated_at=call.now(),
        scan_id=scan.id,
        scanned_at=scan.started_at,
        inventory=inventory,
        findings_by_entity=counts,
        trend=trend,
        open_items=_open_items(call),
        previous_scan_id=previous.id if previous else None,
        previous_scanned_at=previous.started_at if previous else None,
    )


def discovery_pdf(call: Call) -> bytes:
    """The PII discovery report as PDF bytes; the download is audited."""
    pdf = build_pii_discovery_report(discovery_report(call))
    return record_download(call, "pii-discovery", pdf)
