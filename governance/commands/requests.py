"""Data-subject request commands: ``governance requests list`` (the queue with its clocks) and
``governance requests certificate ID`` (an erasure certificate as JSON, for offline checks)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from governance.cli import cli, work


@cli.group("requests")
def requests_group() -> None:
    """Data-subject requests (policies/request_rules.yaml)."""


@requests_group.command("list")
@click.option("--state", default="open", show_default=True, help="open, or one state.")
@with_appcontext
def list_command(state: str) -> None:
    """Requests by due date, with their clocks."""
    from governance.services.requests import workflow

    with work() as call:
        items = workflow.queue(call, state)
    for item in items:
        flag = "OVERDUE" if item["overdue"] else ("due soon" if item["due_soon"] else "")
        click.echo(f"{item['due_at']}  {item['id']}  {item['kind']:<13} {item['state']:<12} "
                   f"{item['jurisdiction'] or '-':<9} {flag}")  # fmt: skip


@requests_group.command("certificate")
@click.argument("request_id")
@with_appcontext
def certificate_command(request_id: str) -> None:
    """Print the erasure certificate of a completed erasure request (JSON)."""
    from governance.services.requests import certificate

    with work() as call:
        doc = certificate.certificate(call, request_id)
    click.echo(json.dumps(doc, indent=2))
