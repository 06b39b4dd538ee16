"""Data-subject requests: receipt with the legal clock, states, extension, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from governance.models import AuditEntry, SubjectRequest
from governance.services.requests.rules import Span
from tests.requests.req_helpers import dpo, new_customer

EMAIL = "alice.example@example.com"


def test_calendar_month_is_the_same_day_next_month_or_its_last_day() -> None:
    month = Span(months=1)
    assert month.after(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2026, 2, 15, tzinfo=UTC)
    assert month.after(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert month.after(datetime(2028, 1, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert month.after(datetime(2026, 12, 31, tzinfo=UTC)) == datetime(2027, 1, 31, tzinfo=UTC)
    assert Span(months=2).after(datetime(2026, 12, 31, tzinfo=UTC)) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert Span(days=45).after(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 2, 15, tzinfo=UTC
    )


def test_gdpr_request_gets_one_month_and_extends_by_two_at_most(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call, country="DE", national_id=None, phone=None)
    headers = dpo(app, client)
    made = client.post(
        "/api/v1/requests",
        json={"kind": "access", "subject": {"email": EMAIL}, "received_at": "2026-01-31T10:00:00Z"},
        headers=headers,
    )
    assert made.status_code == 201, made.json
    body = made.json
    assert body["state"] == "received" and body["jurisdiction"] == "GDPR"
    assert body["due_at"] == "2026-02-28T10:00:00Z"
    assert body["customer_id"] == customer
    rid = body["id"]
    no_reason = client.post(f"/api/v1/requests/{rid}/extend",
                            json={"told_at": "2026-02-01T09:00:00Z"}, headers=headers)  # fmt: skip
    assert no_reason.status_code == 422
    assert no_reason.json["errors"][0]["field"] == "reason"
    beyond = client.post(
        f"/api/v1/requests/{rid}/extend",
        json={"reason": "complex", "told_at": "2026-02-01T09:00:00Z",
              "until": "2026-05-01T10:00:00Z"},
        headers=headers,
    )  # fmt: skip
    assert beyond.status_code == 422 and "legal maximum" in beyond.json["errors"][0]["message"]
    stored = client.get(f"/api/v1/requests/{rid}", headers=headers).json
    assert stored["due_at"] == "2026-02-28T10:00:00Z"  # nothing half-changed
    ok = client.post(
        f"/api/v1/requests/{rid}/extend",
        json={"reason": "many requests at once (Art. 12(3))", "told_at": "2026-02-01T09:00:00Z"},
        headers=headers,
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["due_at"] == "2026-04-28T10:00:00Z"
    assert ok.json["extension"]["reason"].startswith("many requests")
    again = client.post(f"/api/v1/requests/{rid}/extend",
                        json={"reason": "more", "told_at": "2026-02-02T09:00:00Z"},
                        headers=headers)  # fmt: skip
    assert again.status_code == 422
    detail = client.get(f"/api/v1/requests/{rid}", headers=headers).json
    assert [h["action"] for h in detail["history"]] == ["received", "extended"]
    assert detail["overdue"] is True  # 2026-04-28 has passed by the test's clock


def test_ccpa_45_days_and_us_state_unknown_applies_every_us_regime(
    app: Any, client: Any, call: Any
) -> None:
    new_customer(call, country="US", national_id=None, phone=None, language="en")
    headers = dpo(app, client)
    made = client.post(
        "/api/v1/requests",
        json={"kind": "access", "subject": {"email": EMAIL}, "received_at": "2026-03-01T00:00:00Z"},
        headers=headers,
    )
    assert made.status_code == 201, made.json
    assert set(made.json["jurisdictions"]) == {"CCPA", "NY_SHIELD"}
    assert "unknown" in made.json["jurisdiction_note"]
    assert made.json["due_at"] == "2026-04-15T00:00:00Z"
    given = client.post(
        "/api/v1/requests",
        json={"kind": "erasure", "subject": {"email": EMAIL}, "jurisdiction": "CCPA",
              "received_at": "2026-03-01T00:00:00Z"},
        headers=headers,
    )  # fmt: skip
    assert given.json["jurisdiction"] == "CCPA" and given.json["jurisdictions"] == ["CCPA"]


def test_unknown_subject_is_recorded_as_no_data_held(app: Any, client: Any, call: Any) -> None:
    headers = dpo(app, client)
    made = client.post(
        "/api/v1/requests",
        json={"kind": "access", "subject": {"email": "nobody@example.org"},
              "jurisdiction": "GDPR"},
        headers=headers,
    )  # fmt: skip
    assert made.status_code == 201
    assert made.json["state"] == "completed" and made.json["outcome"] == "no_data_held"
    history = client.get(f"/api/v1/requests/{made.json['id']}", headers=headers).json["history"]
    assert "the person is told" in history[-1]["note"]
    entry = call.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "request.create")
    ).one()
    assert "nobody" not in entry.leaf  # the subject's value is never in the log
    call.session.rollback()


def test_verification_cannot_be_skipped(app: Any, client: Any, call: Any) -> None:
    new_customer(call)
    headers = dpo(app, client)
    rid = client.post("/api/v1/requests", json={"kind": "erasure", "subject": {"email": EMAIL},
                                               "jurisdiction": "PIPL"},
                      headers=headers).json["id"]  # fmt: skip
    for target in ("in_progress", "completed"):
        skip = client.post(f"/api/v1/requests/{rid}/transition", json={"to": target},
                           headers=headers)  # fmt: skip
        assert skip.status_code == 409, skip.json
        assert skip.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/requests/{rid}", headers=headers).json["state"] == "received"
    step = client.post(f"/api/v1/requests/{rid}/transition", json={"to": "verifying"},
                       headers=headers)  # fmt: skip
    assert step.status_code == 200 and step.json["state"] == "verifying"
    unverified = client.post(f"/api/v1/requests/{rid}/transition", json={"to": "in_progress"},
                             headers=headers)  # fmt: skip
    assert unverified.status_code == 422
    refused = client.post(f"/api/v1/requests/{rid}/transition", json={"to": "refused"},
                          headers=headers)  # fmt: skip
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "reason"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "delete", "subject": {"email": EMAIL}}, "kind"),
        ({"kind": "access", "subject": {}}, "subject"),
        ({"kind": "access", "subject": {"email": EMAIL, "phone": "+8613800138000"}}, "subject"),
        ({"kind": "access", "subject": {"email": "not-an-email"}}, "subject.email"),
        ({"kind": "access", "subject": {"email": EMAIL}, "jurisdiction": "MARS"}, "jurisdiction"),
        ({"kind": "access", "subject": {"email": EMAIL}, "received_at": "yesterday"},
         "received_at"),
        ({"kind": "access", "subject": {"email": EMAIL}, "received_at": "2999-01-01T00:00:00Z"},
         "received_at"),
    ],
)  # fmt: skip
def test_bad_request_input_is_422_naming_the_field(
    app: Any, client: Any, call: Any, body: dict[str, Any], field: str
) -> None:
    headers = dpo(app, client)
    answer = client.post("/api/v1/requests", json=body, headers=headers)
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"][0]["field"] == field
    assert call.session.scalars(select(SubjectRequest)).first() is None
    call.session.rollback()
