"""Core commands: up, serve, worker, import, quality, demo-data, jobs, reports."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from governance.cli import app_call, cli, run_job_foreground


def _print_import_report(result: dict[str, Any]) -> None:
    click.echo(
        f"created {result.get('created', 0)}, updated {result.get('updated', 0)}, "
        f"rejected {result.get('rejected', 0)}, duplicates {result.get('duplicates', 0)}"
    )
    for row in result.get("rows", []):
        if row["status"] == "duplicate":
            of = row["duplicate_of"] or "an existing customer"
            same = f" (same {row['matched_on']})" if row["matched_on"] else ""
            click.echo(f"row {row['row']}: duplicate of {of}{same}")
        else:
            reasons = "; ".join(f"{e['field'] or 'row'} {e['message']}" for e in row["errors"])
            click.echo(f"row {row['row']}: rejected: {reasons}")


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: from the name."
)
@with_appcontext
def import_command(file: Path, fmt: str | None) -> None:
    """Import customers from a CSV or JSON Lines FILE (per-row report)."""
    from governance.services.customers.imports import detect_format

    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    fmt = detect_format(file.name, fmt)
    job = run_job_foreground("import", {"path": str(file.resolve()), "format": fmt}, "importing")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "import failed")
    _print_import_report(job.result)
    if job.result.get("rejected") or job.result.get("duplicates"):
        raise SystemExit(3)


@cli.command("demo-data")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", type=int, default=7, show_default=True)
@with_appcontext
def demo_data(count: int, seed: int) -> None:
    """Load COUNT synthetic customers (Faker; Chinese and Western) with orders and notes."""
    job = run_job_foreground("demo-data", {"count": count, "seed": seed}, "demo customers")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "demo data failed")
    click.echo(
        f"created {job.result['created']} demo customers "
        f"({job.result['duplicates']} duplicates skipped)"
    )


@cli.command("quality")
@click.option("--json", "as_json", is_flag=True, help="Print the full summary as JSON.")
@with_appcontext
def quality_command(as_json: bool) -> None:
    """Data-quality summary: completeness, invalid values, duplicate groups."""
    from governance.extensions import db
    from governance.services.customers import quality

    result = quality.summary(app_call())
    db.session.commit()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"customers: {result['customers']}")
    click.echo(f"{'field':<16}{'complete':>10}{'invalid':>9}")
    for name, f in result["fields"].items():
        click.echo(f"{name:<16}{f['completeness'] * 100:>9.1f}%{f['invalid']:>9}")
    groups = ", ".join(f"{k}: {v}" for k, v in result["duplicate_groups"].items())
    click.echo(f"duplicate groups: {groups}")


@cli.group("reports")
def reports_group() -> None:
    """Generate PDF reports."""


@reports_group.command("data-inventory")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def report_data_inventory(out: Path) -> None:
    """Write the data-inventory report to OUT (PDF)."""
    from governance.extensions import db
    from governance.services.evidence import inventory

    pdf = inventory.data_inventory_pdf(app_call(), current_app.config["DATABASE_URL"])
    db.session.commit()
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf)} bytes)")


@cli.group("jobs")
def jobs_group() -> None:
    """Inspect jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Recent jobs."""
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    for job in jobs.recent(db.session):
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

    click.echo(json.dumps(jobs.describe(jobs.get(db.session, job_id)), indent=2))


@cli.command("worker")
@click.option("--once", is_flag=True, help="Run at most one job, then exit.")
@click.option("--poll", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@with_appcontext
def worker(once: bool, poll: float) -> None:
    """Run queued jobs (several workers may share one database)."""
    from flask import current_app

    from governance.services.auditlog.integrator import start_integrator
    from governance.services.jobs import queue as jobs

    name = f"{socket.gethostname()}:{os.getpid()}"
    click.echo(f"worker {name} started", err=True)
    integrator = None if once else start_integrator(current_app._get_current_object())  # type: ignore[attr-defined]
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


@reports_group.command("audit-trail")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "start", help="Start (ISO 8601); default 30 days before --to.")
@click.option("--to", "end", help="End (ISO 8601); default now.")
@with_appcontext
def report_audit_trail(out: Path, start: str | None, end: str | None) -> None:
    """Write the audit-trail report (entries, summaries, verification) to OUT (PDF)."""
    from governance.extensions import db
    from governance.services.auditlog import views as audit_views

    call = app_call()
    period = audit_views.period({"from": start or "", "to": end or ""}, call.now())
    pdf = audit_views.audit_trail_pdf(call, *period)
    db.session.commit()
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf)} bytes)")
