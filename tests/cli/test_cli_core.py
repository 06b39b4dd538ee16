"""The operator CLI: up, import (per-row report), quality, demo-data, reports, jobs, worker."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from governance.cli import cli

HEADER = [
    "external_ref",
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "national_id",
    "address_line1",
    "address_city",
    "country",
    "marketing_email",
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def invoke(runner: Any, *args: str, **kw: Any) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False, **kw)


def test_import_reports_every_row_and_rejected_rows_change_nothing(
    runner: Any, tmp_path: Path, call: Any
) -> None:
    rows = [
        [
            "R1",
            "Zhang Wei",
            "ZW@Example.com",
            "13800138000",
            "1949-12-31",
            "11010519491231002X",
            "1 Road",
            "Beijing",
            "CN",
            "yes",
        ],
        ["R2", "Bad Email", "nope", "", "", "", "", "", "CN", ""],
        ["R3", "Dup Email", "zw@example.com ", "", "", "", "", "", "CN", ""],
        [
            "R4",
            "Li Na",
            "li@example.com",
            "+86 139 0000 0000",
            "1990/01/02",
            "",
            "",
            "",
            "cn",
            "no",
        ],
    ]
    path = write_csv(tmp_path / "in.csv", rows)
    result = invoke(runner, "import", str(path))
    assert result.exit_code == 3, result.output
    out = result.output
    assert "created 2, updated 0, rejected 1, duplicates 1" in out
    assert "row 2: rejected: email is not a valid email address" in out
    assert "row 3: duplicate of" in out and "(same email)" in out
    assert "nope" not in out
    from governance.models import Customer

    assert call.session.query(Customer).count() == 2
    again = invoke(runner, "import", str(path))  # same refs: updates, not duplicates
    assert "created 0, updated 2" in again.output


def test_import_jsonl_and_bad_files(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"full_name": "A B", "email": "ab@example.com"}) + "\n{broken\n",
        encoding="utf-8",
    )
    result = invoke(runner, "import", str(path))
    assert (
        "created 1" in result.output
        and "row 2: rejected: row line is not valid JSON" in result.output
    )
    bad = write_csv(tmp_path / "bad.csv", [["x"]], header=["shoe_size"])
    result = invoke(runner, "import", str(bad))
    assert result.exit_code != 0
    assert "unknown CSV columns: shoe_size" in result.output
    result = invoke(runner, "import", str(tmp_path / "missing.csv"))
    assert result.exit_code != 0 and "no such file" in result.output
    result = invoke(runner, "import", str(tmp_path / "file.xlsx"))
    assert result.exit_code != 0


def test_demo_data_quality_and_inventory_report(runner: Any, tmp_path: Path) -> None:
    result = invoke(runner, "demo-data", "40")
    assert result.exit_code == 0, result.output
    assert "created 40 demo customers" in result.output
    result = invoke(runner, "quality", "--json")
    summary = json.loads(result.output)
    assert summary["customers"] == 40
    assert summary["fields"]["full_name"]["completeness"] == 1.0
    assert 0 < summary["fields"]["national_id"]["completeness"] < 1
    assert all(f["invalid"] == 0 for f in summary["fields"].values())
    text = invoke(runner, "quality").output
    assert "full_name" in text and "100.0%" in text
    out = tmp_path / "inv.pdf"
    result = invoke(runner, "reports", "data-inventory", str(out))
    assert result.exit_code == 0
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "Data Inventory Report" in pdf_text
    assert "customers.national_id" in pdf_text and "customers.email" in pdf_text
    assert "40" in pdf_text


def test_jobs_list_show_and_worker(runner: Any, call: Any, tmp_path: Path) -> None:
    from governance.services.jobs import queue as jobs

    path = write_csv(
        tmp_path / "w.csv", [["W1", "Wang Fang", "wf@example.com", "", "", "", "", "", "CN", ""]]
    )
    job = jobs.submit(call, "import", {"path": str(path), "format": "csv"})
    call.session.commit()
    result = invoke(runner, "worker", "--once")
    assert result.exit_code == 0
    listed = invoke(runner, "jobs", "list").output
    assert job.id in listed and "succeeded" in listed
    shown = json.loads(invoke(runner, "jobs", "show", job.id).output)
    assert shown["result"]["created"] == 1 and shown["progress"]["percent"] == 100.0
    bad = runner.invoke(cli, ["jobs", "show", "nope"])
    assert bad.exit_code != 0


def run_governance(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("governance")
    return subprocess.run(
        [str(exe), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


def test_up_is_safe_to_rerun_and_prints_credentials_once(tmp_path: Path, database_url: str) -> None:
    env = {
        "GOVERNANCE_INSTANCE_PATH": str(tmp_path / "inst"),
        "GOVERNANCE_DATABASE_URL": database_url,
    }
    first = run_governance(["up", "--no-serve", "--demo", "5"], env)
    assert first.returncode == 0, first.stderr
    assert "password:" in first.stdout and "TOTP secret:" in first.stdout
    assert "loaded 5 demo customers" in first.stdout
    key = (tmp_path / "inst" / "master_key.json").read_bytes()
    assert oct((tmp_path / "inst" / "master_key.json").stat().st_mode & 0o777) == "0o600"
    second = run_governance(["up", "--no-serve", "--demo", "5"], env)
    assert second.returncode == 0, second.stderr
    assert "password:" not in second.stdout and "already exists" in second.stdout
    assert "demo data not loaded again" in second.stdout
    assert (tmp_path / "inst" / "master_key.json").read_bytes() == key


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    env = {"GOVERNANCE_INSTANCE_PATH": str(tmp_path / "empty"), "GOVERNANCE_PAGE_SIZE": "many"}
    result = run_governance(["quality"], env)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: configuration: GOVERNANCE_PAGE_SIZE is malformed: expected a whole number"
    )
    env = {"GOVERNANCE_INSTANCE_PATH": str(tmp_path / "empty")}
    result = run_governance(["quality"], env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "GOVERNANCE_SECRET_KEY is not set" in result.stderr
