"""The breach-response API: the Contract routes and every "Bad input" item of issue 17."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from brc_helpers import dpo, iso, new_incident, pdf_text, run_jobs
from conftest import login_as, make_customer
from sqlalchemy import select

SERIAL = itertools.count(1)


def _customer(app: Any, **doc: Any) -> str:
    n = next(SERIAL)
    unique = {
        "email": f"person{n}@example.com",
        "external_ref": f"CRM-{n}",
        "phone": f"+86 138 0013 {8000 + n}",
        "national_id": None,
        "full_name": f"P {n}",
    }
    doc = {**unique, **doc}
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import Customer

    with app.app_context():
        before = set(db.session.scalars(select(Customer.id)))
        make_customer(deps(app).call(db.session), **doc)
        return str(next(i for i in db.session.scalars(select(Customer.id)) if i not in before))


def _german(app: Any) -> str:
    n = next(SERIAL)
    return _customer(app, country="DE", language="de", phone=f"+49 1512 345{6700 + n}")


def test_create_answers_201_in_state_detected(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    made = new_incident(client, headers)
    assert made["state"] == "detected" and made["id"]
    again = client.get(f"/api/v1/incidents/{made['id']}")
    assert again.json["timeline"][0]["kind"] == "created"


def test_awareness_before_detection_or_in_the_future_is_422(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    now = datetime.now(UTC)
    cases = [
        (now - timedelta(hours=1), now - timedelta(hours=2), "aware_at"),  # aware before detected
        (now + timedelta(hours=1), now + timedelta(hours=2), "detected_at"),  # future
        (now - timedelta(hours=1), now + timedelta(minutes=5), "aware_at"),  # aware in the future
    ]
    for detected, aware, field in cases:
        body = {"title": "x", "detected_at": iso(detected), "aware_at": iso(aware)}
        answer = client.post("/api/v1/incidents", json=body, headers=headers)
        assert answer.status_code == 422
        assert answer.mimetype == "application/problem+json"
        assert field in {e["field"] for e in answer.json["errors"]}
    assert client.get("/api/v1/incidents").json["items"] == []  # nothing half-written


def test_a_german_customer_brings_a_gdpr_authority_task_due_72h_after_awareness(
    app: Any, client: Any
) -> None:
    customer = _german(app)
    headers = dpo(app, client)
    made = new_incident(client, headers, customer_ids=[customer])
    answer = client.get(f"/api/v1/incidents/{made['id']}/tasks")
    assert answer.status_code == 200
    items = answer.json["items"]
    assert all(set(item) == {"regime", "target", "due_at", "state", "overdue"} for item in items)
    gdpr = [i for i in items if i["regime"] == "GDPR" and i["target"] == "authority"]
    assert len(gdpr) == 1
    aware = datetime.fromisoformat(made["aware_at"].replace("Z", "+00:00"))
    assert gdpr[0]["due_at"] == iso(aware + timedelta(hours=72))
    assert gdpr[0]["state"] == "open" and gdpr[0]["overdue"] is False
    assert {i["regime"] for i in items} == {"GDPR"}  # no PIPL or US task for a German customer


def test_no_affected_customer_means_no_task(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    made = new_incident(client, headers)
    assert client.get(f"/api/v1/incidents/{made['id']}/tasks").json == {"items": []}


def test_a_transition_that_skips_a_state_is_refused_and_changes_nothing(
    app: Any, client: Any
) -> None:
    headers = dpo(app, client)
    made = new_incident(client, headers)
    path = f"/api/v1/incidents/{made['id']}/transitions"
    skipped = client.post(path, json={"to": "contained"}, headers=headers)
    assert skipped.status_code == 409
    assert skipped.json["type"].endswith("/invalid-transition")
    assert client.get(f"/api/v1/incidents/{made['id']}").json["state"] == "detected"
    unknown = client.post(path, json={"to": "exploded"}, headers=headers)
    assert unknown.status_code == 422
    for state in ("triage", "contained", "assessed", "notified", "closed"):
        step = client.post(path, json={"to": state, "note": f"to {state}"}, headers=headers)
        assert step.status_code == 200 and step.json["state"] == state
    reopened = client.post(path, json={"to": "triage", "note": "new facts"}, headers=headers)
    assert reopened.json["state"] == "triage"
    timeline = client.get(f"/api/v1/incidents/{made['id']}").json["timeline"]
    moves = [(e["from_state"], e["to_state"]) for e in timeline if e["kind"] == "transition"]
    assert moves[0] == ("detected", "triage") and moves[-1] == ("closed", "triage")
    assert all(e["actor_type"] == "user" and e["at"] for e in timeline)


def test_task_completion_needs_time_channel_reference_and_reasons_when_late(
    app: Any, client: Any
) -> None:
    customer = _german(app)
    headers = dpo(app, client)
    old = datetime.now(UTC) - timedelta(days=5)
    made = new_incident(
        client, headers, customer_ids=[customer], detected_at=iso(old), aware_at=iso(old)
    )
    tasks = client.get(f"/api/v1/incidents/{made['id']}/tasks").json["items"]
    assert [t["overdue"] for t in tasks if t["target"] == "authority"] == [True]
    path = f"/api/v1/incidents/{made['id']}/tasks/GDPR/authority"
    missing = client.post(path, json={"reference": "DPA-1"}, headers=headers)
    assert missing.status_code == 422
    assert {"completed_at", "channel"} <= {e["field"] for e in missing.json["errors"]}
    body = {"completed_at": iso(datetime.now(UTC)), "channel": "DPA portal", "reference": "D-1"}
    late = client.post(path, json=body, headers=headers)
    assert late.status_code == 422
    assert [e["field"] for e in late.json["errors"]] == ["late_reasons"]
    still = client.get(f"/api/v1/incidents/{made['id']}/tasks").json["items"]
    assert [t["state"] for t in still if t["target"] == "authority"] == ["open"]  # unchanged
    done = client.post(
        path, json={**body, "late_reasons": "forensics took four days"}, headers=headers
    )
    assert done.status_code == 200
    finished = [t for t in done.json["items"] if t["target"] == "authority"]
    assert finished[0]["state"] == "done" and finished[0]["overdue"] is False
    again = client.post(path, json={**body, "late_reasons": "x"}, headers=headers)
    assert again.status_code == 409


def test_an_analysis_scope_that_matches_nothing_is_said_plainly(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    made = new_incident(client, headers)
    scope = {"query": {"country": "IS"}}
    answer = client.post(
        f"/api/v1/incidents/{made['id']}/analyses", json={"scope": scope}, headers=headers
    )
    assert answer.status_code == 202
    run_jobs(app)
    job = client.get(answer.headers["Location"]).json
    assert job["state"] == "succeeded"
    assert job["result"]["affected"] == 0
    assert "no customer matched the scope" in job["result"]["message"]
    incident = client.get(f"/api/v1/incidents/{made['id']}").json
    assert incident["analysis"]["affected"] == 0 and incident["affected"] == 0
    bad = client.post(
        f"/api/v1/incidents/{made['id']}/analyses",
        json={"scope": {"query": {"planet": "Mars"}}},
        headers=headers,
    )
    assert bad.status_code == 422


def test_everything_a_token_read_comes_from_the_audit_log(app: Any, client: Any) -> None:
    from conftest import make_token

    token = make_token(app, "crm_app", "leaky-crm")
    crm = {"Authorization": f"Bearer {token}", "X-Purpose": "support"}
    german, chinese, untouched = _german(app), _customer(app), _customer(app)
    start = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get(f"/api/v1/customers/{german}", headers=crm).status_code == 200
    assert client.get(f"/api/v1/customers/{chinese}", headers=crm).status_code == 200
    headers = dpo(app, client)
    made = new_incident(client, headers)
    from governance.extensions import db
    from governance.models import ApiToken

    with app.app_context():
        token_id = db.session.query(ApiToken).one().id
    scope = {"actor": {"type": "token", "id": token_id, "from": iso(start)}}
    answer = client.post(
        f"/api/v1/incidents/{made['id']}/analyses", json={"scope": scope}, headers=headers
    )
    assert answer.status_code == 202
    run_jobs(app)
    incident = client.get(f"/api/v1/incidents/{made['id']}").json
    summary = incident["analysis"]
    assert summary["affected"] == 2, summary
    assert summary["readability"]["clear"] == 2  # crm_app reads in clear
    assert summary["by_regime"] == {"GDPR": 1, "PIPL": 1}
    assert "email" in summary["by_category"]
    tasks = client.get(f"/api/v1/incidents/{made['id']}/tasks").json["items"]
    assert {(t["regime"], t["target"]) for t in tasks} >= {
        ("GDPR", "authority"),
        ("PIPL", "authority"),
    }
    assert untouched not in str(summary)


def test_documents_are_pdfs_read_back_as_text(app: Any, client: Any) -> None:
    chinese = _customer(app)
    headers = dpo(app, client)
    made = new_incident(client, headers, customer_ids=[chinese])
    client.patch(
        f"/api/v1/incidents/{made['id']}",
        json={
            "dpo_contact": "dpo@example.com",
            "consequences": "Phishing is possible.",
            "containment": "The token was revoked.",
            "data_categories": ["email", "phone"],
        },
        headers=headers,
    )
    base = f"/api/v1/incidents/{made['id']}/documents"
    authority = client.get(f"{base}/authority-notice?regime=PIPL")
    assert authority.status_code == 200 and authority.mimetype == "application/pdf"
    text = pdf_text(authority.data)
    assert "Cyberspace Administration of China" in text and "dpo@example.com" in text
    assert client.get(f"{base}/authority-notice?regime=MARS").status_code == 422
    zh = client.get(f"{base}/individual-notice?customer_id={chinese}&language=zh")
    assert zh.status_code == 200
    assert "涉及您个人信息的安全事件" in pdf_text(zh.data)
    en = client.get(f"{base}/individual-notice?customer_id={chinese}&language=en")
    assert "security incident involving your personal data" in pdf_text(en.data)
    stranger = _german(app)
    assert client.get(f"{base}/individual-notice?customer_id={stranger}").status_code == 404
    report = client.get(f"{base}/incident-report")
    assert "Timeline" in pdf_text(report.data)


def test_auditors_download_the_breach_register(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    new_incident(client, headers, title="Lost laptop")
    auditor = app.test_client()
    login_as(app, auditor, "auditor", "auditor-breach@example.com")
    answer = auditor.get("/api/v1/reports/breach-register")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert "Lost laptop" in pdf_text(answer.data)
    from conftest import csrf_headers

    refused = auditor.post("/api/v1/incidents", json={}, headers=csrf_headers(auditor))
    assert refused.status_code == 403  # read-only


def test_bulk_notices_are_sealed_and_the_zip_is_audited(app: Any, client: Any) -> None:
    import io
    import zipfile

    ids = [_customer(app), _german(app)]
    headers = dpo(app, client)
    made = new_incident(client, headers, customer_ids=ids)
    answer = client.post(f"/api/v1/incidents/{made['id']}/notices", headers=headers)
    assert answer.status_code == 202
    run_jobs(app)
    job = client.get(answer.headers["Location"]).json
    assert job["state"] == "succeeded" and job["result"]["notices"] == 2
    from governance.extensions import db
    from governance.models import AuditEntry, BreachNotice

    with app.app_context():
        stored = db.session.query(BreachNotice).all()
        assert len(stored) == 2 and all(not n.pdf_ct.startswith(b"%PDF") for n in stored)
    zipped = client.get(f"/api/v1/incidents/{made['id']}/notices/zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert sorted(names) == sorted(
        f"notice-{c}-{'zh' if i == 0 else 'en'}.pdf" for i, c in enumerate(ids)
    )
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).all()]
    assert "incident.notices.download" in actions


def test_containment_freezes_downloads_with_a_clear_problem(app: Any, client: Any) -> None:
    headers = dpo(app, client)
    made = new_incident(client, headers)
    path = f"/api/v1/incidents/{made['id']}/containment"
    done = client.post(path, json={"action": "freeze_downloads"}, headers=headers)
    assert done.status_code == 200
    frozen = client.get("/api/v1/reports/data-inventory")
    assert frozen.status_code == 423
    assert frozen.json["type"].endswith("/downloads-frozen")
    assert client.get("/api/v1/audit/export").status_code == 423
    assert client.get("/api/v1/reports/breach-register").status_code == 200  # responders' own
    client.post(path, json={"action": "unfreeze_downloads"}, headers=headers)
    assert client.get("/api/v1/reports/data-inventory").status_code == 200
    bad = client.post(path, json={"action": "panic"}, headers=headers)
    assert bad.status_code == 422


def test_containment_revokes_a_token_and_disables_its_account(app: Any, client: Any) -> None:
    from conftest import make_token

    from governance.extensions import db
    from governance.models import ApiToken, AuditEntry

    token = make_token(app, "crm_app", "stolen-crm")
    with app.app_context():
        row = db.session.query(ApiToken).one()
        token_id, account_id = row.id, row.service_account_id
    headers = dpo(app, client)
    made = new_incident(client, headers)
    path = f"/api/v1/incidents/{made['id']}/containment"
    assert (
        client.post(
            path, json={"action": "revoke_token", "target": token_id}, headers=headers
        ).status_code
        == 200
    )
    crm = {"Authorization": f"Bearer {token}", "X-Purpose": "support"}
    assert client.get("/api/v1/customers", headers=crm).status_code == 401
    assert (
        client.post(
            path, json={"action": "disable_service_account", "target": account_id}, headers=headers
        ).status_code
        == 200
    )
    assert client.post(path, json={"action": "revoke_token"}, headers=headers).status_code == 422
    timeline = client.get(f"/api/v1/incidents/{made['id']}").json["timeline"]
    kinds = [e["details"].get("action") for e in timeline if e["kind"] == "containment"]
    assert kinds == ["revoke_token", "disable_service_account"]
    with app.app_context():
        contained = db.session.query(AuditEntry).filter_by(action="incident.contain").count()
    assert contained == 2
