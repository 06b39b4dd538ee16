"""The consent API contract: notices, events, state, GPC, receipts, and the governed read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from consent_helpers import create, grant, withdraw

HERE = Path(__file__).resolve().parents[2]


def test_a_fresh_install_has_a_first_notice_covering_every_consent_purpose(
    client: Any, crm: dict[str, str]
) -> None:
    res = client.get("/api/v1/notices", headers=crm)
    assert res.status_code == 200
    (first,) = res.json["items"]
    assert first["version"] == "1" and len(first["text_sha256"]) == 64
    assert set(first["purposes"]) == {
        "marketing_email", "marketing_sms", "marketing_phone", "marketing_post", "profiling",
        "sale_or_sharing",
    }  # fmt: skip
    assert first["effective_at"].endswith("Z")
    purposes = client.get("/api/v1/purposes", headers=crm).json["items"]
    assert {p["name"]: p["basis"] for p in purposes}["marketing_email"] == "consent"


def test_grant_then_read_for_marketing_then_withdraw(client: Any, crm: dict[str, str]) -> None:
    cid = create(client, crm, marketing=None)
    email = {**crm, "X-Purpose": "marketing_email"}
    refused = client.get(f"/api/v1/customers/{cid}", headers=email)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert refused.json["type"].endswith("/consent-required")
    assert "marketing_email" in refused.json["detail"]
    res = grant(client, crm, cid, "marketing_email", channel="signup_form")
    assert res.status_code == 201, res.json
    event = res.json
    assert {"id", "purpose", "action", "source", "notice_version", "recorded_at"} <= set(event)
    assert event["action"] == "grant" and event["notice_version"] == "1" and event["changed"]
    doc = client.get(f"/api/v1/customers/{cid}", headers=email)
    assert doc.status_code == 200
    # only the purpose's fields: name, email, country, language (and the ids and times)
    assert set(doc.json) == {"id", "full_name", "email", "country", "language", "created_at",
                             "updated_at"}  # fmt: skip
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json
    assert state["purposes"]["marketing_email"]["state"] == "granted"
    assert state["purposes"]["marketing_email"]["since"].endswith("Z")
    assert state["purposes"]["marketing_sms"] == {
        "state": "none", "since": None, "notice_version": None
    }  # fmt: skip
    assert withdraw(client, crm, cid, "marketing_email").status_code == 201
    assert client.get(f"/api/v1/customers/{cid}", headers=email).status_code == 403
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json
    assert state["purposes"]["marketing_email"]["state"] == "withdrawn"
    assert [e["action"] for e in state["events"]] == ["grant", "withdraw"]
    # the customer document's marketing flags are a view of the ledger
    support = client.get(f"/api/v1/customers/{cid}", headers=crm).json
    assert support["marketing"] == {"email": False}


def test_lists_leave_out_subjects_without_consent_in_sql(client: Any, crm: dict[str, str]) -> None:
    ids = [create(client, crm, external_ref=f"R{i}", email=f"p{i}@example.com",
                  phone=None, national_id=None, full_name=f"Person {i}", marketing=None)
           for i in range(5)]  # fmt: skip
    for cid in ids[1::2]:
        assert grant(client, crm, cid, "marketing_email").status_code == 201
    email = {**crm, "X-Purpose": "marketing_email"}
    page = client.get("/api/v1/customers?limit=1", headers=email).json
    assert [d["id"] for d in page["items"]] == [ids[1]]  # the page is full, never short
    second = client.get(f"/api/v1/customers?limit=1&cursor={page['next_cursor']}", headers=email)
    assert [d["id"] for d in second.json["items"]] == [ids[3]]
    assert second.json["next_cursor"] is None  # nothing after: no leak through the cursor
    everyone = client.get("/api/v1/customers?limit=50", headers=crm).json["items"]
    assert len(everyone) == 5


def test_gpc_signal_records_an_opt_out_of_sale_or_sharing(client: Any, crm: dict[str, str]) -> None:
    cid = create(client, crm)
    res = client.post(
        f"/api/v1/customers/{cid}/consents",
        json={
            "purpose": "marketing_sms",
            "action": "grant",
            "source": "app",
            "notice_version": "1",
        },
        headers={**crm, "Sec-GPC": "1"},
    )
    assert res.status_code == 201
    (related,) = res.json["related"]
    assert related["purpose"] == "sale_or_sharing" and related["source"] == "gpc"
    state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json["purposes"]
    assert state["sale_or_sharing"]["state"] == "refused"


def test_receipt_verifies_offline(client: Any, crm: dict[str, str], tmp_path: Path) -> None:
    cid = create(client, crm)
    event = grant(client, crm, cid, "marketing_sms").json
    res = client.get(f"/api/v1/consents/{event['id']}/receipt", headers=crm)
    assert res.status_code == 200, res.json
    receipt = res.json
    assert set(receipt) >= {"event", "leaf", "leaf_hash", "inclusion", "checkpoint"}
    assert set(receipt["inclusion"]) == {"leaf_index", "tree_size", "proof"}
    assert set(receipt["checkpoint"]) == {"tree_size", "root_hash", "timestamp", "signature",
                                          "key_id"}  # fmt: skip
    key = client.get("/api/v1/audit/public-key").get_data(as_text=True)
    (tmp_path / "key.pem").write_text(key)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    command = [sys.executable, "-m", "audit", "receipt", str(tmp_path / "receipt.json"),
               "--public-key", str(tmp_path / "key.pem")]  # fmt: skip
    ok = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    assert ok.returncode == 0, ok.stderr
    assert event["id"] in ok.stdout
    receipt["event"]["purpose"] = "marketing_email"  # claim another purpose
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    bad = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    assert bad.returncode == 1 and "does not record this event" in bad.stderr
    pdf = client.get(f"/api/v1/consents/{event['id']}/receipt/pdf", headers=crm)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf.data))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1 and event["id"] in text and "python -m audit receipt" in text


def test_a_receipt_waits_for_integration(app: Any, client: Any, crm: dict[str, str]) -> None:
    from governance.bootstrap import deps

    cid = create(client, crm)
    deps(app).audit.inline = False
    event = grant(client, crm, cid, "marketing_sms").json
    res = client.get(f"/api/v1/consents/{event['id']}/receipt", headers=crm)
    assert res.status_code == 409 and res.headers["Retry-After"] == "1"
    assert res.mimetype == "application/problem+json"


def test_bulk_events_each_have_a_verifiable_receipt(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    from audit.checkpoint import load_public_key_pem
    from audit.receipt import verify_receipt
    from governance.services.auditlog.views import verify_live

    blank = {"phone": None, "national_id": None, "marketing": None}
    ids = [
        create(
            client, crm, external_ref=f"B{i}", email=f"b{i}@x.example", full_name=f"B {i}", **blank
        )
        for i in range(3)
    ]
    body = {"events": [{"customer_id": cid, "purpose": "profiling", "action": "grant",
                        "source": "import", "notice_version": "1"} for cid in ids]}  # fmt: skip
    res = client.post("/api/v1/consents", json=body, headers=crm)
    assert res.status_code == 201 and res.json["recorded"] == 3
    key = load_public_key_pem(client.get("/api/v1/audit/public-key").data)
    for item in res.json["items"]:
        receipt = client.get(f"/api/v1/consents/{item['id']}/receipt", headers=crm).json
        assert verify_receipt(receipt, key).purpose == "profiling"
    call.session.rollback()
    assert verify_live(call).tree_size > 3
