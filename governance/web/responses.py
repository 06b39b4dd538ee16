"""Answers the API and the console both give: PDFs, jobs (202 with where to ask again), the signed
audit export and the audit-trail report. ``api/`` and ``console/`` never import each other; what
they share lives here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, jsonify, request

from governance.models import Job
from governance.services.breach.containment import check_downloads
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call


def pdf_response(pdf: bytes, name: str, *, frozen_ok: bool = False) -> Response:
    """A PDF download named ``name``; 423 while an incident froze downloads (unless
    ``frozen_ok``: the incident's own documents)."""
    if not frozen_ok:
        check_downloads(current_call().session)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def describe_job(job: Job) -> dict[str, Any]:
    """A job's JSON, saying so when it has waited unclaimed longer than JOB_UNCLAIMED_SECONDS."""
    unclaimed = timedelta(seconds=current_app.config["JOB_UNCLAIMED_SECONDS"])
    return jobs.describe(job, current_call().now(), unclaimed)


def accepted(job: Job, location: str) -> Response:
    """202 with the job, and where to ask again (the same route with ``?job=``)."""
    response = jsonify(describe_job(job))
    response.status_code = 202
    response.headers["Location"] = location
    response.headers["Retry-After"] = "2"
    return response


def audit_export_response() -> Response:
    """The whole log as signed JSON Lines, streamed from a spool file (audited)."""
    from governance.services.auditlog import views as audit_views

    call = current_call()
    check_downloads(call.session)
    spool, _ = audit_views.export_file(call, call.now())
    return Response(
        audit_views.chunks(spool),
        mimetype="application/jsonl",
        headers={"Content-Disposition": 'attachment; filename="audit-export.jsonl"'},
    )


def audit_trail_response() -> Response:
    """The audit-trail PDF for a period; over a large log a 202 with the report job, whose
    ``Location`` (the same route with ``?job=ID``) answers 202 until the PDF is ready."""
    from governance.services.auditlog import views as audit_views
    from governance.services.evidence import report_jobs

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
