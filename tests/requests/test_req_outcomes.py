"""Completing requests: erasure with its certificate (verified offline), access export (once,
until it expires), rectification, holds refusing an erasure request."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from governance.models import Customer, RequestExport, SubjectRequest, Tombstone
from tests.requests.req_helpers import dpo, new_customer, run_jobs

EMAIL = "alice.example@example.com"


def _advance(client: Any, headers: dict[str, str], rid: str) -> Any:
    for body in ({"to": "verifying"},
                 {"to": "in_progress", "verification": "email link + last order number"},
                 {"to": "completed"}):  # fmt: skip
        answer = client.post(f"/api/v1/requests/{rid}/transition", json=body, headers=headers)
        if answer.status_code != 200:
            return answer
    return answer


def _new_request(client: Any, headers: dict[str, str], kind: str, **extra: Any) -> str:
    made = client.post("/api/v1/requests", json={"kind": kind, "subject": {"email": EMAIL},
                                                "jurisdiction": "GDPR", **extra},
                       headers=headers)  # fmt: skip
    assert made.status_code == 201, made.json
    return str(made.json["id"])


def test_erasure_request_shreds_and_its_certificate_verifies_offline(
    app: Any, client: Any, call: Any, tmp_path: Path
) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    rid = _new_request(client, headers, "erasure")
    early = client.get(f"/api/v1/requests/{rid}/certificate", headers=headers)
    assert early.status_code == 409
    done = _advance(client, headers, rid)
    assert done.status_code == 200, done.json
    assert done.json["state"] == "completed" and done.json["outcome"] == "erased"
    assert call.session.get(Customer, customer) is None
    assert call.session.get(Tombstone, customer) is not None
    call.session.rollback()
    cert = client.get(f"/api/v1/requests/{rid}/certificate", headers=headers)
    assert cert.status_code == 200, cert.json
    doc = cert.json
    assert {"leaf", "leaf_hash", "inclusion", "checkpoint"} <= set(doc)
    assert set(doc["inclusion"]) == {"leaf_index", "tree_size", "proof"}
    assert set(doc["checkpoint"]) == {"tree_size", "root_hash", "timestamp", "signature",
                                      "key_id"}  # fmt: skip
    assert json.loads(doc["leaf"])["subject_id"] == customer
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    key = tmp_path / "pub.pem"
    key.write_text(client.get("/api/v1/audit/public-key", headers=headers).get_data(as_text=True))
    ok = subprocess.run([sys.executable, "-m", "audit", "verify-inclusion", str(path), "--key",
                         str(key)], capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout and customer in ok.stdout
    forged = dict(doc, leaf=doc["leaf"].replace("request.erase", "request.eraze"))
    path.write_text(json.dumps(forged), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "audit", "verify-inclusion", str(path), "--key",
                          str(key)], capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 1 and "leaf_hash" in bad.stderr
    pdf = client.get(f"/reports/erasure-certificate/{rid}")
    if pdf.status_code == 200:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert customer in text and "Erasure Certificate" in text


def test_erasure_request_under_hold_is_refused_and_changes_nothing(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    client.post("/api/v1/holds", json={"customer_id": customer, "reason": "tax audit 2026"},
                headers=headers)  # fmt: skip
    rid = _new_request(client, headers, "erasure")
    refused = _advance(client, headers, rid)
    assert refused.status_code == 409
    assert "tax audit 2026" in refused.json["detail"]
    assert call.session.get(Customer, customer) is not None
    assert call.session.get(SubjectRequest, rid).state == "in_progress"
    call.session.rollback()


def test_access_export_is_sealed_downloadable_once_and_audited(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    client.get(f"/api/v1/customers/{customer}", headers=headers)  # an access to list later
    rid = _new_request(client, headers, "access")
    building = _advance(client, headers, rid)
    assert building.status_code == 200 and building.json["outcome"] == "export_building"
    run_jobs(app)
    detail = client.get(f"/api/v1/requests/{rid}", headers=headers).json
    assert detail["state"] == "completed" and detail["outcome"] == "export_ready"
    assert detail["export"]["available"]
    stored = call.session.scalars(select(RequestExport)).one()
    assert b"export.json" not in stored.content_ct and b"PK" not in stored.content_ct[:4]
    call.session.rollback()
    got = client.get(f"/api/v1/requests/{rid}/export", headers=headers)
    assert got.status_code == 200 and got.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.data))
    assert {"export.json", "orders.csv", "accesses.csv", "summary.pdf"} <= set(archive.namelist())
    data = json.loads(archive.read("export.json"))
    assert data["profile"]["email"] == EMAIL
    reads = [a for a in data["accesses"] if a["action"] == "customer.read"]
    assert reads and reads[0]["role"] == "dpo"
    summary = PdfReader(io.BytesIO(archive.read("summary.pdf")))
    text = "".join(p.extract_text() for p in summary.pages)
    assert customer in text
    again = client.get(f"/api/v1/requests/{rid}/export", headers=headers)
    assert again.status_code == 410 and again.mimetype == "application/problem+json"


def test_expired_export_is_gone(app: Any, client: Any, call: Any) -> None:
    new_customer(call)
    headers = dpo(app, client)
    rid = _new_request(client, headers, "portability")
    _advance(client, headers, rid)
    run_jobs(app)
    export = call.session.scalars(select(RequestExport)).one()
    export.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    call.session.commit()
    late = client.get(f"/api/v1/requests/{rid}/export", headers=headers)
    assert late.status_code == 410
    assert "expired" in late.json["detail"]
    assert call.session.scalars(select(RequestExport)).one().downloaded_at is None
    call.session.rollback()


def test_rectification_applies_the_patch(app: Any, client: Any, call: Any) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    rid = _new_request(client, headers, "rectification", changes={"language": "en"})
    done = _advance(client, headers, rid)
    assert done.status_code == 200 and done.json["outcome"] == "rectified"
    assert call.session.get(Customer, customer).language == "en"
    call.session.rollback()
