"""``consent_current``, the database's projection of each (customer, purpose)'s latest effective
event: it always says what the events say, whichever path recorded them (one call, a bulk call,
a marketing flag on create), and nothing deletes from it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from consent_helpers import create
from sqlalchemy import exists, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import aliased

from governance.models import ConsentCurrent, ConsentEvent

PURPOSES = ("marketing_email", "marketing_sms", "profiling")


def derived(session: Any) -> dict[tuple[str, str], tuple[int, str]]:
    """(customer, purpose) -> (seq, action) of the latest effective event, from the events."""
    later = aliased(ConsentEvent)
    newer = exists().where(
        later.customer_id == ConsentEvent.customer_id,
        later.purpose == ConsentEvent.purpose,
        later.effective.is_(True),
        later.seq > ConsentEvent.seq,
    )
    rows = session.execute(
        select(ConsentEvent.customer_id, ConsentEvent.purpose, ConsentEvent.seq,
               ConsentEvent.action).where(ConsentEvent.effective.is_(True), ~newer)
    )  # fmt: skip
    return {(c, p): (s, a) for c, p, s, a in rows}


def projected(session: Any) -> dict[tuple[str, str], tuple[int, str]]:
    rows = session.execute(
        select(ConsentCurrent.customer_id, ConsentCurrent.purpose, ConsentCurrent.seq,
               ConsentCurrent.action)
    )  # fmt: skip
    return {(c, p): (s, a) for c, p, s, a in rows}


def test_the_projection_follows_every_event_in_order(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    from governance.extensions import db

    rng = random.Random(14)
    ids = [create(client, crm, external_ref=f"P{i}", email=f"p{i}@example.com", phone=None,
                  national_id=None, full_name=f"P {i}") for i in range(6)]  # fmt: skip
    for round_ in range(40):
        cid, purpose = rng.choice(ids), rng.choice(PURPOSES)
        action = rng.choice(("grant", "withdraw", "refuse"))
        body: dict[str, Any] = {"purpose": purpose, "action": action, "source": "app"}
        if action != "withdraw":
            body["notice_version"] = "1"
        if round_ % 5 == 0:  # the bulk path, several events in one statement
            events = [{**body, "customer_id": cid}, {**body, "customer_id": rng.choice(ids),
                      "action": "withdraw", "notice_version": None}]  # fmt: skip
            res = client.post("/api/v1/consents", json={"events": events}, headers=crm)
        else:
            res = client.post(f"/api/v1/customers/{cid}/consents", json=body, headers=crm)
        assert res.status_code == 201, res.json
    with app.app_context():
        expected, actual = derived(db.session), projected(db.session)
    # withdrawals of consents never granted were recorded too, and left no trace here
    with app.app_context():
        ineffective = db.session.scalar(
            select(ConsentEvent.seq).where(ConsentEvent.effective.is_(False)).limit(1)
        )
    assert ineffective is not None
    assert actual == expected and len(actual) > 5


def test_nothing_deletes_from_the_projection(app: Any, client: Any, crm: dict[str, str]) -> None:
    from governance.extensions import db

    create(client, crm)  # its marketing flags are events, so the projection has rows
    with app.app_context():
        assert db.session.scalar(select(ConsentCurrent.seq).limit(1)) is not None
        with pytest.raises(DatabaseError, match="DELETE refused"):
            db.session.execute(text("DELETE FROM consent_current"))
        db.session.rollback()
