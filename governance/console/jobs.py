"""Job pages: recent jobs (one table: sort, filter, pages) and one job's live progress and its
result, readable (JSON only for the page's polling script)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from governance.console import bp
from governance.extensions import db
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call
from governance.web.i18n import number, when
from governance.web.responses import describe_job
from governance.web.tables import Column, table

COLUMNS = (
    Column("kind", _l("Kind")),
    Column("state", _l("State")),
    Column("progress", _l("Progress"), sortable=False),
    Column("created_at", _l("Created")),
    Column("result", _l("Result"), sortable=False),
)


def summary(job: dict[str, Any]) -> str:
    """A job's result in one line: its first figures (``created 3 · rejected 1``), or its error."""
    if job.get("error"):
        return str(job["error"])
    result = job.get("result") or {}
    figures = [
        f"{key.replace('_', ' ')} {number(value)}"
        for key, value in result.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if figures:
        return " · ".join(figures[:5])
    words = [f"{k.replace('_', ' ')}: {v}" for k, v in result.items() if isinstance(v, str)]
    return " · ".join(words[:3])


def _cells(job: dict[str, Any]) -> list[Any]:
    href = url_for("console.job_page", job_id=job["id"])
    link = Markup('<a href="{}">{}</a>').format(href, job["kind"])
    progress = job["progress"]
    shown = (
        Markup('<progress max="{}" value="{}"></progress> {}%').format(
            progress["total"], progress["done"], progress["percent"]
        )
        if progress["total"]
        else number(progress["done"])
    )
    waiting = job.get("waiting")
    result = escape(summary(job))
    if waiting:
        result += Markup(' <span class="muted">{}</span>').format(waiting["hint"])
    return [link, job["state"], shown, when(job["created_at"]), result]


@bp.get("/jobs", endpoint="jobs")
def jobs_page() -> Any:
    described = [describe_job(j) for j in jobs.recent(db.session(), 100, current_call().actor)]
    listing = table(
        COLUMNS, described, _cells,
        value=lambda j, key: j.get(key),
        default_sort="created_at",
        text=lambda j: f"{j['kind']} {j['state']} {summary(j)}",
    )  # fmt: skip
    return render_template("jobs.html", table=listing)


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> Any:
    job = describe_job(jobs.get(db.session(), job_id, current_call().actor))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(job)
    return render_template("job.html", job=job, summary=summary(job))
