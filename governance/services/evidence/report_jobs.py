"""Reports and summaries over large data run as jobs; small ones are answered at once.

A request never does work that grows with the data (ARCHITECTURE, "Long work"): the audit-trail
report verifies the whole log and lists the period's entries, and the quality summary decrypts
every customer. Above a configured size each becomes a job whose result (the PDF, or the
summary) is stored on the job row, so the caller follows the job and fetches the result once it
is ready, and a health probe never waits behind a worker busy building it. The quality summary
is also reused while the store is unchanged, so no call decrypts every customer again.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from governance.context import Call
from governance.errors import Conflict, NotFound
from governance.models import Customer, Job
from governance.services.auditlog.append import rfc3339, tree_size
from governance.services.customers import quality
from governance.services.jobs import queue as jobs

AUDIT_TRAIL = "report.audit-trail"
QUALITY = "quality.summary"


# --- the audit-trail report --------------------------------------------------------------------


def audit_trail(call: Call, start: datetime, end: datetime) -> bytes | Job:
    """The PDF now when the log is small, else a queued report job (not committed)."""
    from governance.services.auditlog.views import audit_trail_pdf

    if tree_size(call.session) <= call.settings.get("REPORT_INLINE_ENTRIES", 2000):
        return audit_trail_pdf(call, start, end)
    return jobs.submit(call, AUDIT_TRAIL, {"from": rfc3339(start), "to": rfc3339(end)})


@jobs.register(AUDIT_TRAIL)
def _build_audit_trail(ctx: jobs.JobContext) -> dict[str, Any]:
    from governance.services.auditlog.views import audit_trail_pdf
    from governance.services.customers import normalise as norm

    start = norm.parse_timestamp(ctx.params["from"])
    end = norm.parse_timestamp(ctx.params["to"])
    pdf = audit_trail_pdf(ctx.call, start, end)
    return {"report": "audit-trail", "bytes": len(pdf), "_pdf": base64.b64encode(pdf).decode()}


def finished_report(call: Call, job_id: str) -> tuple[Job, bytes | None]:
    """A report job of the caller and its PDF once built (None while queued or running).

    Raises NotFound for another owner's job or a job of another kind, Conflict if it failed.
    """
    job = jobs.get(call.session, job_id, call.actor)
    if job.kind != AUDIT_TRAIL:
        raise NotFound("no such job")
    if job.state == "failed":
        raise Conflict(f"the report could not be made: {job.error}")
    if job.state != "succeeded":
        return job, None
    return job, base64.b64decode((job.result or {})["_pdf"])


# --- the quality summary -----------------------------------------------------------------------


def _fingerprint(call: Call) -> list[Any]:
    """What a stored summary depends on: how many customers, and the latest change to one."""
    count, latest = call.session.execute(
        select(func.count(), func.max(Customer.updated_at)).select_from(Customer)
    ).one()
    return [count, rfc3339(latest) if latest else None]


def quality_summary(call: Call) -> dict[str, Any] | Job:
    """The data-quality summary: stored while the store is unchanged, computed now when small,
    else a (queued or already pending) summary job. Audited in every case; not committed."""
    fingerprint = _fingerprint(call)
    stored = _latest(call, "succeeded")
    if stored is not None and (stored.result or {}).get("_fingerprint") == fingerprint:
        return _served(call, stored)
    pending = _latest(call, "queued") or _latest(call, "running")
    if pending is not None:
        return pending
    small = fingerprint[0] <= call.settings.get("QUALITY_INLINE_CUSTOMERS", 5000)
    job = jobs.submit(call, QUALITY, {}, foreground=small)
    if not small:
        return job
    call.session.commit()  # the job row exists before it runs inline
    done = jobs.run(call, job)
    if done.state != "succeeded":
        raise Conflict(f"the quality summary could not be made: {done.error}")
    return _served(call, done)


def finished_summary(call: Call, job_id: str) -> dict[str, Any] | Job:
    """The summary of a quality job once done (audited), else the job itself."""
    job = call.session.get(Job, job_id) if job_id else None
    if job is None or job.kind != QUALITY:
        raise NotFound("no such job")
    if job.state == "failed":
        raise Conflict(f"the quality summary could not be made: {job.error}")
    return _served(call, job) if job.state == "succeeded" else job


@jobs.register(QUALITY)
def _build_quality(ctx: jobs.JobContext) -> dict[str, Any]:
    fingerprint = _fingerprint(ctx.call)  # before reading: a change meanwhile makes it stale
    summary = quality.compute(ctx.call)
    return {**summary, "_fingerprint": fingerprint}


def _latest(call: Call, state: str) -> Job | None:
    query = (
        select(Job)
        .where(Job.kind == QUALITY, Job.state == state)
        .order_by(Job.finished_at.desc() if state == "succeeded" else Job.created_at.desc())
        .limit(1)
    )
    return call.session.scalars(query).first()


def _served(call: Call, job: Job) -> dict[str, Any]:
    summary = {k: v for k, v in (job.result or {}).items() if not k.startswith("_")}
    quality.record_read(call, summary, job.id)
    as_of = job.finished_at.isoformat().replace("+00:00", "Z") if job.finished_at else None
    return {**summary, "as_of": as_of}
