"""The ``governance`` command line: thin wrappers around the same services the API calls.

Errors print one line (``error: …``) and exit non-zero, without a traceback. Long commands show
a progress bar.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup, FlaskGroup, ScriptInfo

from governance.config import ConfigError
from governance.errors import GovernanceError

F = TypeVar("F", bound=Callable[..., Any])


def _create_app() -> Flask:
    from governance import create_app

    return create_app()


class _UnitOfWorkGroup(AppGroup):
    """Every command (and every command of its subgroups) runs as one unit of work
    (``governance/unit_of_work.py``): committed when it returns, rolled back when it raises.

    Commands that print what they did open ``work()`` around the service call, so the work is
    committed before anything leaves; the group's own unit of work then commits whatever a command
    left outside one, so no command can lose an audit entry by forgetting. Commands that build
    their own app (``up``, ``serve``, ``worker``) have no app context here and own their
    transactions through ``work()`` and the job runner.
    """

    # click's Group.command is overloaded to also accept a bare function (``@group.command``);
    # our commands are always declared with a name (``@cli.command("up")``), which is all this
    # override supports, hence the narrower signature.
    def command(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:
        register = super().command(*args, **kwargs)

        def decorator(fn: Callable[..., Any]) -> click.Command:
            return register(_in_unit_of_work(fn))

        return decorator

    # named groups only, as command above
    def group(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Group]:
        kwargs.setdefault("cls", _UnitOfWorkGroup)
        register: Callable[[Callable[..., Any]], click.Group] = super().group(*args, **kwargs)
        return register


def _in_unit_of_work(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def in_work(*args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            return fn(*args, **kwargs)
        from governance.extensions import db
        from governance.unit_of_work import unit_of_work

        with unit_of_work(db.session):
            return fn(*args, **kwargs)

    return in_work


class _Cli(_UnitOfWorkGroup, FlaskGroup):
    pass


@contextmanager
def work(actor: Any = None, purpose: Any = None) -> Iterator[Any]:
    """One unit of work on the CLI's app: yields a service call (``app_call``) declaring
    ``purpose``, commits when the block ends, rolls back if it raises."""
    from governance.extensions import db
    from governance.unit_of_work import unit_of_work

    with unit_of_work(db.session):
        yield app_call(actor, purpose)


def finish_work() -> None:
    """Commit the command's work so far, before its result is printed (nothing leaves the
    process that was not committed with its audit entry); a failed commit rolls back and raises."""
    from governance.extensions import db
    from governance.unit_of_work import unit_of_work

    with unit_of_work(db.session):
        pass


cli = _Cli(
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
    return deps(current_app).call(db.session(), base or SYSTEM, purpose)


def progress_runner(label: str) -> tuple[Callable[[int, int | None], None], Callable[[], None]]:
    """A click progress bar fed by job progress callbacks; returns (update, close)."""
    state: dict[str, Any] = {"bar": None, "done": 0}
    quiet = not sys.stderr.isatty() and os.environ.get("GOVERNANCE_PROGRESS") != "1"

    def update(done: int, total: int | None) -> None:
        if quiet:
            click.echo(f"{label}: {done}" + (f"/{total}" if total else ""), err=True)
            return
        if state["bar"] is None:
            bar = click.progressbar(length=total or 0, label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        state["bar"].update(done - state["done"])
        state["done"] = done

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)

    return update, close


def run_job_foreground(kind: str, params: dict[str, Any], label: str) -> Any:
    """Queue a job and run it here with a progress bar."""
    from governance.services.jobs import queue

    with work() as call:
        job = queue.submit(call, kind, params, foreground=True)
    update, close = progress_runner(label)
    try:
        job = queue.run(call, job, on_progress=update)
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


from governance.commands import (  # noqa: E402,F401  (each module registers its commands)
    auditlog,
    backups,
    consent,
    customers,
    evidence,
    identity,
    incidents,
    jobs,
    keys,
    pii,
    requests,
    retention,
    run,
)

__all__ = [
    "Path",
    "app_call",
    "cli",
    "finish_work",
    "main",
    "progress_runner",
    "run_job_foreground",
    "work",
]
