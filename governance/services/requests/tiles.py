"""Dashboard tiles of data-subject requests and retention sweeps (counts and dates only)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from governance.context import Call
from governance.models import Job, SubjectRequest
from governance.services.evidence.dashboard import N_, State, Tile, provider
from governance.services.requests import rules as request_rules
from governance.services.requests.workflow import OPEN
from governance.services.retention.sweep import KIND as SWEEP


@provider("requests-due", pages=("console.requests",), order=20)
def _requests_due(call: Call) -> Tile:
    now = call.now()
    soon = now + timedelta(days=request_rules.current().due_soon_days)
    open_ = SubjectRequest.state.in_(OPEN)
    count = call.session.scalar(select(func.count()).select_from(SubjectRequest).where(open_))
    overdue = call.session.scalar(
        select(func.count()).select_from(SubjectRequest).where(open_, SubjectRequest.due_at < now)
    )
    due_soon = call.session.scalar(
        select(func.count())
        .select_from(SubjectRequest)
        .where(open_, SubjectRequest.due_at >= now, SubjectRequest.due_at <= soon)
    )
    state: State = "bad" if overdue else ("warn" if due_soon else "good")
    return Tile("requests-due", N_("Requests open"), int(count or 0),
                N_("%(overdue)s overdue, %(soon)s due soon"), "console.requests", state=state,
                detail_args={"overdue": str(overdue or 0), "soon": str(due_soon or 0)})  # fmt: skip


@provider("retention-runs", pages=("console.retention",), order=21)
def _retention_runs(call: Call) -> Tile:
    last = call.session.scalars(
        select(Job).where(Job.kind == SWEEP).order_by(Job.created_at.desc()).limit(1)
    ).first()
    if last is None:
        return Tile("retention-runs", N_("Retention sweeps"), "—", N_("no sweep yet"),
                    "console.retention", state="warn")  # fmt: skip
    removed = (last.result or {}).get("total", last.progress_done)
    state: State = (
        "bad" if last.state == "failed" else ("good" if last.state == "succeeded" else "")
    )
    return Tile("retention-runs", N_("Retention sweeps"), int(removed),
                N_("removed by the last sweep (%(state)s, %(at)s)"), "console.retention",
                state=state, detail_args={"state": last.state,
                                          "at": last.created_at.isoformat()[:16]})  # fmt: skip
