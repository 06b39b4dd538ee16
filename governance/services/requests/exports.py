"""Access and portability exports: everything held on a person, built by a job, stored sealed
with the person's own data key, downloadable once and only until it expires (the download
audited).

The ZIP holds ``export.json`` (profile, orders, interactions, consent history where the consent
module keeps one, and every access to their data from the audit log), CSV files for the tabular
parts, and ``summary.pdf``, a readable summary in English or Chinese. Sealing it with the
subject's data key means an erasure also destroys any export not yet collected.
"""

from __future__ import annotations

import base64
import csv
import importlib
import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from governance.context import Call, system_purpose
from governance.errors import Conflict, GovernanceError, NotFound
from governance.models import Customer, Interaction, Order, RequestExport, SubjectRequest
from governance.models.ids import new_id
from governance.services.auditlog.append import rfc3339
from governance.services.customers import reads, records, store
from governance.services.jobs import queue as jobs
from governance.services.requests.accesses import accesses

KIND = "requests.export"
TABLE, COLUMN = "subject_request_exports", "content"
PURPOSE = "subject_request"


class ExportGone(GovernanceError):
    """The export expired, was already downloaded, or was destroyed with the subject."""

    status = 410
    slug = "export-gone"
    title = "Export no longer available"


def start(call: Call, request: SubjectRequest) -> None:
    """Queue the export job of a request (not committed)."""
    jobs.submit(call, KIND, {"request_id": request.id})


def _rows_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v
                         for k, v in row.items()})  # fmt: skip
    return out.getvalue()


def _consent_history(call: Call, customer_id: str) -> list[dict[str, Any]] | None:
    """The consent events with their receipts, and the objections and restrictions, when this
    server has the consent module (else None)."""
    try:
        ledger: Any = importlib.import_module("governance.services.consent.ledger")
        receipts: Any = importlib.import_module("governance.services.consent.receipts")
        objections: Any = importlib.import_module("governance.services.consent.objections")
    except ImportError:
        return None
    history: list[dict[str, Any]] = []
    for event in ledger.customer_events(call, customer_id):
        doc = {"kind": "consent", **ledger.event_json(event)}
        try:
            receipt = receipts.receipt(call, event.id)
            receipt.pop("public_key", None)
            doc["receipt"] = receipt
        except GovernanceError:  # not integrated yet: the receipt can be asked for later
            doc["receipt"] = None
        history.append(doc)
    history += [{"kind": "objection", **o} for o in objections.objections_of(call, customer_id)]
    return history


def collect(call: Call, customer_id: str) -> dict[str, Any]:
    """Everything held on one customer, in clear (memory only), with every access to it."""
    internal = call.for_purpose(system_purpose(PURPOSE))
    keys = reads.subject_keys(internal, [customer_id])
    key = keys.get(customer_id)
    customer = call.session.get(Customer, customer_id)
    if key is None or customer is None:
        raise Conflict("the subject was erased: there is nothing left to export")
    shown = {"comment", "items", "note"}
    orders = [
        records.order_document(call, o, key, shown)
        for o in call.session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.ordered_at)
        )
    ]
    notes = [records.interaction_document(call, i, key, shown) for i in call.session.scalars(
        select(Interaction).where(Interaction.customer_id == customer_id)
        .order_by(Interaction.occurred_at))]  # fmt: skip
    seen = list(accesses(call.session, customer_id))
    reads.audit_read(
        internal, "request.export.build", subject_id=customer_id,
        details={"fields": sorted(store.FIELDS), "orders": len(orders),
                 "interactions": len(notes), "accesses": len(seen)},
    )  # fmt: skip
    return {
        "format": "governance-subject-export/v1",
        "generated_at": rfc3339(call.now()),
        "profile": store.to_document(call, customer, key),
        "orders": orders,
        "interactions": notes,
        "consent": _consent_history(call, customer_id),
        "accesses": seen,
    }


