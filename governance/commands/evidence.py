"""Evidence commands: ``governance reports …`` writes the PDF reports (the PII discovery report
is added by ``commands/pii.py``). Each command is one unit of work, committed before the file is
written (``governance/cli.py``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from governance.cli import cli, work


@cli.group("reports")
def reports_group() -> None:
    """Generate PDF reports."""


@reports_group.command("data-inventory")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def report_data_inventory(out: Path) -> None:
    """Write the data-inventory report to OUT (PDF)."""
    from governance.services.evidence import inventory

    with work() as call:
        pdf = inventory.data_inventory_pdf(call, current_app.config["DATABASE_URL"])
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf)} bytes)")


@reports_group.command("audit-trail")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "start", help="Start (ISO 8601); default 30 days before --to.")
@click.option("--to", "end", help="End (ISO 8601); default now.")
@with_appcontext
def report_audit_trail(out: Path, start: str | None, end: str | None) -> None:
    """Write the audit-trail report (entries, summaries, verification) to OUT (PDF)."""
    from governance.services.auditlog import views as audit_views

    with work() as call:
        period = audit_views.period({"from": start or "", "to": end or ""}, call.now())
        pdf = audit_views.audit_trail_pdf(call, *period)
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf)} bytes)")
