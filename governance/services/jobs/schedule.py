"""Schedules: recurring jobs, enqueued once per period by whichever process gets there first.

Every process that runs jobs (the runner thread of ``governance up``/``serve`` and ``governance
worker``) calls ``enqueue_due`` on each poll. Time is cut into slots of the schedule's period
(``floor(epoch seconds / period)``); the first process to insert the row ``(name, slot)`` into
``job_schedule_slots`` submits the job, every other one hits the primary key and moves on. So a
daily backup is taken once a day whether one process runs or twenty on several machines, and a
process that was down when a period began still starts that period's job when it comes back.

A domain registers its schedule at import time (as job kinds are registered)::

    register_schedule("backup.create", kind="backup.create", setting="BACKUP_EVERY_HOURS",
                      default_hours=24)

``setting`` names a ``GOVERNANCE_*`` setting in hours; 0 turns that schedule off, and
``GOVERNANCE_SCHEDULES=false`` turns all of them off (the test suite does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from governance.context import SYSTEM, Call
from governance.errors import InternalError
from governance.models import Job, ScheduleSlot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """A job kind to run every ``period`` hours (read from the setting named ``setting``)."""

    name: str
    kind: str
    setting: str
    default_hours: float
    params: Callable[[], dict[str, Any]] | None = None

    def period(self, settings: dict[str, Any]) -> timedelta | None:
        """The period in force, or None when this schedule (or all schedules) is off."""
        if not settings.get("SCHEDULES", True):
            return None
        hours = float(settings.get(self.setting, self.default_hours))
        return timedelta(hours=hours) if hours > 0 else None


SCHEDULES: dict[str, Schedule] = {}

# Slots this process already handled (claimed, or found claimed): no query until the next one.
_seen: dict[str, int] = {}
_seen_lock = threading.Lock()


def register_schedule(
    name: str,
    kind: str,
    setting: str,
    default_hours: float,
    params: Callable[[], dict[str, Any]] | None = None,
) -> Schedule:
    """Declare a schedule (at import time of the module that owns ``kind``)."""
    existing = SCHEDULES.get(name)
    schedule = Schedule(name, kind, setting, default_hours, params)
    if existing is not None and existing != schedule:
        raise InternalError(f"schedule {name} registered twice with different settings")
    SCHEDULES[name] = schedule
    return schedule


def slot_of(moment: datetime, period: timedelta) -> int:
    """The index of the period ``moment`` falls in, counted from the Unix epoch."""
    return int(moment.timestamp() // period.total_seconds())


def slot_start(slot: int, period: timedelta) -> datetime:
    """When slot number ``slot`` of ``period`` begins (UTC)."""
    return datetime.fromtimestamp(slot * period.total_seconds(), tz=UTC)


def enqueue_due(call: Call, worker: str) -> list[Job]:
    """Submit the job of every schedule whose current slot nobody has claimed yet; commits.

    Each claim runs in its own savepoint, so losing the race to another process is an ordinary
    outcome, not an error, and never aborts the caller's transaction.
    """
    from governance.services.jobs import queue

    now = call.now()
    submitted: list[Job] = []
    for schedule in list(SCHEDULES.values()):
        period = schedule.period(call.settings)
        if period is None:
            continue
        slot = slot_of(now, period)
        with _seen_lock:
            if _seen.get(schedule.name) == slot:
                continue
        if call.session.get(ScheduleSlot, (schedule.name, slot)) is None:
            try:
                claim = ScheduleSlot(
                    name=schedule.name, slot=slot, claimed_by=worker, claimed_at=now
                )
                with call.session.begin_nested():
                    call.session.add(claim)
                    call.session.flush()
                system = call.as_actor(SYSTEM)
                params = schedule.params() if schedule.params else {}
                job = queue.submit(system, schedule.kind, {**params, "schedule": schedule.name})
                claim.job_id = job.id
                call.session.commit()
                submitted.append(job)
                log.info("schedule %s: submitted %s job %s", schedule.name, schedule.kind, job.id)
            except IntegrityError:
                pass  # another process claimed this slot first; the savepoint is rolled back
        with _seen_lock:
            _seen[schedule.name] = slot
    return submitted


@dataclass(frozen=True)
class ScheduleStatus:
    """What the console and ``/readyz`` show of a schedule."""

    name: str
    kind: str
    period: timedelta | None
    last_claimed_at: datetime | None
    last_job_id: str | None
    last_job_state: str | None
    next_due: datetime | None


def status(session: Session, settings: dict[str, Any], now: datetime) -> list[ScheduleStatus]:
    """Every registered schedule with its last run and when the next one is due."""
    out: list[ScheduleStatus] = []
    for schedule in sorted(SCHEDULES.values(), key=lambda s: s.name):
        period = schedule.period(settings)
        last = session.scalars(
            select(ScheduleSlot)
            .where(ScheduleSlot.name == schedule.name)
            .order_by(ScheduleSlot.slot.desc())
            .limit(1)
        ).first()
        job = session.get(Job, last.job_id) if last is not None and last.job_id else None
        next_due = slot_start(slot_of(now, period) + 1, period) if period is not None else None
        out.append(
            ScheduleStatus(
                name=schedule.name,
                kind=schedule.kind,
                period=period,
                last_claimed_at=last.claimed_at if last is not None else None,
                last_job_id=job.id if job is not None else None,
                last_job_state=job.state if job is not None else None,
                next_due=next_due,
            )
        )
    return out


def forget_seen() -> None:
    """Drop this process's memory of handled slots (tests that move the clock use it)."""
    with _seen_lock:
        _seen.clear()
