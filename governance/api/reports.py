"""PDF reports. Over a large log the audit-trail report is a job: 202, then the PDF when built."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from governance.api import bp
from governance.api.jobs import describe
from governance.models import Job
from governance.services.evidence import inventory, report_jobs
from governance.web.edge import current_call


def pdf_response(pdf: bytes, name: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def accepted(job: Job, location: str) -> Response:
    """202 with the job, and where to ask again (the same route with ``?job=``)."""
    response = jsonify(describe(job))
    response.status_code = 202
    response.headers["Location"] = location
    response.headers["Retry-After"] = "2"
    return response


@bp.get("/reports/data-inventory")
def data_inventory_report() -> Any:
    pdf = inventory.data_inventory_pdf(current_call(), current_app.config["DATABASE_URL"])
    return pdf_response(pdf, "data-inventory.pdf")


@bp.get("/reports/audit-trail")
def audit_trail_report() -> Any:
    """The PDF for a period; over a large log a 202 with the report job, whose ``Location``
    (this route with ``?job=ID``) answers 202 until the PDF is ready, then the PDF."""
    from governance.services.auditlog import views as audit_views

    call = current_call()
    if request.args.get("job"):
        job, pdf = report_jobs.finished_report(call, request.args["job"])
        if pdf is None:
            return accepted(job, f"{request.path}?job={job.id}")
        return pdf_response(pdf, "audit-trail.pdf")
    # empty fields (a console form left blank) mean the default period
    start, end = audit_views.period({k: v for k, v in request.args.items() if v}, call.now())
    made = report_jobs.audit_trail(call, start, end)
    if isinstance(made, Job):
        return accepted(made, f"{request.path}?job={made.id}")
    return pdf_response(made, "audit-trail.pdf")
