"""The auditor's corner: reports catalogue with periods, the signed checkpoint, the policy files
in force (the directory listed) with their history from the audit log, and the evidence pack:
a ZIP whose signed manifest holds the SHA-256 of every file, its download audited."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from conftest import csrf_headers, login_as
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from test_console_audit_views import integrate
from test_console_forms import csrf

from governance.policyfiles import POLICY_DIR


def test_corner_lists_reports_checkpoint_and_every_policy_file(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    assert client.post("/api/v1/audit/checkpoints", headers=csrf_headers(client)).status_code == 201
    html = client.get("/auditor").get_data(as_text=True)
    for report in ("audit-trail", "data-inventory", "pii-discovery"):
        assert f'id="report-{report}"' in html
    assert 'id="latest-checkpoint"' in html
    for path in POLICY_DIR.iterdir():
        if path.is_file():
            assert f'href="/auditor/policies/{path.name}"' in html, path.name
    purposes = client.get("/auditor/policies/purposes.yaml")
    assert purposes.status_code == 200 and "purposes" in purposes.get_data(as_text=True)
    assert client.get("/auditor/policies/..%2Fpyproject.toml").status_code == 404


def test_policy_history_records_the_files_once(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    client.get("/auditor")
    integrate(app)
    client.get("/auditor")
    integrate(app)
    entries = client.get("/api/v1/audit/entries?action=policy.files").json["items"]
    assert len(entries) == 1  # unchanged files are not recorded again
    assert "policy.csv" in entries[0]["details"]["added"]
    html = client.get("/auditor").get_data(as_text=True)
    assert 'id="policy-history"' in html and "policy.csv" in html


def test_evidence_pack_is_signed_hashed_and_audited(app: Any, client: Any) -> None:
    login_as(app, client, "auditor", "aud@example.com")
    assert client.post("/api/v1/audit/checkpoints", headers=csrf_headers(client)).status_code == 201
    res = client.post(
        "/auditor/evidence-pack",
        data={"reports": ["audit-trail", "data-inventory", "pii-discovery"],
              "csrf_token": csrf(client, "/auditor")},
    )  # fmt: skip
    assert res.status_code == 200 and res.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(res.data))
    names = set(archive.namelist())
    assert {"manifest.json", "manifest.sig", "audit/audit-export.jsonl",
            "audit/audit-public-key.pem", "reports/audit-trail.pdf",
            "reports/data-inventory.pdf", "policies/policy.csv"} <= names  # fmt: skip
    manifest_bytes = archive.read("manifest.json")
    key = load_pem_public_key(archive.read("audit/audit-public-key.pem"))
    key.verify(archive.read("manifest.sig"), manifest_bytes)  # type: ignore[union-attr,call-arg]
    manifest = json.loads(manifest_bytes)
    assert manifest["generated_by"] == "aud@example.com"
    assert manifest["skipped"] == {"pii-discovery": "no PII scan has completed yet: run one first"}
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"], name
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig"}
    integrate(app)
    audited = client.get("/api/v1/audit/entries?action=evidence.pack").json["items"]
    assert audited[-1]["details"]["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()


def test_evidence_pack_refuses_an_unknown_report(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    res = client.post(
        "/auditor/evidence-pack",
        data={"reports": ["nope"], "csrf_token": csrf(client, "/auditor")},
    )
    assert res.status_code == 422


def test_support_has_no_corner(app: Any, client: Any) -> None:
    login_as(app, client, "support")
    assert client.get("/auditor").status_code == 403
