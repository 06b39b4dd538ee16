"""Job commands: ``governance jobs list|show`` and ``governance worker``."""

from __future__ import annotations

import json
import os
import socket
import time

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli


@cli.group("jobs")
def jobs_group() -> None:
    """Inspect jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Recent jobs."""
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    for job in jobs.recent(db.session()):
        d = jobs.describe(job)
        total = d["progress"]["total"]
        click.echo(
            f"{d['id']}  {d['kind']:<12} {d['state']:<10} "
            f"{d['progress']['done']}{'/' + str(total) if total else ''}"
        )


@jobs_group.command("show")
@click.argument("job_id")
@with_appcontext
def jobs_show(job_id: str) -> None:
    """One job as JSON."""
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    click.echo(json.dumps(jobs.describe(jobs.get(db.session(), job_id)), indent=2))


@cli.command("worker")
@click.option("--once", is_flag=True, help="Run at most one job, then exit.")
@click.option("--poll", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@with_appcontext
def worker(once: bool, poll: float) -> None:
    """Run queued jobs (several workers may share one database) and integrate queued audit
    entries (whichever process holds the integrator's lease does the work)."""
    from flask import current_app

    from governance.bootstrap import start_audit_integrator
    from governance.services.jobs import queue as jobs

    name = f"{socket.gethostname()}:{os.getpid()}"
    click.echo(f"worker {name} started", err=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    integrator = None if once else start_audit_integrator(app)
    try:
        while True:
            job = jobs.tick(app_call(), name)
            if job is not None:
                click.echo(f"job {job.id} ({job.kind}) {job.state}", err=True)
            if once:
                return
            if job is None:
                time.sleep(poll)
    finally:
        if integrator is not None:
            integrator.stop()
