"""Key commands: ``governance keys status | rotate | rewrap | retire VERSION | unretire VERSION``.

Thin wrappers around ``governance.services.keys.rotation`` (envelope encryption, FORMAT.md): they
parse arguments, call the service, commit and print. Refusals are domain errors, printed by
``governance.cli.main`` as one ``error: …`` line with exit status 1.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, progress_runner


@cli.group("keys")
def keys_group() -> None:
    """Master key (KEK) versions: status, rotation, retirement."""


@contextmanager
def _transaction() -> Iterator[None]:
    """Commit on success; roll back on any error so nothing half-done is left in the session."""
    from governance.extensions import db
    from governance.unit_of_work import unit_of_work

    with unit_of_work(db.session):
        yield


def print_status(status: dict[str, Any]) -> None:
    """One line per KEK version: state, fingerprint prefix, data keys it wraps."""
    click.echo(f"key source: {status['source']}")
    for v in status["versions"]:
        mark = " (current)" if v["current"] else ""
        fingerprint = f"{v['fingerprint']}…" if v["fingerprint"] else "not recorded"
        click.echo(
            f"v{v['version']}{mark}: {v['state']}, fingerprint {fingerprint}, "
            f"{v['data_keys']} data keys"
        )
    click.echo(f"{status['data_keys']} data keys, {status['pending_rewrap']} to re-wrap")
    job = status["rotation"]
    if job:
        progress = job["progress"]
        total = "?" if progress["total"] is None else progress["total"]
        click.echo(f"last rotation job {job['id']}: {job['state']} ({progress['done']}/{total})")


@keys_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@with_appcontext
def status_command(as_json: bool) -> None:
    """KEK versions, their state, fingerprint prefix and how many data keys each wraps."""
    from governance.services.keys import rotation as keys

    status = keys.status(app_call())
    if as_json:
        click.echo(json.dumps(status, indent=2))
    else:
        print_status(status)


def _run_rewrap() -> None:
    from governance.services.jobs import queue as jobs
    from governance.services.keys import rotation as keys

    with _transaction():
        job = keys.rewrap_job(app_call(), f"cli:{socket.gethostname()}:{os.getpid()}")
    update, close = progress_runner("re-wrapping data keys")
    try:
        done = jobs.run(app_call(), job, on_progress=update)
    finally:
        close()
    if done.state != "succeeded":
        raise click.ClickException(f"re-wrap failed: {done.error}")
    result = done.result or {}
    click.echo(f"re-wrapped {result['rewrapped']} data keys under v{result['version']}")
    if result.get("failed_count"):
        raise click.ClickException(
            f"{result['failed_count']} data keys could not be re-wrapped (their subject ids "
            f"are in the job result: `governance jobs show {done.id}`)"
        )
    if result.get("remaining"):
        click.echo(
            f"{result['remaining']} data keys were wrapped under an older version meanwhile "
            "(a server without the new key file?); run `governance keys rewrap` again"
        )


@keys_group.command("rotate")
@with_appcontext
def rotate_command() -> None:
    """Add a new KEK version to the key file, then re-wrap every data key under it."""
    from governance.services.keys import rotation as keys

    with _transaction():
        job = keys.rotate(app_call())
    click.echo(f"KEK version {job.params['version']} is current (added to the key file)")
    _run_rewrap()


@keys_group.command("rewrap")
@with_appcontext
def rewrap_command() -> None:
    """Re-wrap data keys still under older KEK versions (resumes an interrupted rotation)."""
    _run_rewrap()


def _change(action: Callable[[Any, int], dict[str, Any]], version: int, verb: str) -> None:
    with _transaction():
        action(app_call(), version)
    click.echo(f"KEK version {version} {verb}")


@keys_group.command("retire")
@click.argument("version", type=click.IntRange(1))
@with_appcontext
def retire_command(version: int) -> None:
    """Retire VERSION: refused while any data key is wrapped by it, and for the current one."""
    from governance.services.keys import rotation as keys

    _change(keys.retire, version, "retired")


@keys_group.command("unretire")
@click.argument("version", type=click.IntRange(1))
@with_appcontext
def unretire_command(version: int) -> None:
    """Make a retired VERSION usable again (to re-wrap data keys found still under it)."""
    from governance.services.keys import rotation as keys

    _change(keys.unretire, version, "is usable again")
