"""The ``audit_monitor`` service role (issue 18 contract) and the README's example script that
keeps the last checkpoint and checks the log's consistency against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import customer_doc

from governance.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "audit_monitor.py"


def monitor_token(runner: Any) -> str:
    res = runner.invoke(
        cli, ["tokens", "create", "watcher", "--role", "audit_monitor"], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    return str(res.stdout.strip().splitlines()[-1])


def test_audit_monitor_reads_the_log_and_nothing_else(
    app: Any, client: Any, runner: Any, crm: dict[str, str]
) -> None:
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    token = monitor_token(runner)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/audit/checkpoints", headers=crm).status_code == 403
    entries = client.get("/api/v1/audit/entries", headers=auth)
    assert entries.status_code == 200 and entries.json["items"]
    assert client.get("/api/v1/audit/checkpoints", headers=auth).status_code == 200
    size = entries.json["tree_size"]
    proof = client.get(f"/api/v1/audit/proof/inclusion?seq=1&tree_size={size}", headers=auth)
    assert proof.status_code in (200, 409)  # 409: the newest entries may still be pending
    assert client.get("/api/v1/audit/export", headers=auth).status_code == 200
    assert client.get("/api/v1/audit/public-key", headers=auth).status_code == 200
    for path in ("/api/v1/customers", f"/api/v1/customers/{created['id']}"):
        refused = client.get(path, headers={**auth, "X-Purpose": "support"})
        assert refused.status_code == 403, path
        assert refused.mimetype == "application/problem+json"
    assert client.post("/api/v1/audit/checkpoints", headers=auth).status_code == 403


def test_readme_example_keeps_the_checkpoint_and_checks_consistency(
    app: Any, live_server: str, runner: Any, tmp_path: Path, crm: dict[str, str]
) -> None:
    client = app.test_client()
    dpo_like = runner.invoke(cli, ["audit", "checkpoint"], catch_exceptions=False)
    assert dpo_like.exit_code == 0, dpo_like.output
    token = monitor_token(runner)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(EXAMPLE), live_server, token],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    first = run()
    assert first.returncode == 0, first.stderr
    kept = json.loads((tmp_path / "last-checkpoint.json").read_text())
    client.post("/api/v1/customers", json=customer_doc(), headers=crm)
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    second = run()
    assert second.returncode == 0, second.stderr
    grown = json.loads((tmp_path / "last-checkpoint.json").read_text())
    assert grown["tree_size"] > kept["tree_size"]
    assert f"log consistent up to {grown['tree_size']}" in second.stdout
    # A kept checkpoint the log does not extend (a forged root) is caught.
    forged = {**grown, "tree_size": kept["tree_size"], "root_hash": "00" * 32}
    (tmp_path / "last-checkpoint.json").write_text(json.dumps(forged))
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    third = run()
    assert third.returncode != 0 and "ProofError" in third.stderr


def test_readme_shows_the_example_as_it_is_tested() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8").strip() in readme
