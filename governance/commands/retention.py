"""Retention commands: ``governance retention plan [--json]`` (a dry run that changes nothing)
and ``governance retention run`` (the sweep, a job with progress, resumable)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from governance.cli import cli, run_job_foreground, work


@cli.group("retention")
def retention_group() -> None:
    """Retention rules (policies/retention.yaml): plan and run sweeps."""


@retention_group.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@with_appcontext
def plan_command(as_json: bool) -> None:
    """What a sweep would remove now, per rule, with example ids; changes nothing."""
    from governance.services.retention import sweep

    with work() as call:
        result = sweep.plan(call)
        call.session.rollback()  # a dry run: nothing to keep
    if as_json:
        click.echo(json.dumps({"rules": [
            {k: item[k] for k in ("rule", "category", "action", "count", "examples")}
            | {"reason": item["reason"]}
            for item in result["rules"]
        ], "on_hold": result["on_hold"]}, indent=2))  # fmt: skip
        return
    click.echo(f"{'rule':<24}{'category':<18}{'action':<14}{'count':>8}  reason")
    for item in result["rules"]:
        click.echo(
            f"{item['rule']:<24}{item['category']:<18}{item['action']:<14}{item['count']:>8}  "
            f"{item.get('note') or item['reason']}"
        )
    click.echo(f"on hold: {result['on_hold']}")


@retention_group.command("run")
@with_appcontext
def run_command() -> None:
    """Run the sweep now with a progress bar (each removal audited)."""
    from governance.services.auditlog.append import rfc3339
    from governance.services.retention import sweep

    with work() as call:
        now = rfc3339(call.now())
    job = run_job_foreground(sweep.KIND, {"now": now}, "retention sweep")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "sweep failed")
    result = job.result or {}
    for rule, count in sorted((result.get("removed") or {}).items()):
        click.echo(f"{rule}: {count} removed")
    click.echo(f"total: {result.get('total', 0)} removed")
