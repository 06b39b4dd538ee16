"""Console pages for the audit log: browse and filter, checkpoints, verify, export, PDF report."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from audit.verify import VerifyError
from governance.console import bp
from governance.errors import ValidationError
from governance.extensions import db
from governance.services.auditlog import views as audit_views
from governance.web.edge import current_call
from governance.web.responses import audit_export_response, audit_trail_response


@bp.get("/audit", endpoint="audit")
def audit_page() -> Any:
    params = {k: v for k, v in request.args.items() if k in audit_views.FILTERS and v}
    page = audit_views.list_entries(db.session(), {**params, "limit": params.get("limit", "50")})
    checkpoints = audit_views.list_checkpoints(db.session(), 10)
    return render_template("audit.html", page=page, params=params, checkpoints=checkpoints,
                           result=None)  # fmt: skip


@bp.route("/audit/verify", methods=["GET", "POST"], endpoint="audit_verify")
def audit_verify_page() -> Any:
    result: dict[str, Any] | None = None
    if request.method == "POST":
        call = current_call()
        try:
            result = audit_views.report_json(audit_views.verify_live(call))
        except VerifyError as exc:
            result = audit_views.failure_json(exc)
    page = audit_views.list_entries(db.session(), {"limit": "50"})
    checkpoints = audit_views.list_checkpoints(db.session(), 10)
    return render_template("audit.html", page=page, params={}, checkpoints=checkpoints,
                           result=result)  # fmt: skip


@bp.get("/audit/export", endpoint="audit_export")
def audit_export_page() -> Response:
    """The same signed export as ``GET /api/v1/audit/export``."""
    return audit_export_response()


@bp.get("/audit/report", endpoint="audit_report")
def audit_report_page() -> BaseResponse:
    """The same PDF as ``GET /api/v1/reports/audit-trail``; a bad period leads back to the form."""
    try:
        response = audit_trail_response()
    except ValidationError as exc:
        reasons = "; ".join(f"{e['field']} {e['message']}" for e in exc.errors)
        flash(f"Report not made: {exc.detail}" + (f" ({reasons})" if reasons else ""), "error")
        return redirect(url_for("console.audit"))
    if response.status_code == 202:  # a large log: the report is a job; this page follows it
        job = response.get_json()
        follow = url_for("console.audit_report", job=job["id"])
        return Response(render_template("report_pending.html", job=job, follow=follow), 202)
    return response
