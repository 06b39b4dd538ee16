"""Audit log commands: export, verify, checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, progress_runner


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def audit_export(file: Path) -> None:
    """Write entries, checkpoints and the public key to FILE (JSON Lines), freshly signed."""
    from governance.services import audit_views

    with file.open("w", encoding="utf-8") as sink:
        count = audit_views.export(app_call(), sink, datetime.now(UTC))
    click.echo(f"exported {count} entries to {file}; verify offline with: "
               f"python -m audit verify {file} --public-key KEY.pem")  # fmt: skip


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the whole log and check every checkpoint signature (exit 1 on the first fault)."""
    from audit.verify import VerifyError
    from governance.extensions import db
    from governance.services import audit_views

    update, close = progress_runner("verifying")
    try:
        report = audit_views.verify_live(app_call(), progress=update)
    except VerifyError as exc:
        close()
        click.echo(f"FAILED: {exc}", err=True)
        raise SystemExit(1) from None
    close()
    db.session.commit()
    latest = report.latest_checkpoint
    click.echo(f"ok: {report.tree_size} entries, root {report.root_hash.hex()}")
    click.echo(f"{report.checkpoints_verified} checkpoints verified (key {report.key_id})"
               + (f", latest at tree size {latest.tree_size}" if latest else ""))  # fmt: skip
    if report.unsigned_entries:
        click.echo(f"{report.unsigned_entries} newest entries are not yet covered by a checkpoint")


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign a checkpoint of the log now."""
    from governance.extensions import db

    call = app_call()
    call.audit.record(call.session, call.actor, "audit.checkpoint", now=call.now(),
                      resource="audit")  # fmt: skip
    cp = call.audit.checkpoint(call.session, call.now())
    db.session.commit()
    click.echo(f"checkpoint: tree size {cp.tree_size}, root {cp.root_hash.hex()}, key {cp.key_id}")


@audit_group.command("public-key")
@with_appcontext
def audit_public_key() -> None:
    """Print the checkpoint signing key (PEM), for auditors to pin."""
    from governance.services import audit_views

    click.echo(audit_views.public_pem(app_call()), nl=False)
