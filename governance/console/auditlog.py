"""Console pages for the audit log: browse and filter (actors by name, ids short and unique on
the page), one entry in full (with the reason given for a reveal), checkpoints, verify, export,
PDF report."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from audit.verify import VerifyError
from governance.console import bp
from governance.errors import ValidationError
from governance.extensions import db
from governance.services.auditlog import names
from governance.services.auditlog import views as audit_views
from governance.web.edge import current_call
from governance.web.responses import audit_export_response, audit_trail_response

PAGE = "50"


def _page(params: dict[str, str], before: str | None = None) -> dict[str, Any]:
    """A page of entries, newest first (``before``: the older page), actors and subjects named."""
    limited = {**params, "limit": params.get("limit", PAGE)}
    return _named(audit_views.newest_entries(db.session(), limited, before))


def _named(page: dict[str, Any]) -> dict[str, Any]:
    actors, subjects = names.name_entries(db.session(), page["items"])
    for entry in page["items"]:
        entry["actor_name"] = actors.get(entry.get("actor_id") or "")
        entry["subject_name"] = subjects.get(entry.get("subject_id") or "")
        entry["reveal_reason"] = names.reveal_reason(entry)
    return page


def _render(
    params: dict[str, str], result: dict[str, Any] | None, status: int = 200, before: str = ""
) -> Any:
    errors: dict[str, str] = {}
    try:
        page = _page(params, before)
    except ValidationError as exc:  # a bad filter stays on the form, beside its field
        errors = {e["field"]: e["message"] for e in exc.errors}
        page, status = _page({}), 422
    checkpoints = audit_views.list_checkpoints(db.session(), 10)
    return render_template("audit.html", page=page, params=params, checkpoints=checkpoints,
                           result=result, errors=errors, before=before), status  # fmt: skip


@bp.get("/audit", endpoint="audit")
def audit_page() -> Any:
    params = {
        k: v for k, v in request.args.items() if k in audit_views.FILTERS and k != "after" and v
    }
    return _render(params, None, before=request.args.get("before", ""))


@bp.route("/audit/verify", methods=["GET", "POST"], endpoint="audit_verify")
def audit_verify_page() -> Any:
    result: dict[str, Any] | None = None
    if request.method == "POST":
        call = current_call()
        try:
            result = audit_views.report_json(audit_views.verify_live(call))
        except VerifyError as exc:
            result = audit_views.failure_json(exc)
    return _render({}, result)


@bp.get("/audit/entries/<seq>", endpoint="audit_entry")
def audit_entry_page(seq: str) -> Any:
    """One entry in full: who (by name), what, on whom, why (purpose, reveal reason), its leaf."""
    if not seq.isdigit() or len(seq) > 18:
        abort(404)
    after = {"after": str(max(int(seq) - 1, 0)), "limit": "1"}
    page = _named(audit_views.list_entries(db.session(), after))
    if not page["items"] or page["items"][0]["seq"] != int(seq):
        abort(404)
    return render_template("audit_entry.html", e=page["items"][0])


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
        return redirect(
            request.referrer if _same_site(request.referrer) else url_for("console.audit")
        )
    if response.status_code == 202:  # a large log: the report is a job; this page follows it
        job = response.get_json()
        follow = url_for("console.audit_report", job=job["id"])
        return Response(render_template("report_pending.html", job=job, follow=follow), 202)
    return response


def _same_site(referrer: str | None) -> bool:
    return bool(referrer) and (referrer or "").startswith(request.host_url)
