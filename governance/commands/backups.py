"""Backup commands: ``governance backup create | verify | restore | list``.

Exit codes (the issue's contract): 0 done; 1 the backup, verification or restore failed (the
first failed check is named); 2 usage or environment errors (unknown id, missing tool).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, progress_runner


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@cli.group("backup")
def backup_group() -> None:
    """Encrypted backups, verified by a real restore; restores that replay erasures."""


@backup_group.command("create")
@with_appcontext
def create_command() -> None:
    """Take a backup; print its id alone on the last line."""
    from governance.errors import GovernanceError
    from governance.services.backups import create, dumps

    update, close = progress_runner("backing up")
    started = time.perf_counter()
    try:
        manifest = create.create_backup(app_call(), progress=update)
    except dumps.ToolMissing as exc:
        _fail(exc.detail, 2)
    except GovernanceError as exc:
        _fail(f"backup failed, nothing was kept: {exc.detail}", 1)
    finally:
        close()
    click.echo(
        f"backup {manifest['id']}: {manifest['file']['size']} bytes, audit tree size "
        f"{manifest['audit']['tree_size']}, {len(manifest['tables'])} tables, "
        f"in {time.perf_counter() - started:.2f} s"
    )
    click.echo(manifest["id"])


@backup_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """Backups in the backup directory with their latest verification."""
    from governance.services.backups import status

    rows = status.list_backups(app_call())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        last = row["verification"] or {}
        click.echo(f"{row['id']}  {row['size']:>12}  {row['database']}  "
                   f"{last.get('status', 'never verified')}")  # fmt: skip


def _report(result: dict[str, Any]) -> None:
    for check in result["checks"]:
        click.echo(f"  {check['name']}: {check['status']}  {check.get('detail', '')}".rstrip())


@backup_group.command("verify")
@click.argument("backup_id", required=False)
@click.option("--latest", is_flag=True, help="Verify the newest backup.")
@click.option(
    "--database",
    metavar="URL",
    help="Check this database (restored by another tool, e.g. pgBackRest or WAL-G) instead of "
    "restoring the backup into a scratch database.",
)
@with_appcontext
def verify_command(backup_id: str | None, latest: bool, database: str | None) -> None:
    """Verify a backup by restoring it into a scratch database and checking it."""
    from governance.errors import NotFound
    from governance.services.backups import dumps, files
    from governance.services.backups import verify as verifier

    if bool(backup_id) == latest:
        _fail("give a backup ID or --latest (one of them)", 2)
    call = app_call()
    try:
        chosen = backup_id or files.latest_id(files.backup_dir(call.settings))
        update, close = progress_runner("verifying")
        started = time.perf_counter()
        try:
            result = verifier.verify_backup(call, chosen, database=database, progress=update)
        finally:
            close()
    except (NotFound, dumps.ToolMissing) as exc:
        _fail(exc.detail, 2)
    _report(result)
    if result["status"] != "passed":
        _fail(f"backup {chosen} failed verification at {result['failed_check']}: "
              f"{result['detail']}", 1)  # fmt: skip
    click.echo(f"backup {chosen} verified (tree size {result['tree_size']}) "
               f"in {time.perf_counter() - started:.2f} s")  # fmt: skip


@backup_group.command("restore")
@click.argument("backup_id")
@click.option("--target", required=True, metavar="URL", help="Database to restore into.")
@click.option("--yes", is_flag=True, help="Confirm: the target's contents are replaced.")
@click.option(
    "--without-tombstones",
    is_flag=True,
    help="Restore even when the erasures made after the backup cannot be had (audited).",
)
@with_appcontext
def restore_command(backup_id: str, target: str, yes: bool, without_tombstones: bool) -> None:
    """Restore a backup into --target and replay every erasure recorded after it."""
    from governance.errors import GovernanceError, NotFound
    from governance.services.backups import dumps
    from governance.services.backups import restore as restorer

    if not yes:
        _fail("restoring replaces the target's contents: confirm with --yes", 2)
    if not target.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+psycopg:")):
        _fail("--target must be a sqlite:/// or postgresql:// URL", 2)
    try:
        done = restorer.restore_backup(app_call(), backup_id, target,
                                       without_tombstones=without_tombstones)  # fmt: skip
    except (NotFound, dumps.ToolMissing) as exc:
        _fail(exc.detail, 2)
    except GovernanceError as exc:
        _fail(f"restore refused: {exc.detail}", 1)
    if done["without_tombstones"]:
        click.echo(
            "WARNING: restored WITHOUT replaying erasures: people erased after this backup may "
            "be back in the target. This was recorded in the audit log.",
            err=True,
        )
    click.echo(f"restored backup {backup_id}: {done['erasures_replayed']} erasures replayed "
               f"({done['erasure_source']})")  # fmt: skip
    if done["log_brought_forward_to"] is not None:
        click.echo(f"audit log brought forward to tree size {done['log_brought_forward_to']}")
    else:
        click.echo(f"audit log restored at tree size {done['restored_tree_size']}; signed restore "
                   f"record: {done['restore_record']}")  # fmt: skip
