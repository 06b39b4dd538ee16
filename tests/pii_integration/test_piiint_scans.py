"""Store scans end to end: data written through the API, scans queued through the API and run as
jobs, findings and inventory read back through the API, review statuses across rescans."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from piiint_helpers import (
    EMAIL_NOTE,
    PHONE_NOTE,
    SECRETS,
    add_note,
    audit,
    build_store,
    dpo_client,
    findings,
    scan_via_api,
)
from pypdf import PdfReader
from sqlalchemy import text

from governance.services.pii import scans as pii_scans


@pytest.fixture(autouse=True)
def in_process_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """One engine in the test process instead of a pool per scan (the CLI test uses the pool)."""
    monkeypatch.setattr(pii_scans, "DEFAULT_WORKERS", 1)


def _inventory(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    scans = client.get("/api/v1/pii/scans").json["items"]
    return {(r["table"], r["column"]): r for r in scans[0]["inventory"]}


def test_full_scan_finds_pii_in_notes_with_offsets_and_inventory(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    ids = build_store(client, crm)
    dpo, headers = dpo_client(app)
    result = scan_via_api(app, dpo, headers, mode="full")
    assert result["mode"] == "full" and result["records_scanned"] == 2 + 4 + 1

    (phone,) = findings(dpo, table="interactions", entity_type="PHONE_NUMBER")
    start = PHONE_NOTE.index("13912345678")
    assert (phone["record_id"], phone["subject_id"]) == (ids["n1"], ids["c1"])
    assert (phone["start"], phone["end"], phone["column"]) == (start, start + 11, "note")
    assert phone["status"] == "open" and phone["declared"] is False
    (email,) = findings(dpo, table="interactions", entity_type="EMAIL_ADDRESS")
    start = EMAIL_NOTE.index("li.lei@example.cn")  # character offsets into Chinese text
    assert (email["record_id"], email["start"], email["end"]) == (ids["n2"], start, start + 17)
    (comment,) = findings(dpo, table="orders", column="comment")
    assert comment["entity_type"] == "EMAIL_ADDRESS" and comment["subject_id"] == ids["c2"]
    declared = findings(dpo, table="customers", declared="true")
    assert {f["column"] for f in declared} >= {"email", "phone", "national_id"}
    assert all(f["declared"] for f in declared)

    inventory = _inventory(dpo)
    note = inventory[("interactions", "note")]
    assert note["records_total"] == 4 and note["records_scanned"] == 4
    assert note["entities"]["PHONE_NUMBER"] == {"records": 1, "share": 0.25, "declared": False}
    assert note["entities"]["EMAIL_ADDRESS"] == {"records": 1, "share": 0.25, "declared": False}
    assert inventory[("customers", "email")]["entities"]["EMAIL_ADDRESS"] == {
        "records": 2,
        "share": 1.0,
        "declared": True,
    }
    assert inventory[("customers", "phone")]["entities"]["PHONE_NUMBER"]["share"] == 0.5
    assert inventory[("interactions", "channel")]["entities"] == {}

    (entry,) = audit(app, "pii.scan")
    assert entry["details"]["records"] == 7 and entry["details"]["entity_counts"]["EMAIL_ADDRESS"]
    _assert_no_values(app, json.dumps(entry))


def _assert_no_values(app: Any, *extra: str) -> None:
    """Neither the scan tables nor ``extra`` hold any of the personal values written."""
    from governance.extensions import db

    with app.app_context():
        dump = " ".join(
            str(row)
            for table in ("pii_findings", "pii_scans")
            for row in db.session.execute(text(f"SELECT * FROM {table}"))
        )
        db.session.rollback()
    for value in SECRETS:
        assert value not in dump and all(value not in e for e in extra)


def test_incremental_rescans_keep_reviews_and_remediate_what_is_gone(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    ids = build_store(client, crm)
    dpo, headers = dpo_client(app)
    first = scan_via_api(app, dpo, headers, mode="full")
    (phone,) = findings(dpo, table="interactions", entity_type="PHONE_NUMBER")
    (comment,) = findings(dpo, table="orders")
    for finding, status in ((phone, "confirmed"), (comment, "false_positive")):
        res = dpo.patch(
            f"/api/v1/pii/findings/{finding['id']}", json={"status": status}, headers=headers
        )
        assert res.status_code == 200 and res.json["status"] == status
    assert [e["details"]["to"] for e in audit(app, "pii.review")] == ["confirmed", "false_positive"]
    assert 'data-figure="pii in undeclared places">1<' in dpo.get("/").get_data(as_text=True)

    # c1 loses its phone number; c2 gets a new note: an incremental scan reads those two only.
    assert (
        client.patch(
            f"/api/v1/customers/{ids['c1']}", json={"phone": None}, headers=crm
        ).status_code
        == 200
    )
    new_note = add_note(client, crm, ids["c2"], "New mobile: 13700001111")
    second = scan_via_api(app, dpo, headers)
    assert second["mode"] == "incremental" and second["records_scanned"] == 2
    assert second["remediated"] == 1 and second["new"] >= 1
    observed = second["findings"]
    assert (observed["PHONE_NUMBER"], observed["EMAIL_ADDRESS"], observed["CN_RESIDENT_ID"]) == (
        1,
        1,
        1,
    )
    (gone,) = findings(dpo, table="customers", column="phone")
    assert gone["status"] == "remediated" and gone["reviewed_by"] == "system:pii-scan"
    (kept,) = findings(dpo, record_id=ids["n1"], entity_type="PHONE_NUMBER")
    assert kept["status"] == "confirmed" and kept["last_scan_id"] == first["scan_id"]
    (fresh,) = findings(dpo, record_id=new_note["id"])
    assert fresh["first_scan_id"] == second["scan_id"] and fresh["status"] == "open"

    # Erasing c2 removes its records: the next scan marks what was found there remediated,
    # while review decisions elsewhere survive the rescan.
    assert dpo.delete(f"/api/v1/customers/{ids['c2']}", headers=headers).status_code == 200
    third = scan_via_api(app, dpo, headers, mode="full")
    assert third["records_scanned"] == 1 + 3 and third["new"] == 0
    (kept,) = findings(dpo, record_id=ids["n1"], entity_type="PHONE_NUMBER")
    assert kept["status"] == "confirmed" and kept["last_scan_id"] == third["scan_id"]
    assert {f["status"] for f in findings(dpo, subject_id=ids["c2"])} == {
        "remediated",
        "false_positive",
    }
    assert findings(dpo, record_id=ids["o1"])[0]["status"] == "false_positive"
    _assert_no_values(app)


def test_discovery_report_reads_back(app: Any, client: Any, crm: dict[str, str]) -> None:
    build_store(client, crm)
    dpo, headers = dpo_client(app)
    assert dpo.get("/api/v1/reports/pii-discovery").status_code == 404  # no scan yet
    scan_via_api(app, dpo, headers, mode="full")
    scan_via_api(app, dpo, headers)
    res = dpo.get("/api/v1/reports/pii-discovery")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(res.data)).pages
    body = " ".join(" ".join(page.extract_text().split()) for page in pages)
    for expected in (
        "PII Discovery Report",
        "Inventory per column",
        "interactions note",
        "PHONE_NUMBER",
        "EMAIL_ADDRESS",
        "Findings per entity type",
        "Trend since the previous scan",
        "Open items",
        "25.0%",
    ):
        assert expected in body, expected
    for value in SECRETS:
        assert value not in body
    (entry,) = audit(app, "report.download")
    assert entry["details"]["report"] == "pii-discovery"
    console = dpo.get("/reports/pii-discovery")
    assert console.status_code == 200 and console.data[:5] == b"%PDF-"


def test_a_field_that_fails_to_decrypt_is_counted_and_keeps_its_findings(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    from governance.extensions import db
    from governance.models import Interaction

    ids = build_store(client, crm)
    dpo, headers = dpo_client(app)
    scan_via_api(app, dpo, headers, mode="full")
    with app.app_context():
        # A ciphertext moved to another row fails its integrity check (associated data).
        moved = db.session.get(Interaction, ids["n3"]).note_ct
        db.session.get(Interaction, ids["n1"]).note_ct = moved
        db.session.commit()
    result = scan_via_api(app, dpo, headers, mode="full")
    assert result["remediated"] == 0
    (phone,) = findings(dpo, record_id=ids["n1"])
    assert phone["status"] == "open" and phone["last_scan_id"] != result["scan_id"]
    assert dpo.get("/api/v1/pii/scans").json["items"][0]["summary"]["unreadable"] == 1


def test_a_scan_whose_job_gave_up_is_closed_as_failed(app: Any) -> None:
    from datetime import UTC, datetime

    from governance.extensions import db
    from governance.models import Job, PiiScan

    now = datetime.now(UTC)
    with app.app_context():
        job = Job(kind="pii.scan", params={}, state="failed", created_at=now, attempts=4)
        db.session.add(job)
        db.session.flush()
        db.session.add(PiiScan(job_id=job.id, mode="full", state="running", started_at=now))
        db.session.commit()
    dpo, headers = dpo_client(app)
    result = scan_via_api(app, dpo, headers, mode="full")
    states = {s["id"]: s["state"] for s in dpo.get("/api/v1/pii/scans").json["items"]}
    assert states.pop(result["scan_id"]) == "succeeded" and list(states.values()) == ["failed"]
