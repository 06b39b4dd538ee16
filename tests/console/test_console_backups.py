"""The backups page: admin runs backups and verifications as jobs; dpo reads everything; the
auditor sees the verification history; the verification report PDF reads back as text and is
in the evidence pack."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from conftest import login_as
from pypdf import PdfReader
from test_console_forms import csrf

from governance.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backups"))


def run_queued_jobs(app: Any) -> None:
    result = app.test_cli_runner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_admin_backs_up_and_verifies_as_jobs_and_downloads_the_report(
    app: Any, client: Any
) -> None:
    login_as(app, client, "admin")
    page = client.get("/backups").get_data(as_text=True)
    assert 'id="backup-now"' in page and "No backups yet." in page
    res = client.post("/backups", data={"action": "create", "csrf_token": csrf(client, "/backups")})
    assert res.status_code == 302 and "/jobs/" in res.headers["Location"]
    run_queued_jobs(app)
    job = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "succeeded" in job
    page = client.get("/backups").get_data(as_text=True)
    assert "never verified" in page
    res = client.post("/backups", data={"action": "verify", "csrf_token": csrf(client, "/backups")})
    assert res.status_code == 302
    run_queued_jobs(app)
    page = client.get("/backups").get_data(as_text=True)
    assert "passed" in page and 'id="download-backup-report"' in page
    pdf = client.get("/backups/report")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = text_of(pdf.data)
    for words in ("Backup Verification Report", "PASSED", "audit-consistency", "sample-decrypt",
                  "Anchored to checkpoint", "customers"):  # fmt: skip
        assert words in text, words


def test_dpo_reads_everything_but_runs_nothing(app: Any, client: Any) -> None:
    from backup_helpers import create

    create(app.test_cli_runner())
    login_as(app, client, "dpo")
    page = client.get("/backups").get_data(as_text=True)
    assert 'id="backups"' in page and 'id="backup-now"' not in page
    token = csrf(client, "/account")
    assert (
        client.post("/backups", data={"action": "create", "csrf_token": token}).status_code == 403
    )


def test_auditor_sees_the_verification_history_and_the_pack_holds_the_report(
    app: Any, client: Any
) -> None:
    from backup_helpers import create, invoke

    runner = app.test_cli_runner()
    backup_id = create(runner)
    assert invoke(runner, "backup", "verify", backup_id).exit_code == 0
    login_as(app, client, "auditor")
    page = client.get("/backups").get_data(as_text=True)
    assert 'id="verifications"' in page and backup_id in page
    assert 'id="backups"' not in page and 'id="backup-now"' not in page
    res = client.post(
        "/auditor/evidence-pack",
        data={"reports": ["backup-verification"], "csrf_token": csrf(client, "/auditor")},
    )
    assert res.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(res.data))
    assert json.loads(archive.read("manifest.json"))["skipped"] == {}
    assert "PASSED" in text_of(archive.read("reports/backup-verification.pdf"))
