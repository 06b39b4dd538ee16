"""The ``governance`` command line: thin wrappers around the same services the API calls.

Errors print one line (``error: …``) and exit non-zero, without a traceback. Long commands show
a progress bar.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo

from governance.config import ConfigError
from governance.errors import GovernanceError

F = TypeVar("F", bound=Callable[..., Any])


def _create_app() -> Flask:
    from governance import create_app

    return create_app()


cli = FlaskGroup(
    name="governance",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="Privacy-and-compliance governance server.",
)


def purpose_option(default: str) -> Callable[[Any], Any]:
    """``--purpose NAME``: the system purpose (``policies/purposes.yaml``) a command's internal
    read of customer data declares and is audited under; a bad name is a usage error."""

    def parse(ctx: click.Context, param: click.Parameter, value: str) -> Any:
        from governance.context import Purpose, purposes
        from governance.errors import ValidationError

        try:
            purpose = Purpose.named(value, field="--purpose", system=True)
        except ValidationError:
            purpose = None
        if purpose is None or not purpose.system:
            known = ", ".join(name for name, system in purposes().items() if system)
            raise click.BadParameter(f"not a system purpose (one of: {known})")
        return purpose

    return click.option(
        "--purpose",
        default=default,
        show_default=True,
        callback=parse,
        help="Purpose of the read, recorded in the audit log.",
    )


def app_call(actor: Any = None, purpose: Any = None) -> Any:
    """A service call on the CLI's app, acting as the system (or ``actor``), declaring
    ``purpose``."""
    from governance.bootstrap import deps
    from governance.context import SYSTEM, Actor
    from governance.extensions import db

    base = actor or Actor(
        id=f"cli:{os.environ.get('USER', 'operator')}",
        type="system",
        roles=("system",),
        client=socket.gethostname(),
    )
    return deps(current_app).call(db.session, base or SYSTEM, purpose)


def progress_runner(label: str) -> tuple[Callable[[int, int | None], None], Callable[[], None]]:
    """A click progress bar fed by job progress callbacks; returns (update, close)."""
    state: dict[str, Any] = {"bar": None, "done": 0}
    quiet = not sys.stderr.isatty() and os.environ.get("GOVERNANCE_PROGRESS") != "1"

    def update(done: int, total: int | None) -> None:
        if quiet:
            click.echo(f"{label}: {done}" + (f"/{total}" if total else ""), err=True)
            return
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total or 0, label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    return update, close


def run_job_foreground(kind: str, params: dict[str, Any], label: str) -> Any:
    """Queue a job and run it here with a progress bar."""
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    call = app_call()
    job = jobs.submit(call, kind, params, foreground=True)
    db.session.commit()
    update, close = progress_runner(label)
    try:
        job = jobs.run(call, job, on_progress=update)
    finally:
        close()
    return job


def main() -> None:
    """Console-script entry point: one-line errors, non-zero exit codes."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        cli.main(
            prog_name="governance", standalone_mode=False, obj=ScriptInfo(create_app=_create_app)
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"error: configuration: {exc}", err=True)
        sys.exit(2)
    except GovernanceError as exc:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
        click.echo(f"error: {exc.detail}" + (f" ({detail})" if detail else ""), err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}", err=True)
        sys.exit(1)
    except Exception as exc:
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            click.echo(f"error: database unavailable ({exc.orig.__class__.__name__})", err=True)
            sys.exit(2)
        raise


from governance.commands import auditlog, core, customers, identity, keys, pii, run  # noqa: E402,F401

__all__ = ["app_call", "cli", "main", "progress_runner", "run_job_foreground", "Path"]
