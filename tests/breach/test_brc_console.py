"""The incident pages: list, record, detail, workflow, tasks, containment, documents, register,
the dashboard tile and the auditor's read-only view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from brc_helpers import pdf_text
from conftest import login_as


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _record(client: Any) -> str:
    page = client.get("/incidents").get_data(as_text=True)
    now = datetime.now(UTC)
    answer = client.post(
        "/incidents",
        data={
            "csrf_token": _csrf(page),
            "title": "Laptop stolen",
            "description": "From a car.",
            "detected_at": _local(now - timedelta(hours=2)),
            "aware_at": _local(now - timedelta(hours=1)),
        },
    )
    assert answer.status_code == 302
    return str(answer.headers["Location"]).rstrip("/").split("/")[-1]


def test_a_dpo_records_and_drives_an_incident_in_the_console(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    assert "No incident has been recorded" in client.get("/incidents").get_data(as_text=True)
    incident_id = _record(client)
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "Laptop stolen" in page and 'id="workflow"' in page and "Move to triage" in page
    token = _csrf(page)
    skipped = client.post(
        f"/incidents/{incident_id}",
        data={"csrf_token": token, "op": "transition", "to": "assessed"},
        follow_redirects=True,
    )
    assert "can only move to triage" in skipped.get_data(as_text=True)
    moved = client.post(
        f"/incidents/{incident_id}",
        data={"csrf_token": token, "op": "transition", "to": "triage", "note": "on it"},
        follow_redirects=True,
    )
    text = moved.get_data(as_text=True)
    assert 'id="incident-state">triage' in text and "on it" in text
    saved = client.post(
        f"/incidents/{incident_id}",
        data={
            "csrf_token": token,
            "op": "update",
            "title": "Laptop stolen",
            "risk": "high",
            "data_categories": "email, phone",
            "dpo_contact": "dpo@example.com",
            "encrypted_exposed": "on",
        },
        follow_redirects=True,
    )
    assert "Incident updated." in saved.get_data(as_text=True)
    frozen = client.post(
        f"/incidents/{incident_id}/containment",
        data={"csrf_token": token, "action": "freeze_downloads"},
        follow_redirects=True,
    )
    assert "downloads frozen" in frozen.get_data(as_text=True)
    assert client.get("/reports/data-inventory").status_code == 423
    report = client.get(f"/incidents/{incident_id}/documents/incident-report")
    assert report.status_code == 200 and "Laptop stolen" in pdf_text(report.data)
    register = client.get("/reports/breach-register")
    assert register.status_code == 200 and "Laptop stolen" in pdf_text(register.data)
    dashboard = client.get("/").get_data(as_text=True)
    assert "Open incidents" in dashboard


def test_a_bad_form_is_refused_above_the_page_and_nothing_is_recorded(
    app: Any, client: Any
) -> None:
    login_as(app, client, "dpo")
    page = client.get("/incidents").get_data(as_text=True)
    now = datetime.now(UTC)
    answer = client.post(
        "/incidents",
        data={
            "csrf_token": _csrf(page),
            "title": "Backwards",
            "detected_at": _local(now - timedelta(hours=1)),
            "aware_at": _local(now - timedelta(hours=5)),
        },
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert "aware_at: is before detected_at" in text
    assert "No incident has been recorded" in text


def test_auditors_read_incidents_but_change_nothing(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    incident_id = _record(client)
    auditor = app.test_client()
    login_as(app, auditor, "auditor", "auditor-console@example.com")
    listing = auditor.get("/incidents").get_data(as_text=True)
    assert "Laptop stolen" in listing and 'id="new-incident"' not in listing
    page = auditor.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert 'id="timeline"' in page and 'id="containment"' not in page
    assert auditor.get("/reports/breach-register").status_code == 200
    corner = auditor.get("/auditor").get_data(as_text=True)
    assert 'id="report-breach-register"' in corner


def _page_statements(app: Any, client: Any) -> tuple[int, str]:
    from sqlalchemy import event

    from governance.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        res = client.get("/incidents")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert res.status_code == 200
    return len(seen), res.get_data(as_text=True)


def test_the_incidents_page_costs_the_same_with_one_or_many_incidents(
    app: Any, client: Any
) -> None:
    login_as(app, client, "dpo")
    _record(client)
    _page_statements(app, client)  # warm up: the session's first page
    one, _ = _page_statements(app, client)
    for _ in range(4):
        _record(client)
    five, page = _page_statements(app, client)
    assert page.count("Laptop stolen") == 5
    assert five == one, (one, five)  # no query per incident
