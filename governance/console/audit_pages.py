"""Console pages for the audit log: browse and filter, checkpoints, verify, export."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template, request

from audit.verify import VerifyError
from governance.console import bp
from governance.extensions import db
from governance.services import audit_views
from governance.web import current_call


@bp.get("/audit", endpoint="audit")
def audit_page() -> Any:
    params = {k: v for k, v in request.args.items() if k in audit_views.FILTERS and v}
    page = audit_views.list_entries(db.session, {**params, "limit": params.get("limit", "50")})
    checkpoints = audit_views.list_checkpoints(db.session)[-10:]
    return render_template("audit.html", page=page, params=params, checkpoints=checkpoints,
                           result=None)  # fmt: skip


@bp.route("/audit/verify", methods=["GET", "POST"], endpoint="audit_verify")
def audit_verify_page() -> Any:
    result: dict[str, Any] | None = None
    if request.method == "POST":
        try:
            result = audit_views.report_json(audit_views.verify_live(current_call()))
            db.session.commit()
        except VerifyError as exc:
            result = {"ok": False, "error": str(exc)}
    page = audit_views.list_entries(db.session, {"limit": "50"})
    checkpoints = audit_views.list_checkpoints(db.session)[-10:]
    return render_template("audit.html", page=page, params={}, checkpoints=checkpoints,
                           result=result)  # fmt: skip


@bp.get("/audit/export", endpoint="audit_export")
def audit_export_page() -> Response:
    sink = io.StringIO()
    audit_views.export(current_call(), sink, datetime.now(UTC))
    response = Response(sink.getvalue(), mimetype="application/jsonl")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-export.jsonl"'
    return response


@bp.get("/audit/report", endpoint="audit_report")
def audit_report_page() -> Response:
    from governance.api.reports import pdf_response

    call = current_call()
    start, end = audit_views.period(
        {k: v for k, v in request.args.items() if k in ("from", "to") and v}, call.now()
    )
    pdf = audit_views.audit_trail_pdf(call, start, end)
    db.session.commit()
    return pdf_response(pdf, "audit-trail.pdf")
