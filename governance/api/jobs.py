"""Jobs and imports."""

from __future__ import annotations

import io
from typing import Any

from flask import jsonify, request

from governance.api import bp, created
from governance.errors import UnsupportedMediaType
from governance.extensions import db
from governance.services.customers import imports
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call
from governance.web.responses import describe_job

IMPORT_TYPES = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
}


@bp.get("/jobs")
def list_jobs() -> Any:
    call = current_call()
    found = jobs.recent(db.session(), actor=call.actor)
    return jsonify({"items": [describe_job(j) for j in found]})


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Any:
    return jsonify(describe_job(jobs.get(db.session(), job_id, current_call().actor)))


@bp.post("/imports")
def create_import() -> Any:
    """Import a CSV or JSON Lines body; the per-row report comes back in the job result."""
    fmt = IMPORT_TYPES.get(request.mimetype)
    if fmt is None:
        raise UnsupportedMediaType("send text/csv or application/x-ndjson (JSON Lines)")
    try:
        text = request.get_data(cache=False).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedMediaType("the body must be UTF-8 text") from None
    job = imports.import_stream(current_call(), io.StringIO(text, newline=""), fmt)
    return created(describe_job(job))
