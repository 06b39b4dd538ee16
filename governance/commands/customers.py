"""Customer commands: ``import``, ``demo-data``, ``quality`` and ``customers merge``.

Thin wrappers around ``governance.services.customers`` (the API and console call the same
functions): parse, call, print ids, counts and field names only, never a value. Each command is
one unit of work (``governance/cli.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from governance.cli import cli, purpose_option, run_job_foreground, work


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

    with work(purpose=purpose) as call:
        result = merge.merge_customers(call, source, target, request_ref)
    release_deleted_pages(db.engine)  # the erased source's key must not linger in the WAL
    click.echo(f"merged {source} into {target}; {source} erased")
    for label, key in (("taken", "fields_taken"), ("equal", "fields_equal"),
                       ("discarded (target kept its own)", "fields_discarded")):  # fmt: skip
        click.echo(f"fields {label}: {', '.join(result[key]) or '-'}")
    click.echo(f"moved {len(result['orders'])} orders, {len(result['interactions'])} interactions")


def _print_import_report(result: dict[str, Any]) -> None:
    click.echo(
        f"created {result.get('created', 0)}, updated {result.get('updated', 0)}, "
        f"rejected {result.get('rejected', 0)}, duplicates {result.get('duplicates', 0)}"
    )
    for row in result.get("rows", []):
        if row["status"] == "duplicate":
            of = row["duplicate_of"] or "an existing customer"
            same = f" (same {row['matched_on']})" if row["matched_on"] else ""
            click.echo(f"row {row['row']}: duplicate of {of}{same}")
        else:
            reasons = "; ".join(f"{e['field'] or 'row'} {e['message']}" for e in row["errors"])
            click.echo(f"row {row['row']}: rejected: {reasons}")


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: from the name."
)
@with_appcontext
def import_command(file: Path, fmt: str | None) -> None:
    """Import customers from a CSV or JSON Lines FILE (per-row report)."""
    from governance.services.customers.imports import detect_format

    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    fmt = detect_format(file.name, fmt)
    job = run_job_foreground("import", {"path": str(file.resolve()), "format": fmt}, "importing")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "import failed")
    _print_import_report(job.result)
    if job.result.get("rejected") or job.result.get("duplicates"):
        raise SystemExit(3)


@cli.command("demo-data")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", type=int, default=7, show_default=True)
@with_appcontext
def demo_data(count: int, seed: int) -> None:
    """Load COUNT synthetic customers (Faker; Chinese and Western) with orders and notes."""
    job = run_job_foreground("demo-data", {"count": count, "seed": seed}, "demo customers")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "demo data failed")
    click.echo(
        f"created {job.result['created']} demo customers "
        f"({job.result['duplicates']} duplicates skipped)"
    )


@cli.command("quality")
@click.option("--json", "as_json", is_flag=True, help="Print the full summary as JSON.")
@purpose_option("data_quality")
@with_appcontext
def quality_command(as_json: bool, purpose: Any) -> None:
    """Data-quality summary: completeness, invalid values, duplicate groups."""
    from governance.services.customers import quality

    with work(purpose=purpose) as call:
        result = quality.summary(call)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"customers: {result['customers']}")
    click.echo(f"{'field':<16}{'complete':>10}{'invalid':>9}")
    for name, f in result["fields"].items():
        click.echo(f"{name:<16}{f['completeness'] * 100:>9.1f}%{f['invalid']:>9}")
    groups = ", ".join(f"{k}: {v}" for k, v in result["duplicate_groups"].items())
    click.echo(f"duplicate groups: {groups}")
