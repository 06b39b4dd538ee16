"""Jobs: long work as rows with state and progress, run in the foreground or by workers.

A worker claims the oldest runnable job atomically: ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL (several workers on several machines share one database), and on SQLite the claim runs
inside a ``BEGIN IMMEDIATE`` transaction, which is already exclusive. A job whose worker stopped
sending heartbeats is claimed again and resumes from its last checkpoint; after ``MAX_ATTEMPTS``
it fails cleanly.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from governance.context import Actor, Call
from governance.errors import GovernanceError, InternalError, NotFound
from governance.models import Job
from governance.models.ids import is_id
from governance.services.jobs import schedule

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(seconds=60)


class JobCancelled(GovernanceError):
    """Raised inside a handler to stop early (not used by the built-in kinds)."""

    status = 409
    slug = "job-cancelled"
    title = "Job cancelled"


@dataclass
class JobContext:
    """What a job handler gets: the call to act with, its job row and progress reporting."""

    call: Call
    job: Job
    on_progress: Callable[[int, int | None], None] | None = None
    _last_beat: datetime | None = field(default=None, repr=False)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params or {})

    @property
    def saved(self) -> dict[str, Any]:
        """The checkpoint saved by an earlier, interrupted run (empty on the first run)."""
        return dict(self.job.checkpoint or {})

    def progress(
        self, done: int, total: int | None = None, checkpoint: dict[str, Any] | None = None
    ) -> None:
        """Record progress (and a resume point) and commit the work done so far."""
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if checkpoint is not None:
            self.job.checkpoint = checkpoint
        self.job.heartbeat_at = self.call.now()
        self.call.session.commit()  # checkpoint: the work so far survives a crash
        if self.on_progress:
            self.on_progress(done, self.job.progress_total)


Handler = Callable[[JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    """Decorator adding a job kind."""

    def wrap(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return wrap


def submit(call: Call, kind: str, params: dict[str, Any], foreground: bool = False) -> Job:
    """Queue a job (not committed).

    ``foreground``: the caller runs it right away (``run``), so it is created already claimed,
    and no worker or in-process runner can take it between the commit and the run.
    """
    if kind not in HANDLERS:
        raise GovernanceError(f"unknown job kind {kind}")
    job = Job(kind=kind, params=params, state="queued", created_by=call.actor.id)
    job.created_at = call.now()
    if foreground:
        job.state, job.worker, job.attempts = "running", "foreground", 1
        job.started_at = job.heartbeat_at = job.created_at
    call.session.add(job)
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        "job.submit",
        now=call.now(),
        resource="jobs",
        details={"job_id": job.id, "kind": kind},
    )
    return job


def claim(
    session: Session, worker: str, now: datetime, kinds: list[str] | None = None
) -> Job | None:
    """Claim the oldest queued (or abandoned) job for ``worker``; commits the claim."""
    stale = now - STALE_AFTER
    query = (
        select(Job)
        .where(
            or_(
                Job.state == "queued",
                (Job.state == "running") & (Job.heartbeat_at < stale),
            )
        )
        .order_by(Job.created_at)
        .limit(1)
    )
    if kinds:
        query = query.where(Job.kind.in_(kinds))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalars(query).first()
    if job is None:
        session.rollback()
        return None
    job.state = "running"
    job.worker = worker
    job.attempts += 1
    job.started_at = job.started_at or now
    job.heartbeat_at = now
    session.commit()  # the claim is its own transaction
    return job


def run(
    call: Call,
    job: Job,
    on_progress: Callable[[int, int | None], None] | None = None,
    handler: Handler | None = None,
) -> Job:
    """Run a claimed (or new) job to the end, recording success or a clean failure."""
    session = call.session
    if job.state == "queued":
        job.state = "running"
        job.attempts += 1
        job.started_at = call.now()
        job.heartbeat_at = call.now()
        session.commit()  # the claim is its own transaction
    if job.attempts > MAX_ATTEMPTS:
        return _finish(call, job, error="gave up after its worker stopped repeatedly")
    ctx = JobContext(call.as_actor(_job_actor(call.actor, job)), job, on_progress)
    try:
        result = (handler or HANDLERS[job.kind])(ctx)
    except Exception as exc:  # a failed job must be recorded, whatever broke
        session.rollback()
        if isinstance(exc, GovernanceError) and not isinstance(exc, InternalError):
            return _finish(call, job, error=exc.detail)  # the job's input: say what was wrong
        log.error("job %s (%s) failed: %s", job.id, job.kind, type(exc).__name__)
        log.debug("%s", traceback.format_exc())
        return _finish(call, job, error=f"internal error: {type(exc).__name__}")
    return _finish(call, job, result=result)


def _job_actor(actor: Actor, job: Job) -> Actor:
    if actor.type != "system":
        return actor
    return Actor(
        id=job.created_by or "system", type="system", roles=("system",), request_id=f"job:{job.id}"
    )


def _finish(
    call: Call, job: Job, result: dict[str, Any] | None = None, error: str | None = None
) -> Job:
    session = call.session
    job = session.get(Job, job.id) or job
    job.state = "failed" if error else "succeeded"
    job.result = result
    job.error = error
    job.finished_at = call.now()
    call.audit.record(
        session,
        call.actor,
        "job.finish",
        now=call.now(),
        resource="jobs",
        outcome="failed" if error else "allowed",
        details={"job_id": job.id, "kind": job.kind, "state": job.state},
    )
    session.commit()  # the job ends with its audit entry, together
    return job


# Roles that oversee every job (and the system itself); anyone else sees only their own jobs.
SEES_ALL_JOBS = frozenset({"admin", "dpo", "system"})


def sees_all(actor: Actor | None) -> bool:
    """True for callers that oversee every job (None: an internal caller such as the CLI)."""
    return actor is None or actor.type == "system" or bool(SEES_ALL_JOBS & set(actor.roles))


def get(session: Session, job_id: str, actor: Actor | None = None) -> Job:
    """A job by id, as ``actor`` may see it; NotFound otherwise.

    Another owner's job is answered exactly like a missing one (not 403), so ids cannot be
    confirmed by guessing.
    """
    job = session.get(Job, job_id) if is_id(job_id) else None
    if job is None or not (sees_all(actor) or (actor and job.created_by == actor.id)):
        raise NotFound("no such job")
    return job


NO_WORKER_HINT = (
    "no worker has claimed this job: start `governance worker`, or run the server with "
    "`governance up` or `governance serve` (which run jobs in-process unless --no-jobs)"
)


def waiting(job: Job, now: datetime, unclaimed_after: timedelta) -> dict[str, Any] | None:
    """For a job queued longer than ``unclaimed_after``: how long, and how to get it run."""
    if job.state != "queued" or job.created_at is None:
        return None
    created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
    age = now - created
    if age < unclaimed_after:
        return None
    return {"unclaimed_seconds": int(age.total_seconds()), "hint": NO_WORKER_HINT}


def describe(
    job: Job, now: datetime | None = None, unclaimed_after: timedelta | None = None
) -> dict[str, Any]:
    """The public JSON shape of a job (with ``waiting`` when it sat unclaimed too long).

    Result keys starting with ``_`` are internal (e.g. a stored report) and are left out.
    """

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment else None

    total = job.progress_total
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": {
            "done": job.progress_done,
            "total": total,
            "percent": round(100 * job.progress_done / total, 1) if total else None,
        },
        "result": _public(job.result),
        "error": job.error,
        "waiting": waiting(job, now, unclaimed_after) if now and unclaimed_after else None,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def _public(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {k: v for k, v in result.items() if not k.startswith("_")}


def tick(call: Call, worker: str) -> Job | None:
    """One poll of a worker: checkpoint if due, submit due scheduled jobs, run one job.

    Shared by ``governance worker`` and the job runner inside ``up``/``serve``; the claim is
    exclusive across processes and machines (see ``claim``). Returns the job run, if any.
    """
    now = call.now()
    # Entries written during a quiet spell still get signed within CHECKPOINT_SECONDS.
    if call.audit.checkpoint_if_stale(call.session, now) is not None:
        log.info("signed an audit checkpoint")
    call.session.commit()  # one worker tick, one unit of work
    schedule.enqueue_due(call, worker)
    job = claim(call.session, worker, now)
    if job is None:
        return None
    log.info("%s running %s job %s", worker, job.kind, job.id)
    done = run(call, job)
    log.info("job %s %s", done.id, done.state)
    return done


def recent(session: Session, limit: int = 50, actor: Actor | None = None) -> list[Job]:
    """The most recent jobs ``actor`` may see, newest first."""
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if not sees_all(actor):
        assert actor is not None
        query = query.where(Job.created_by == actor.id)
    return list(session.scalars(query))
