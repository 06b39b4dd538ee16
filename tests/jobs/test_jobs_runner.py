"""Jobs run with the README's setup: the server runs them in-process; an unclaimed job says why.

The server tests start the real CLI (``governance serve``) on a copy of the migrated database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_URL, login_as

from governance.context import Actor
from governance.models import Job
from governance.services.jobs import queue as jobs


def _wait_for(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _state(call: Any, job_id: str) -> str:
    call.session.rollback()
    state = str(call.session.get(Job, job_id).state)
    call.session.rollback()  # on SQLite every transaction holds the writer lock: let it go
    return state


def test_two_in_process_runners_run_each_job_once_and_stop_cleanly(app: Any, call: Any) -> None:
    """Two runners (as in two gunicorn workers) share the queue; claims stay exclusive."""
    from governance.commands.run import start_job_runner

    period = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    queued = [jobs.submit(call, "report.audit-trail", period) for _ in range(4)]
    call.session.commit()
    runners = [start_job_runner(app), start_job_runner(app)]
    try:
        done = _wait_for(lambda: all(_state(call, j.id) == "succeeded" for j in queued), 120)
    finally:
        stopped = [runner.stop(timeout=60) for runner in runners]
    assert done, [_state(call, j.id) for j in queued]
    assert stopped == [True, True] and not any(r.alive for r in runners)
    call.session.rollback()
    assert [call.session.get(Job, j.id).attempts for j in queued] == [1, 1, 1, 1]


def test_a_job_nobody_claimed_says_so_with_the_fix(app: Any, client: Any, call: Any) -> None:
    owner = Actor(id="admin-app", type="system", roles=("system",))
    job = jobs.submit(call.as_actor(owner), "demo-data", {"count": 1})
    call.session.commit()
    login_as(app, client, "admin")
    fresh = client.get(f"/api/v1/jobs/{job.id}").json
    assert fresh["state"] == "queued" and fresh["waiting"] is None
    job.created_at = call.now() - timedelta(seconds=app.config["JOB_UNCLAIMED_SECONDS"] + 5)
    call.session.commit()
    stale = client.get(f"/api/v1/jobs/{job.id}").json
    assert stale["waiting"]["unclaimed_seconds"] >= app.config["JOB_UNCLAIMED_SECONDS"]
    assert "governance worker" in stale["waiting"]["hint"]
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-waiting"' in page and "governance worker" in page


def test_a_foreground_job_is_never_taken_by_a_runner(call: Any) -> None:
    """The CLI and uploads run their job right after committing it: no worker may claim it."""
    job = jobs.submit(call, "demo-data", {"count": 1}, foreground=True)
    call.session.commit()
    assert jobs.claim(call.session, "runner", call.now()) is None
    assert jobs.run(call, job).state == "succeeded"


# --- the real server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(args: list[str], database_url: str, instance: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GOVERNANCE_DATABASE_URL": database_url,
        "GOVERNANCE_INSTANCE_PATH": str(instance),
        "GOVERNANCE_DEV": "true",
        "GOVERNANCE_LOG_LEVEL": "INFO",
    }
    exe = Path(sys.executable).with_name("governance")
    return subprocess.Popen(
        [str(exe), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the reloader's child is stopped too
    )


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as res:
            return bool(res.status == 200)
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes], seconds: float = 60) -> tuple[int | None, str]:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:  # it had already exited (a server that never served)
        pass
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.slow
def test_serve_runs_queued_jobs_and_stops_cleanly(
    app: Any, call: Any, database_url: str, tmp_path: Path
) -> None:
    job = jobs.submit(call, "demo-data", {"count": 2, "seed": 3})
    call.session.commit()
    port = _free_port()
    proc = _start(["serve", "--port", str(port), "--workers", "2"], database_url, app.instance_path)
    try:
        ran = _wait_for(lambda: _state(call, job.id) == "succeeded", 150)
        serving = _healthy(port)
    finally:
        code, out = _stop(proc)
    assert ran, out[-3000:]
    assert serving, out[-3000:]
    assert code == 0, out[-3000:]
    assert out.count("job runner") >= 4 and out.count("stopped") == 2, out[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(PG_URL is not None, reason="the subprocess path is the same on PostgreSQL")
def test_serve_dev_serves(app: Any, database_url: str) -> None:
    port = _free_port()
    proc = _start(["serve", "--dev", "--port", str(port)], database_url, app.instance_path)
    try:
        served = _wait_for(lambda: _healthy(port) or proc.poll() is not None, 90)
        alive = proc.poll() is None
        healthy = _healthy(port)
    finally:
        _code, out = _stop(proc)
    assert served and alive and healthy, out[-3000:]
