"""Audit log commands: export, verify, checkpoint, public-key (RFC 9162 log, signed checkpoints)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, finish_work, progress_runner, work


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def audit_export(file: Path) -> None:
    """Write entries, checkpoints and the public key to FILE (JSON Lines), freshly signed."""
    from governance.services.auditlog import views as audit_views

    call = app_call()
    with file.open("w", encoding="utf-8", newline="\n") as sink:
        count = audit_views.export(call, sink, call.now())
    click.echo(f"exported {count} entries to {file}; verify offline with: "
               f"python -m audit verify {file} --public-key KEY.pem")  # fmt: skip


@audit_group.command("verify")
@click.option("--public-key", "key_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Check signatures with this pinned key (PEM), not the "
              "server's configured one.")  # fmt: skip
@with_appcontext
def audit_verify(key_file: Path | None) -> None:
    """Recompute the whole log and check every checkpoint, including the one kept outside the
    database (exit 1 naming the first fault)."""
    from audit.checkpoint import SigningKeyError, load_public_key_pem
    from audit.verify import VerifyError
    from governance.services.auditlog import views as audit_views

    try:
        key = load_public_key_pem(key_file.read_bytes()) if key_file else None
    except SigningKeyError as exc:
        raise click.UsageError(f"--public-key: {exc}") from None
    update, close = progress_runner("verifying")
    call = app_call()
    try:
        report = audit_views.verify_live(call, progress=update, public_key=key)
    except VerifyError as exc:
        close()
        click.echo(f"FAILED: {exc}", err=True)
        raise SystemExit(1) from None
    close()
    finish_work()
    latest = report.latest_checkpoint
    click.echo(f"ok: {report.tree_size} entries, root {report.root_hash.hex()}")
    click.echo(f"{report.checkpoints_verified} checkpoints verified (key {report.key_id})"
               + (f", latest at tree size {latest.tree_size}" if latest else ""))  # fmt: skip
    if report.unsigned_entries:
        click.echo(f"{report.unsigned_entries} newest entries are not yet covered by a checkpoint")
    if report.pending_entries:
        click.echo(f"{report.pending_entries} committed entries are pending integration into the "
                   "tree (hash and form checked)")  # fmt: skip
    kept = audit_views.kept_checkpoint(call)
    click.echo(f"checked against the checkpoint kept outside the database at tree size "
               f"{kept.tree_size}" if kept else "no checkpoint is kept outside the database "
               "yet (the next signed checkpoint writes one)")  # fmt: skip


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign a checkpoint of the log now."""
    from governance.services.auditlog import views as audit_views

    with work() as call:
        cp = audit_views.checkpoint_now(call)
    click.echo(f"checkpoint: tree size {cp.tree_size}, root {cp.root_hash.hex()}, key {cp.key_id}")


@audit_group.command("public-key")
@with_appcontext
def audit_public_key() -> None:
    """Print the checkpoint signing key (PEM), for auditors to pin."""
    from governance.services.auditlog import views as audit_views

    click.echo(audit_views.public_pem(app_call()), nl=False)
