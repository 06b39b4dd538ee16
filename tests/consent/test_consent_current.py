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


def test_the_totals_agree_with_each_customers_derived_state(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    """Totals come from ``consent_current`` by index ranges; each customer's state from its
    events (``ledger.derive``): the two must count the same, in every state."""
    from collections import Counter
    from datetime import UTC, datetime, timedelta

    from consent_helpers import grant, withdraw
    from test_consent_ledger import dpo_client

    dpo = dpo_client(app)
    past = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    old = {"version": "0.9", "text": "Old notice.", "purposes": ["marketing_post"],
           "consent_lifetime_days": 365, "effective_at": past}  # fmt: skip
    assert dpo.post("/api/v1/notices", json=old).status_code == 201
    ids = [create(client, crm, marketing=None, external_ref=f"T{i}", email=f"t{i}@example.com",
                  phone=None, national_id=None, full_name=f"T {i}") for i in range(7)]  # fmt: skip
    for cid in ids[:5]:
        assert grant(client, crm, cid, "marketing_email").status_code == 201
    assert withdraw(client, crm, ids[0], "marketing_email").status_code == 201
    refuse = {"purpose": "marketing_email", "action": "refuse", "source": "app",
              "notice_version": "1"}  # fmt: skip
    assert client.post(f"/api/v1/customers/{ids[1]}/consents", json=refuse,
                       headers=crm).status_code == 201  # fmt: skip
    for cid in ids[5:]:  # granted 400 days ago under a one-year notice: expired
        res = grant(client, crm, cid, "marketing_post", notice_version="0.9", occurred_at=past)
        assert res.status_code == 201
    widening = {"version": "2", "text": "Notice 2: partner offers by email too.",
                "purposes": ["marketing_email", "marketing_post"],
                "widens": ["marketing_email"]}  # fmt: skip
    assert dpo.post("/api/v1/notices", json=widening).status_code == 201
    assert grant(client, crm, ids[2], "marketing_email", notice_version="2").status_code == 201

    per_customer: dict[str, Counter[str]] = {}
    for cid in ids:
        state = client.get(f"/api/v1/customers/{cid}/consents", headers=crm).json["purposes"]
        for purpose, doc in state.items():
            if doc["state"] != "none":
                per_customer.setdefault(purpose, Counter())[doc["state"]] += 1
    totals = dpo.get("/api/v1/consents/totals").json["current"]
    mine = {p: dict(c) for p, c in per_customer.items()}
    # grants under notice 1 before notice 2 widened the purpose need re-consent (3 and 4), the
    # one re-granted under notice 2 counts (2), withdrawn (0), refused (1), expired (5, 6)
    assert mine["marketing_email"] == {"withdrawn": 1, "refused": 1, "granted": 1,
                                       "reconsent_needed": 2}  # fmt: skip
    assert mine["marketing_post"] == {"expired": 2}
    for purpose, counts in mine.items():
        assert totals[purpose] == counts, (purpose, totals[purpose], counts)
