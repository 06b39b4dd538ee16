"""The audit API in the exact shapes third-party verifiers rely on; proofs verify independently."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import csrf_headers, customer_doc, login_as

from audit.checkpoint import Checkpoint, load_public_key_pem, verify_checkpoint
from audit.hashing import leaf_hash
from audit.proofcheck import verify_consistency, verify_inclusion


def _activity(client: Any, crm: dict[str, str], n: int = 3) -> None:
    for i in range(n):
        doc = client.post(
            "/api/v1/customers",
            headers=crm,
            json=customer_doc(
                external_ref=f"A{i}",
                email=f"a{i}@example.com",
                phone=None,
                national_id=None,
                full_name=f"Person {i}",
            ),
        ).json
        client.get(f"/api/v1/customers/{doc['id']}", headers=crm)


def test_entries_checkpoints_and_proofs(app: Any, client: Any, crm: dict[str, str]) -> None:
    _activity(client, crm)
    login_as(app, client, "auditor")
    page = client.get("/api/v1/audit/entries?limit=500").json
    entries = page["items"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        assert leaf_hash(e["leaf"].encode()).hex() == e["leaf_hash"]
        assert "seq" not in json.loads(e["leaf"])  # a v2 leaf: its position is its seq
    reads = [e for e in entries if e["action"] == "customer.read"]
    assert len(reads) == 3 and all(r["actor_type"] == "service" for r in reads)
    assert "alice" not in json.dumps(entries).lower() and "a0@example.com" not in json.dumps(
        entries
    )

    res = client.post("/api/v1/audit/checkpoints", headers=csrf_headers(client))
    assert res.status_code == 201
    cp_json = res.json
    assert set(cp_json) == {"tree_size", "root_hash", "timestamp", "signature", "key_id"}
    key = load_public_key_pem(client.get("/api/v1/audit/public-key").data)
    verify_checkpoint(key, Checkpoint.from_json(cp_json))
    listed = client.get("/api/v1/audit/checkpoints").json["items"]
    assert listed[-1] == cp_json

    size = cp_json["tree_size"]
    root = bytes.fromhex(cp_json["root_hash"])
    for seq in (1, size // 2, size):
        proof = client.get(f"/api/v1/audit/proof/inclusion?seq={seq}&tree_size={size}").json
        assert proof["leaf_index"] == seq - 1 and proof["tree_size"] == size
        assert proof["root_hash"] == cp_json["root_hash"]
        verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            seq - 1,
            size,
            [bytes.fromhex(h) for h in proof["proof"]],
            root,
        )
    first = 3
    cons = client.get(f"/api/v1/audit/proof/consistency?first={first}&second={size}").json
    assert cons["second_root"] == cp_json["root_hash"]
    verify_consistency(
        first,
        size,
        bytes.fromhex(cons["first_root"]),
        root,
        [bytes.fromhex(h) for h in cons["proof"]],
    )


def test_bad_proof_parameters_are_4xx(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    for url in (
        "/api/v1/audit/proof/inclusion",
        "/api/v1/audit/proof/inclusion?seq=x",
        "/api/v1/audit/proof/inclusion?seq=1&tree_size=999999",
        "/api/v1/audit/proof/inclusion?seq=0",
        "/api/v1/audit/proof/consistency?first=0",
        "/api/v1/audit/proof/consistency?first=5&second=2",
        "/api/v1/audit/entries?bogus=1",
        "/api/v1/audit/entries?from=yesterday",
    ):
        res = client.get(url)
        assert 400 <= res.status_code < 500, url
        assert res.mimetype == "application/problem+json"


def test_public_key_is_public_and_entries_are_not(client: Any) -> None:
    assert client.get("/api/v1/audit/public-key").status_code == 200
    assert client.get("/api/v1/audit/entries").status_code == 401


def test_verify_and_offline_verification_of_an_export(
    app: Any, client: Any, crm: dict[str, str], tmp_path: Path
) -> None:
    _activity(client, crm)
    login_as(app, client, "dpo")
    result = client.post("/api/v1/audit/verify", headers=csrf_headers(client)).json
    assert result["ok"] is True and result["tree_size"] > 6
    export = client.get("/api/v1/audit/export")
    assert export.status_code == 200
    path = tmp_path / "export.jsonl"
    path.write_bytes(export.data)
    key = tmp_path / "key.pem"
    key.write_bytes(client.get("/api/v1/audit/public-key").data)
    ok = subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(path), "--public-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    lines = path.read_text().splitlines()
    entry_at = next(
        i for i, line in enumerate(lines) if '"type":"entry"' in line and '"seq":3' in line
    )
    assert "allowed" in lines[entry_at]
    lines[entry_at] = lines[entry_at].replace("allowed", "denied", 1)
    path.write_text("\n".join(lines) + "\n")
    bad = subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(path), "--public-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "entry 3" in bad.stdout + bad.stderr


def test_signature_uses_the_documented_text(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    cp = client.post("/api/v1/audit/checkpoints", headers=csrf_headers(client)).json
    key = load_public_key_pem(client.get("/api/v1/audit/public-key").data)
    text = (
        f"governance-audit-checkpoint/v1\n{cp['tree_size']}\n"
        f"{base64.b64encode(bytes.fromhex(cp['root_hash'])).decode()}\n{cp['timestamp']}\n"
        f"{cp['key_id']}\n"
    ).encode()
    key.verify(base64.b64decode(cp["signature"]), text)


def test_audit_trail_report_reads_back(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    import io

    from pypdf import PdfReader

    _activity(client, crm)
    login_as(app, client, "auditor")
    res = client.get("/api/v1/reports/audit-trail")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(res.data)).pages)
    assert "customer.read" in text and "customer.create" in text
    assert "verified" in text.lower()
    assert (
        client.get("/api/v1/reports/audit-trail?from=2026-02-01&to=2026-01-01").status_code == 422
    )
    assert client.get("/console-missing").status_code == 404
    page = client.get("/audit?action=customer.read")
    assert page.status_code == 200 and page.get_data(as_text=True).count("customer.read") >= 3
    verify = client.post("/audit/verify", data={"csrf_token": csrf_headers(client)["X-CSRFToken"]})
    assert "Verified:" in verify.get_data(as_text=True)
    pdf = client.get("/audit/report")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_cli_export_verify_checkpoint(runner: Any, call: Any, tmp_path: Path) -> None:
    from governance.cli import cli

    call.audit.record(call.session, call.actor, "test.event", now=call.now())
    call.session.commit()
    assert "checkpoint: tree size" in runner.invoke(cli, ["audit", "checkpoint"]).output
    out = tmp_path / "log.jsonl"
    result = runner.invoke(cli, ["audit", "export", str(out)])
    assert result.exit_code == 0 and "exported" in result.output
    key = tmp_path / "key.pem"
    key.write_text(runner.invoke(cli, ["audit", "public-key"]).output)
    ok = subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(out), "--public-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0 and "\nok: " in result.output
    pdf = tmp_path / "trail.pdf"
    assert runner.invoke(cli, ["reports", "audit-trail", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
