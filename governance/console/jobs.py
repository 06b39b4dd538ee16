"""Job pages: recent jobs and one job's progress (JSON for the page's polling script)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

from governance.console import bp
from governance.extensions import db
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call
from governance.web.responses import describe_job


@bp.get("/jobs", endpoint="jobs")
def jobs_page() -> Any:
    return render_template(
        "jobs.html",
        jobs=[describe_job(j) for j in jobs.recent(db.session(), 100, current_call().actor)],
    )


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> Any:
    job = describe_job(jobs.get(db.session(), job_id, current_call().actor))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(job)
    return render_template("job.html", job=job)
