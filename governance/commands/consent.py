"""Consent commands: ``consent notices``, ``consent purposes``, ``consent state``, ``consent
record``, ``consent receipt`` and ``consent totals``.

Thin wrappers around ``governance.services.consent`` (the API and console call the same
functions); each command is one unit of work, and prints ids, states and hashes only.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from governance.cli import cli, work
from governance.services.consent.ledger import ACTIONS, SOURCES


@cli.group("consent")
def consent_group() -> None:
    """Purposes, privacy notices, the consent ledger and its receipts."""


@consent_group.command("purposes")
@with_appcontext
def purposes_command() -> None:
    """List the purposes of policies/purposes.yaml with their lawful basis."""
    from governance.services.consent.notices import purposes_json

    for item in purposes_json()["items"]:
        kind = "system" if item["system"] else item["basis"]
        click.echo(f"{item['name']:<20} {kind:<20} {item['description']['en']}")


@consent_group.command("notices")
@with_appcontext
def notices_command() -> None:
    """List the privacy notice versions."""
    from governance.services.consent import notices

    with work() as call:
        items = notices.list_notices(call)["items"]
    for n in items:
        click.echo(f"{n['version']:<8} {n['effective_at']}  {n['text_sha256'][:16]}…  "
                   f"{', '.join(n['purposes'])}")  # fmt: skip


@consent_group.command("state")
@click.argument("customer_id")
@with_appcontext
def state_command(customer_id: str) -> None:
    """A customer's consent per purpose (audited as consent.read)."""
    from governance.services.consent import ledger

    with work() as call:
        state = ledger.consent_state(call, customer_id)
    for purpose, item in state["purposes"].items():
        click.echo(f"{purpose:<18} {item['state']:<17} {item['since'] or '-'}  "
                   f"notice {item['notice_version'] or '-'}")  # fmt: skip


@consent_group.command("record")
@click.argument("customer_id")
@click.option("--purpose", required=True)
@click.option("--action", type=click.Choice(ACTIONS), required=True)
@click.option("--source", type=click.Choice(SOURCES), default="paper", show_default=True)
@click.option("--notice", "notice_version", help="Notice version (required to grant or refuse).")
@click.option("--evidence-ref", help="Where the evidence is kept (a scan, a ticket).")
@with_appcontext
def record_command(
    customer_id: str,
    purpose: str,
    action: str,
    source: str,
    notice_version: str | None,
    evidence_ref: str | None,
) -> None:
    """Record a consent event for CUSTOMER_ID (a paper form, a phone call)."""
    from governance.services.consent import ledger

    body = {"purpose": purpose, "action": action, "source": source,
            "notice_version": notice_version, "evidence_ref": evidence_ref}  # fmt: skip
    with work() as call:
        event, _ = ledger.record_event(call, customer_id, {k: v for k, v in body.items() if v})
    unchanged = "" if event["changed"] else " (state unchanged: nothing was granted)"
    click.echo(f"recorded {event['action']} {event['purpose']}: event {event['id']}{unchanged}")


@consent_group.command("receipt")
@click.argument("event_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def receipt_command(event_id: str, output: Path) -> None:
    """Write the receipt (JSON) of consent event EVENT_ID; verify it with python -m audit."""
    from governance.services.consent import receipts

    with work() as call:
        data = receipts.receipt(call, event_id)
    output.write_text(receipts.receipt_text(data), encoding="utf-8")
    click.echo(f"receipt of {event_id} written to {output} (tree size "
               f"{data['checkpoint']['tree_size']}); verify: python -m audit receipt {output} "
               "--public-key KEY.pem")  # fmt: skip


@consent_group.command("totals")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def totals_command(as_json: bool) -> None:
    """Subjects per purpose and state now."""
    from governance.services.consent import totals

    with work() as call:
        figures = totals.totals(call)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for purpose, states in figures["current"].items():
        shown = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "-"
        click.echo(f"{purpose:<18} {shown}")
