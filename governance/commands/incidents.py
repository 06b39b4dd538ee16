"""Incident commands: ``governance incidents list | show ID | tasks ID | analyse ID | register``.

Thin wrappers around ``governance.services.breach``: parse, call the service, commit, print. The
analysis runs here in the foreground with a progress bar (the same job a worker would run).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from governance.cli import cli, finish_work, work


@cli.group("incidents")
def incidents_group() -> None:
    """Breach response: incidents, their notification tasks, analyses, the register."""


@incidents_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every incident, newest first: id, state, aware time, affected customers, title."""
    from governance.services.breach import incidents

    with work() as call:
        for incident in incidents.listing(call):
            affected = incidents.affected_count(call, incident)
            aware = incidents.iso(incident.aware_at)
            click.echo(
                f"{incident.id}  {incident.state:<9} {aware}  {affected:>7}  {incident.title}"
            )


@incidents_group.command("show")
@click.argument("incident_id")
@with_appcontext
def show_command(incident_id: str) -> None:
    """One incident with its timeline, as JSON."""
    from governance.services.breach import incidents

    with work() as call:
        body = incidents.describe(call, incidents.get(call, incident_id), full=True)
    click.echo(json.dumps(body, indent=2, ensure_ascii=False))


@incidents_group.command("tasks")
@click.argument("incident_id")
@with_appcontext
def tasks_command(incident_id: str) -> None:
    """Notification tasks: regime, target, due time, state, overdue."""
    from governance.services.breach import incidents, tasks

    with work() as call:
        for t in tasks.detail(call, incidents.get(call, incident_id)):
            flag = " OVERDUE" if t["overdue"] else ""
            click.echo(
                f"{t['regime']:<10} {t['target']:<11} {t['due_at'] or '-':<28} {t['state']}{flag}"
            )


@incidents_group.command("analyse")
@click.argument("incident_id")
@click.option("--token", "token", help="Everything this API token read.")
@click.option("--service-account", "service_account", help="Everything this account read.")
@click.option("--user", "user", help="Everything this person read.")
@click.option("--since", "since", help="Start of the window (ISO 8601).")
@click.option("--until", "until", help="End of the window (ISO 8601; default now).")
@click.option("--country", help="Customers of this country (ISO 3166-1 alpha-2).")
@click.option("--data-category", "category", help="Customers holding this field.")
@with_appcontext
def analyse_command(
    incident_id: str,
    token: str | None,
    service_account: str | None,
    user: str | None,
    since: str | None,
    until: str | None,
    country: str | None,
    category: str | None,
) -> None:
    """Find the affected customers (runs the analysis job here, with progress)."""
    from governance.cli import progress_runner
    from governance.services.breach import analysis, incidents
    from governance.services.jobs import queue

    actors = [("token", token), ("service_account", service_account), ("user", user)]
    chosen = [(kind, value) for kind, value in actors if value]
    if len(chosen) > 1:
        raise click.UsageError("give one of --token, --service-account, --user")
    if chosen:
        scope: dict[str, object] = {
            "actor": {"type": chosen[0][0], "id": chosen[0][1], "from": since, "to": until}
        }
    else:
        query = {
            "country": country,
            "data_category": category,
            "created_from": since,
            "created_to": until,
        }
        scope = {"query": {k: v for k, v in query.items() if v}}
    with work() as call:
        job = analysis.submit(call, incidents.get(call, incident_id), scope, foreground=True)
    update, close = progress_runner("audit entries")
    try:
        job = queue.run(call, job, on_progress=update)
    finally:
        close()
    if job.state != "succeeded":
        raise click.ClickException(job.error or "the analysis failed")
    click.echo((job.result or {}).get("message", ""))


@incidents_group.command("register")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def register_command(output: Path) -> None:
    """Write the breach register (PDF): every incident, notified or not."""
    from governance.services.breach import documents

    with work() as call:
        pdf = documents.breach_register(call)
    finish_work()
    output.write_bytes(pdf)
    click.echo(f"wrote {output} ({len(pdf)} bytes)")