def build_zip(data: dict[str, Any], language: str) -> bytes:
    """The ZIP of an export: JSON, CSV where tabular, and the PDF summary."""
    from reports.access_summary import build_access_summary

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("profile.csv", _rows_csv([data["profile"]], list(data["profile"])))
        archive.writestr("orders.csv", _rows_csv(data["orders"], [
            "id", "ordered_at", "amount", "currency", "items", "comment"]))  # fmt: skip
        archive.writestr("interactions.csv", _rows_csv(data["interactions"], [
            "id", "occurred_at", "channel", "note"]))  # fmt: skip
        archive.writestr("accesses.csv", _rows_csv(data["accesses"], [
            "seq", "when", "who", "who_type", "role", "action", "purpose", "outcome",
            "fields"]))  # fmt: skip
        if data.get("consent") is not None:
            archive.writestr("consent.csv", _rows_csv(data["consent"], sorted(
                {k for row in data["consent"] for k in row})))  # fmt: skip
        archive.writestr("summary.pdf", build_access_summary(data, language))
    return buffer.getvalue()


@jobs.register(KIND)
def _build(ctx: jobs.JobContext) -> dict[str, Any]:
    from governance.services.requests.workflow import _audit, _event

    call = ctx.call
    request = call.session.get(SubjectRequest, ctx.params["request_id"])
    if request is None or request.customer_id is None:
        raise NotFound("no such request")
    data = collect(call, request.customer_id)
    language = "zh" if str(data["profile"].get("language") or "").startswith("zh") else "en"
    content = build_zip(data, language)
    key = call.vault.subject_key(call.session, request.customer_id)
    export = RequestExport(id=new_id(), request_id=request.id, customer_id=request.customer_id,
                           job_id=ctx.job.id, size=len(content), created_at=call.now())  # fmt: skip
    days = int(call.settings.get("REQUEST_EXPORT_DAYS", 7))
    export.expires_at = export.created_at + timedelta(days=days)
    sealed = base64.b64encode(content).decode()
    export.content_ct = call.vault.seal(
        key, TABLE, COLUMN, request.customer_id, sealed, row_id=export.id
    )
    call.session.add(export)
    old = request.state
    request.state, request.outcome, request.completed_at = "completed", "export_ready", call.now()
    _event(call, request, "completed", old, "completed",
           f"export ready until {rfc3339(export.expires_at)[:10]}")  # fmt: skip
    _audit(call, request, "request.completed", {"from": old, "outcome": "export_ready",
                                                "export_id": export.id})  # fmt: skip
    return {"request_id": request.id, "export_id": export.id, "bytes": len(content)}


def latest(call: Call, request_id: str) -> RequestExport | None:
    query = select(RequestExport).where(RequestExport.request_id == request_id)
    return call.session.scalars(query.order_by(RequestExport.created_at.desc()).limit(1)).first()


def download(call: Call, request: SubjectRequest) -> tuple[bytes, str]:
    """The export's ZIP bytes, once: ExportGone (410) when expired, taken or destroyed."""
    export = latest(call, request.id)
    if export is None:
        raise Conflict("no export was made for this request (yet)")
    now = call.now()
    if export.content_ct is None:
        raise ExportGone(f"export {export.id} was deleted")
    if export.downloaded_at is not None:
        raise ExportGone(f"export {export.id} was already downloaded; make a new request")
    if now >= export.expires_at:
        raise ExportGone(
            f"export {export.id} expired at {rfc3339(export.expires_at)}; make a new request"
        )
    try:
        key = call.vault.subject_key(call.session, export.customer_id)
    except GovernanceError:
        raise ExportGone(f"export {export.id} was destroyed with the subject's data") from None
    text = call.vault.open(key, TABLE, COLUMN, export.customer_id, export.content_ct,
                           row_id=export.id)  # fmt: skip
    export.downloaded_at = now
    export.content_ct = None  # downloadable once: nothing left to take
    call.audit.record(call.session, call.actor, "request.export.download", now=now,
                      resource=TABLE, subject_id=export.customer_id,
                      details={"request_id": request.id, "export_id": export.id})  # fmt: skip
    return base64.b64decode(text), f"subject-export-{request.id}.zip"


def describe_export(export: RequestExport | None) -> dict[str, Any] | None:
    if export is None:
        return None
    return {
        "id": export.id,
        "size": export.size,
        "created_at": rfc3339(export.created_at),
        "expires_at": rfc3339(export.expires_at),
        "downloaded_at": rfc3339(export.downloaded_at) if export.downloaded_at else None,
        "available": export.content_ct is not None,
    }
