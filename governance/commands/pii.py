"""PII commands: ``governance pii scan``, ``governance pii status`` and
``governance reports pii-discovery OUT``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from governance.cli import cli, run_job_foreground, work
from governance.commands.evidence import reports_group


@cli.group("pii")
def pii_group() -> None:
    """PII detection: engine status and store scans."""


def print_scan_summary(result: dict[str, Any]) -> None:
    """A finished scan's counts: records, findings per entity type, what changed."""
    since = f" since {result['since']}" if result.get("since") else ""
    click.echo(
        f"{result['mode']} scan{since}: {result['records_scanned']} records, "
        f"{result['texts_scanned']} texts"
    )
    findings = result.get("findings") or {}
    if findings:
        click.echo(f"{'entity type':<18}{'findings':>9}")
        for name, count in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"{name:<18}{count:>9}")
    else:
        click.echo("no personal data found")
    click.echo(
        f"new {result['new']}, remediated {result['remediated']}, reopened {result['reopened']}"
    )


@pii_group.command("scan")
@click.option("--full", is_flag=True, help="Scan every record (default: changed records only).")
@click.option("--since", "since", metavar="TIME", help="Records changed since TIME (ISO 8601).")
@click.option(
    "--workers", type=click.IntRange(1, 8), default=2, show_default=True, help="Detector processes."
)
@with_appcontext
def scan_command(full: bool, since: str | None, workers: int) -> None:
    """Scan the store for personal data (incremental since the last scan unless --full)."""
    from governance.services.pii import scans as pii_scans

    if full and since:
        raise click.UsageError("--full and --since exclude each other")
    params = pii_scans.scan_params("full" if full else "incremental", since, workers)
    with work() as call:  # ends before the scan, which commits at its own checkpoints
        pii_scans.ensure_idle(call)
    job = run_job_foreground(pii_scans.KIND, params, "PII scan")
    if job.state != "succeeded":
        raise click.ClickException(job.error or "scan failed")
    print_scan_summary(job.result)


def _ner_line(status: dict[str, Any]) -> str:
    model = status["ner_model"]
    if isinstance(model, dict):
        return f"NER model: {model['name']} {model['version']} (verified, sha256 {model['sha256']})"
    return f"NER model: {model}: {status.get('ner_refused_reason') or 'not available'}"


@pii_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
@with_appcontext
def status_command(as_json: bool) -> None:
    """Active recognisers per language and the NER model (does not load the model)."""
    from governance.services.pii import detection as pii

    status = pii.engine_status()
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(_ner_line(status))
    click.echo(f"policy: {status['policy']}")
    for lang, specs in status["recognizers"].items():
        click.echo(f"{lang}:")
        for spec in specs:
            click.echo(f"  {spec['entity']:<16} {spec['name']} ({spec['source']})")
    if status.get("inactive"):
        gaps = "; ".join(f"{lang}: {', '.join(v)}" for lang, v in status["inactive"].items())
        click.echo(f"enabled but not detected: {gaps}")
    if status.get("disabled"):
        click.echo(f"disabled by policy: {', '.join(status['disabled'])}")


@reports_group.command("pii-discovery")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def report_pii_discovery(out: Path) -> None:
    """Write the PII discovery report (latest scan) to OUT (PDF)."""
    from governance.services.pii import review as pii_review

    with work() as call:
        pdf = pii_review.discovery_pdf(call)
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf)} bytes)")
