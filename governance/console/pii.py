"""Console: PII detection status, store scans and their inventory, findings review, the report.

``/pii`` shows which recognisers and NER model are active (without loading the model), the latest
scan's inventory and the findings, filtered; its forms (CSRF-protected) start a scan, which opens
the job page with live progress, or review a finding (audited ``pii.review``). The PII discovery
report downloads from ``/reports/pii-discovery`` (audited).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from governance.console import bp
from governance.context import Call
from governance.errors import ValidationError
from governance.models.pii import FINDING_STATUSES
from governance.services.pii import review as pii_review
from governance.services.pii import scans as pii_scans
from governance.web.edge import current_call
from governance.web.responses import pdf_response

PLACES = {"undeclared": "false", "declared": "true", "all": ""}
REVIEW_LABELS = {
    "confirmed": _l("Confirm"),
    "false_positive": _l("False positive"),
    "remediated": _l("Remediated"),
    "open": _l("Reopen"),
}


def _filters() -> tuple[dict[str, str], str]:
    """Findings filters from the query string; the place defaults to undeclared."""
    place = request.args.get("place", "undeclared")
    if place not in PLACES:
        place = "undeclared"
    filters = {
        k: v.strip()
        for k, v in request.args.items()
        if k in ("status", "entity_type", "table", "column") and v.strip()
    }
    if PLACES[place]:
        filters["declared"] = PLACES[place]
    return filters, place


def _engine() -> dict[str, Any]:
    """The engine status (never loads the model) and its recognisers per entity and language."""
    from governance.services.pii import detection as pii

    status = {**pii.engine_status(), "loaded": pii.engine_loaded()}
    matrix: dict[str, dict[str, list[str]]] = {}
    for lang, specs in status["recognizers"].items():
        for spec in specs:
            cell = matrix.setdefault(spec["entity"], {}).setdefault(lang, [])
            cell.append(f"{spec['name']} ({spec['source']})")
    status["matrix"] = dict(sorted(matrix.items()))
    return status


@bp.route("/pii", methods=["GET", "POST"], endpoint="pii")
def pii_page() -> Any:
    call = current_call()
    if request.method == "POST":
        return _act(call)
    filters, place = _filters()
    page = pii_review.list_findings(
        call, filters, cursor=request.args.get("cursor") or None, limit=50
    )
    return render_template(
        "pii.html",
        engine=_engine(),
        latest=pii_scans.last_scan(call),
        scans=pii_scans.recent_scans(call, 5),
        page=page,
        filters=filters,
        place=place,
        statuses=FINDING_STATUSES,
        review_labels=REVIEW_LABELS,
        args={k: v for k, v in request.args.items() if k != "cursor"},
    )


def _act(call: Call) -> Any:
    action = request.form.get("action", "")
    if action == "scan":
        job = pii_scans.submit_scan(call, request.form.get("mode", "incremental"))
        flash("Scan queued: a worker (governance worker) runs it; progress shows here.", "ok")
        return redirect(url_for("console.job_page", job_id=job.id))
    if action == "review":
        status = request.form.get("status", "")
        row = pii_review.review(call, request.form.get("finding_id", ""), status)
        flash(f"Finding in {row.table_name}.{row.column_name} marked {status}.", "ok")
        return redirect(url_for("console.pii", **request.args.to_dict()))  # type: ignore[arg-type]
    raise ValidationError("unknown action", [{"field": "action", "message": "unknown"}])


@bp.get("/reports/pii-discovery")
def report_pii_discovery() -> Any:
    pdf = pii_review.discovery_pdf(current_call())
    return pdf_response(pdf, "pii-discovery.pdf")
