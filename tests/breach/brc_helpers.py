"""Helpers of the breach-response tests: a signed-in DPO client, times, incidents."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import csrf_headers, login_as


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def dpo(app: Any, client: Any) -> dict[str, str]:
    """Sign ``client`` in as a DPO; the CSRF header for its API writes."""
    login_as(app, client, "dpo", "dpo-breach@example.com")
    return csrf_headers(client)


def new_incident(client: Any, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "title": "Leaked CRM token",
        "description": "A CRM token was found in a public repository.",
        "detected_at": iso(now - timedelta(hours=3)),
        "aware_at": iso(now - timedelta(hours=2)),
        **extra,
    }
    answer = client.post("/api/v1/incidents", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def run_jobs(app: Any) -> None:
    """Run every queued job now, as a worker would."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    with app.app_context():
        call = deps(app).call(db.session)
        while jobs.tick(call, "test") is not None:
            pass


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
