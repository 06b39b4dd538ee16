"""Data-quality summary: stored while the store is unchanged; over a large store, a job (202)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from governance.api import bp
from governance.models import Job
from governance.services.evidence import report_jobs
from governance.web.edge import current_call
from governance.web.responses import accepted


@bp.get("/quality")
def quality_summary() -> Any:
    """The summary, or 202 with the job computing it (``Location``: this route with ``?job=``)."""
    call = current_call()
    job_id = request.args.get("job")
    result = (
        report_jobs.finished_summary(call, job_id) if job_id else report_jobs.quality_summary(call)
    )
    if isinstance(result, Job):
        return accepted(result, f"{request.path}?job={result.id}")
    return jsonify(result)
