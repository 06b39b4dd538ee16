"""Customer commands: ``governance customers merge SOURCE TARGET``.

A thin wrapper around ``governance.services.customers.merge`` (the console's data-quality page
will call the same function): parse, call, commit, print ids and field names only, never a value.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, purpose_option


@cli.group("customers")
def customers_group() -> None:
    """Customer records: merging duplicates."""


@customers_group.command("merge")
@click.argument("source")
@click.argument("target")
@click.option("--request-ref", help="The ticket or request the merge belongs to (audited).")
@purpose_option("merge")
@with_appcontext
def merge_command(source: str, target: str, request_ref: str | None, purpose: Any) -> None:
    """Merge duplicate customer SOURCE into TARGET, then erase SOURCE (audited)."""
    from governance.database import release_deleted_pages
    from governance.extensions import db
    from governance.services.customers import merge

    try:
        result = merge.merge_customers(app_call(purpose=purpose), source, target, request_ref)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    release_deleted_pages(db.engine)  # the erased source's key must not linger in the WAL
    click.echo(f"merged {source} into {target}; {source} erased")
    for label, key in (("taken", "fields_taken"), ("equal", "fields_equal"),
                       ("discarded (target kept its own)", "fields_discarded")):  # fmt: skip
        click.echo(f"fields {label}: {', '.join(result[key]) or '-'}")
    click.echo(f"moved {len(result['orders'])} orders, {len(result['interactions'])} interactions")
