"""Schedules: each period's job is submitted once, whichever and however many processes poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from governance.models import Job, ScheduleSlot
from governance.services.jobs import queue as jobs
from governance.services.jobs import schedule

KIND = "test.scheduled-noop"


@jobs.register(KIND)
def _noop(ctx: jobs.JobContext) -> dict[str, Any]:
    return {"ran": True}


@pytest.fixture
def every_six_hours() -> Any:
    others = dict(schedule.SCHEDULES)  # the domains' own schedules (retention, backups) aside
    schedule.SCHEDULES.clear()
    sched = schedule.register_schedule("test.noop", KIND, "TEST_NOOP_HOURS", 6)
    schedule.forget_seen()
    yield sched
    schedule.SCHEDULES.clear()
    schedule.SCHEDULES.update(others)
    schedule.forget_seen()


def _call(app: Any, moment: datetime, **settings: Any) -> Any:
    from governance.bootstrap import deps
    from governance.extensions import db

    call = deps(app).call(db.session)
    call.settings = {**call.settings, "SCHEDULES": True, **settings}
    call.clock = lambda: moment
    return call


def _submitted(app: Any) -> int:
    from governance.extensions import db

    return int(db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == KIND)))


def test_one_job_per_period_across_processes(app: Any, every_six_hours: Any) -> None:
    t0 = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
    with app.app_context():
        first = schedule.enqueue_due(_call(app, t0), "process-a")
        assert [j.kind for j in first] == [KIND]
        assert first[0].params["schedule"] == "test.noop"
        # Another process (its own memory of slots) polling in the same period finds it claimed.
        schedule.forget_seen()
        assert schedule.enqueue_due(_call(app, t0 + timedelta(hours=4)), "process-b") == []
        assert _submitted(app) == 1
        # The next period (12:00-18:00 UTC starts at 18:00) gets its own job.
        later = schedule.enqueue_due(_call(app, t0 + timedelta(hours=5)), "process-b")
        assert len(later) == 1 and _submitted(app) == 2
        from governance.extensions import db

        claimed = db.session.scalars(select(ScheduleSlot.claimed_by).order_by(ScheduleSlot.slot))
        assert list(claimed) == ["process-a", "process-b"]


def test_a_setting_of_zero_or_schedules_off_submits_nothing(app: Any, every_six_hours: Any) -> None:
    t0 = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
    with app.app_context():
        assert schedule.enqueue_due(_call(app, t0, TEST_NOOP_HOURS=0), "p") == []
        schedule.forget_seen()
        assert schedule.enqueue_due(_call(app, t0, SCHEDULES=False), "p") == []
        assert _submitted(app) == 0


def test_the_worker_tick_submits_and_runs_the_scheduled_job(app: Any, every_six_hours: Any) -> None:
    t0 = datetime(2026, 12, 6, 13, 0, tzinfo=UTC)
    with app.app_context():
        done = jobs.tick(_call(app, t0), "worker-1")
        assert done is not None and done.kind == KIND and done.state == "succeeded"
        assert done.result == {"ran": True}
        status = {s.name: s for s in schedule.status(_call(app, t0).session, {}, t0)}
        assert status["test.noop"].last_job_state == "succeeded"
        assert status["test.noop"].next_due == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)


def test_a_schedule_registered_twice_differently_is_a_programming_error(
    every_six_hours: Any,
) -> None:
    with pytest.raises(Exception, match="registered twice"):
        schedule.register_schedule("test.noop", KIND, "TEST_NOOP_HOURS", 12)
