"""Key commands: status, rotate, rewrap, retire."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from governance.cli import app_call, cli, run_job_foreground


def _key_file() -> Path:
    if current_app.config.get("MASTER_KEY"):
        raise click.ClickException(
            "the master key comes from GOVERNANCE_MASTER_KEY: add the new version to the variable "
            "(e.g. 1:B64,2:B64), restart, then run `governance keys rewrap`"
        )
    return Path(current_app.config["MASTER_KEY_FILE"])


def _sync_deps() -> None:
    from governance.bootstrap import deps

    app_deps = deps(current_app)
    app_deps.keys = app_deps.vault.keys


@cli.group("keys")
def keys_group() -> None:
    """Key-encryption keys (KEKs) and the data keys they wrap."""


@keys_group.command("status")
@with_appcontext
def keys_status() -> None:
    """KEK versions, their state and how many data keys each wraps."""
    from governance.services import keys

    info = keys.status(app_call())
    for v in info["versions"]:
        mark = " (current)" if v["version"] == info["current"] else ""
        click.echo(f"v{v['version']}{mark}: {v['state']}, fingerprint {v['fingerprint']}, "
                   f"{v['data_keys']} data keys")  # fmt: skip


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Add a new KEK version to the key file, make it current, re-wrap every data key."""
    from governance.extensions import db
    from governance.services import keys

    call = app_call()
    keys.rotate(call, _key_file())
    db.session.commit()
    _sync_deps()
    click.echo(f"KEK version {call.vault.keys.current_version()} is current")
    _rewrap()


def _rewrap() -> None:
    job = run_job_foreground("keys.rewrap", {}, "re-wrapping data keys")
    if job.state != "succeeded":
        raise click.ClickException(
            job.error or "re-wrap failed; run `governance keys rewrap` again"
        )
    click.echo(f"re-wrapped {job.result['rewrapped']} data keys under v{job.result['kek_version']}")


@keys_group.command("rewrap")
@with_appcontext
def keys_rewrap() -> None:
    """Re-wrap data keys not on the current KEK version (resumes an interrupted rotation)."""
    _rewrap()


@keys_group.command("retire")
@click.argument("version", type=click.IntRange(1))
@with_appcontext
def keys_retire(version: int) -> None:
    """Retire a KEK version (refused while any data key is still wrapped by it)."""
    from governance.extensions import db
    from governance.services import keys

    keys.retire(app_call(), _key_file(), version)
    db.session.commit()
    _sync_deps()
    click.echo(f"KEK version {version} retired")
