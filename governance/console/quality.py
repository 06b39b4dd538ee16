"""Data quality and imports in the console: the quality summary (completeness, invalid values,
duplicate groups) with a merge action for duplicates, and a file upload that imports customers
and shows the per-row report.

The merge calls ``services/customers/merge.py`` (the same as ``governance customers merge``):
the source's values the target lacks are taken, differing values are kept sealed in the
``customer.merge`` audit entry, the source is erased. It is sensitive, so it asks for the
password again (and resumes); it carries the request reference it answers.
"""

from __future__ import annotations

import io
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from governance.console import bp
from governance.errors import UnsupportedMediaType, ValidationError
from governance.models import Job
from governance.services.auditlog.names import short_ids
from governance.services.customers import imports
from governance.services.customers.merge import merge_customers
from governance.services.evidence import report_jobs
from governance.web.edge import current_call
from governance.web.reauth import require_recent_auth

IMPORT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@bp.get("/quality", endpoint="quality")
def quality_page() -> Any:
    from governance.console.visible import may_get

    call = current_call()
    result = report_jobs.quality_summary(call)
    if isinstance(result, Job):  # a large store: computed by a job; its page follows it
        return redirect(url_for("console.job_page", job_id=result.id))
    groups = result.get("duplicates", {})
    ids = [i for kind in groups.values() for group in kind for i in group]
    return render_template(
        "quality.html",
        summary=result,
        groups=groups,
        short=short_ids(ids),
        can_merge=may_get(call.actor.roles, "console.quality_merge"),
    )


@bp.post("/quality/merge", endpoint="quality_merge")
def quality_merge() -> Any:
    """Merge one duplicate into the record kept (password re-check first; the action resumes)."""
    source, target = request.form.get("source", ""), request.form.get("target", "")
    ref = request.form.get("request_ref", "").strip()
    if not source or not target or len(ref) < 3:
        raise ValidationError(
            "choose the record to keep and give the request reference",
            [{"field": "request_ref", "message": "at least 3 characters"}],
        )
    require_recent_auth()
    merged = merge_customers(current_call(), source, target, ref)
    taken = len(merged["fields_taken"])
    flash(_("Merged: %(n)s fields taken, the duplicate erased; every source value is in the "
            "audit log.", n=taken), "ok")  # fmt: skip
    return redirect(url_for("console.customer", customer_id=target))


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
def imports_page() -> Any:
    """Upload a CSV or JSON Lines file; the import runs now and its job page shows the report."""
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        name = (upload.filename or "") if upload else ""
        suffix = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
        fmt = IMPORT_FORMATS.get(suffix)
        if upload is None or not name:
            error = _("Choose a file to import.")
        elif fmt is None:
            error = _("The file must be .csv or .jsonl (JSON Lines).")
        else:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise UnsupportedMediaType("the file must be UTF-8 text") from None
            job = imports.import_stream(current_call(), io.StringIO(text, newline=""), fmt)
            return redirect(url_for("console.job_page", job_id=job.id))
    status = 422 if error else 200
    return render_template("imports.html", error=error), status
