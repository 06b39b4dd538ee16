"""Unauthenticated refusals cannot grow the audit log without bound: per client and minute, the
first is recorded as before and the repeats become one entry with their count."""

from __future__ import annotations

from typing import Any

from conftest import login_as, make_token

from governance.services.auditlog import views as audit_views

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OTHER = {"REMOTE_ADDR": "198.51.100.9"}
MINUTE = 1_800_000_000  # a minute boundary (epoch seconds)


def auditor(app: Any) -> Any:
    """A second browser: an auditor signed in to the console, reading the log through the API."""
    reader = app.test_client()
    login_as(app, reader, "auditor")
    return reader


def entries(reader: Any, action: str) -> list[dict[str, Any]]:
    answer = reader.get(f"/api/v1/audit/entries?action={action}&limit=1000")
    assert answer.status_code == 200, answer.json
    return list(answer.json["items"])


def by_client(items: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    for item in items:
        out.setdefault(item["client"], []).append(item)
    return out


def test_repeated_refusals_are_one_entry_per_client_and_minute(app: Any, client: Any) -> None:
    reader = auditor(app)
    clock = [MINUTE + 5.0]
    app.extensions["governance.refusals"].clock = lambda: clock[0]
    bad = {"Authorization": "Bearer not-a-token"}
    calls = [(bad, ATTACKER)] * 30 + [({}, ATTACKER)] * 5 + [({}, OTHER)] * 3
    for headers, sender in calls:
        refused = client.get("/api/v1/customers", headers=headers, environ_base=sender)
        assert refused.status_code == 401

    tokens = by_client(entries(reader, "auth.token"))
    required = by_client(entries(reader, "auth.required"))
    assert len(tokens["203.0.113.7"]) == 1  # the first of the minute, recorded as before
    assert "203.0.113.7" not in required
    assert len(required["198.51.100.9"]) == 1
    assert entries(reader, "auth.refused.repeated") == []  # the minute is not over

    clock[0] += 60
    assert client.get("/api/v1/openapi.json").status_code == 200  # any later request writes them
    summaries = by_client(entries(reader, "auth.refused.repeated"))
    attacker = summaries["203.0.113.7"]
    assert len(attacker) == 1
    assert attacker[0]["outcome"] == "denied"
    assert attacker[0]["details"] == {
        "minute": "2027-01-15T08:00Z",
        "count": 35,
        "first_seq": tokens["203.0.113.7"][0]["seq"],
        "first_leaf_hash": tokens["203.0.113.7"][0]["leaf_hash"],
        "actions": {"auth.required": 5, "auth.token": 30},
    }
    assert summaries["198.51.100.9"][0]["details"]["count"] == 3

    # A new minute starts a new count: its first refusal is recorded again.
    assert client.get("/api/v1/customers", headers=bad, environ_base=ATTACKER).status_code == 401
    assert len(by_client(entries(reader, "auth.token"))["203.0.113.7"]) == 2
    with app.app_context():
        from governance.bootstrap import deps
        from governance.extensions import db

        assert audit_views.verify_live(deps(app).call(db.session)).tree_size > 0


def test_refusals_of_a_signed_in_caller_are_still_recorded_one_by_one(
    app: Any, client: Any
) -> None:
    """Only unauthenticated refusals are aggregated: a token's refused route is each recorded."""
    reader = auditor(app)
    crm = make_token(app, "crm_app")
    app.extensions["governance.refusals"].clock = lambda: MINUTE + 5.0
    for _ in range(4):
        answer = client.get(
            "/api/v1/audit/entries", headers={"Authorization": f"Bearer {crm}"},
            environ_base=ATTACKER,
        )  # fmt: skip
        assert answer.status_code == 403
    assert len(entries(reader, "access.denied")) == 4


def test_the_tally_is_bounded_in_memory_too() -> None:
    """Beyond ``max_clients`` clients in one minute, the rest share one overflow tally."""
    from governance.security.refusals import RefusalTally

    now = [MINUTE + 1.0]
    tally = RefusalTally(clock=lambda: now[0], max_clients=2)
    firsts = [tally.admit(f"10.0.0.{n % 5}", "auth.required") for n in range(20)]
    assert firsts.count(True) == 3  # two clients of their own, and the overflow's first
    assert not tally.due()
    now[0] += 60
    assert tally.due()
    counts = {s.client: s.count for s in tally.closed()}
    assert counts == {"10.0.0.0": 4, "10.0.0.1": 4, None: 12}
    assert not tally.due() and tally.closed() == []
