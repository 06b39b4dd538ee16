"""Each CLI command is one unit of work (``governance/cli.py``): what it did is committed when it
returns and rolled back, audit entries included, when it fails, without the command committing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
import pytest
from sqlalchemy import create_engine, func, select

from governance.cli import app_call, cli
from governance.models import AuditEntry

PROBE = "uow-probe"


def committed(app: Any, action: str) -> int:
    """Entries of ``action`` as another connection sees them."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


@pytest.fixture(params=[(), ("jobs",)], ids=["command", "subgroup-command"])
def probe(request: Any) -> Iterator[list[str]]:
    """A command registered like every other (on the CLI or on a subgroup of it): it records an
    entry, then fails if asked to."""
    path: tuple[str, ...] = request.param
    group: Any = cli.commands[path[0]] if path else cli

    @group.command(PROBE)
    @click.option("--fail", is_flag=True)
    def _probe(fail: bool) -> None:
        call = app_call()
        call.audit.record(call.session, call.actor, "probe.run", now=call.now(), resource="probe")
        if fail:
            raise click.ClickException("failed after its work")
        click.echo("done")

    try:
        yield [*path, PROBE]
    finally:
        group.commands.pop(PROBE, None)


def test_a_command_that_returns_is_committed_without_committing(
    app: Any, runner: Any, probe: list[str]
) -> None:
    result = runner.invoke(cli, probe)
    assert result.exit_code == 0, result.output
    assert committed(app, "probe.run") == 1


def test_a_command_that_fails_keeps_nothing_it_did(app: Any, runner: Any, probe: list[str]) -> None:
    result = runner.invoke(cli, [*probe, "--fail"])
    assert result.exit_code == 1
    assert "failed after its work" in result.output
    assert committed(app, "probe.run") == 0
