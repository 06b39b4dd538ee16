"""Notification tasks through the services with an injected clock: which regimes apply, due
times, overdue flags, waivers (risk, encryption, numbers), and a clock that runs from another
task's completion."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from brc_helpers import iso
from conftest import make_customer
from sqlalchemy import select

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SERIAL = itertools.count(1)


def _customer(call: Any, **doc: Any) -> str:
    from governance.models import Customer

    n = next(SERIAL)
    before = set(call.session.scalars(select(Customer.id)))
    make_customer(
        call,
        email=f"t{n}@example.com",
        external_ref=f"T-{n}",
        national_id=None,
        phone=f"+86 138 0013 {7000 + n}",
        full_name=f"Person {n}",
        marketing=None,  # no consent asked: the clock is fixed before any notice was in force
        **doc,
    )
    return next(i for i in call.session.scalars(select(Customer.id)) if i not in before)


@pytest.fixture
def clocked(call: Any) -> Any:
    """The service call at a fixed "now": one day after the company became aware."""
    now = {"t": AWARE + timedelta(days=1)}
    call.clock = lambda: now["t"]
    call.now_box = now
    return call


def _incident(call: Any, ids: list[str]) -> Any:
    from governance.services.breach import incidents

    made = incidents.create(
        call,
        {
            "title": "T",
            "detected_at": iso(AWARE - timedelta(hours=1)),
            "aware_at": iso(AWARE),
            "customer_ids": ids,
        },
    )
    call.session.commit()
    return made


def _tasks(call: Any, incident: Any) -> dict[tuple[str, str], dict[str, Any]]:
    from governance.services.breach import tasks

    return {(t["regime"], t["target"]): t for t in tasks.detail(call, incident)}


def test_regimes_follow_country_and_state(clocked: Any) -> None:
    ids = [
        _customer(clocked, country="DE"),
        _customer(clocked, country="CN"),
        _customer(clocked, country="US", subdivision="US-CA"),
        _customer(clocked, country="GB"),
    ]
    incident = _incident(clocked, ids)
    found = _tasks(clocked, incident)
    assert set(found) == {
        ("GDPR", "authority"),
        ("GDPR", "individuals"),
        ("UK_GDPR", "authority"),
        ("UK_GDPR", "individuals"),
        ("PIPL", "authority"),
        ("PIPL", "individuals"),
        ("CCPA", "individuals"),
    }
    # the PIPL 4-hour clock has run out a day after awareness; the GDPR 72 hours have not
    assert found[("PIPL", "authority")]["overdue"] is True
    assert found[("GDPR", "authority")]["overdue"] is False
    assert found[("GDPR", "authority")]["seconds_left"] == 2 * 86400
    # the AG's copy (more than 500 residents) is not required for one Californian
    assert ("CCPA", "other") not in found


def test_a_us_customer_of_unknown_state_brings_every_us_regime(clocked: Any) -> None:
    incident = _incident(clocked, [_customer(clocked, country="US")])
    regimes = {regime for regime, _ in _tasks(clocked, incident)}
    assert regimes == {"CCPA", "NY_SHIELD"}


def test_risk_and_encryption_waive_what_the_rules_exempt(clocked: Any) -> None:
    from governance.services.breach import incidents

    incident = _incident(clocked, [_customer(clocked, country="DE")])
    incidents.update(clocked, incident, {"risk": "risk"})
    found = _tasks(clocked, incident)
    assert found[("GDPR", "authority")]["state"] == "open"
    assert found[("GDPR", "individuals")]["state"] == "waived"  # Art. 34: only high risk
    incidents.update(clocked, incident, {"risk": "high", "encrypted_exposed": True})
    found = _tasks(clocked, incident)
    assert found[("GDPR", "individuals")]["state"] == "waived"  # Art. 34(3)(a)
    incidents.update(clocked, incident, {"keys_exposed": True})
    assert _tasks(clocked, incident)[("GDPR", "individuals")]["state"] == "open"
    incidents.update(clocked, incident, {"risk": "unlikely"})
    assert _tasks(clocked, incident)[("GDPR", "authority")]["state"] == "waived"


def test_a_clock_that_runs_from_the_individual_notices(clocked: Any) -> None:
    from governance.services.breach import tasks

    ids = [_customer(clocked, country="US", subdivision="US-CA")]
    incident = _incident(clocked, ids)
    from governance.services.breach import rules

    rule = rules.current().rule("CCPA", "other")
    assert rule is not None
    sent = AWARE + timedelta(hours=20)
    tasks.complete(
        clocked,
        incident,
        "CCPA",
        "individuals",
        {"completed_at": iso(sent), "channel": "email", "reference": "batch-1"},
    )
    assert rule.due_at({"individuals_notified": sent}) == sent + timedelta(days=15)
    assert _tasks(clocked, incident)[("CCPA", "individuals")]["state"] == "done"


def test_overdue_follows_the_clock_and_late_completion_needs_reasons(clocked: Any) -> None:
    from governance.errors import ValidationError
    from governance.services.breach import tasks

    incident = _incident(clocked, [_customer(clocked, country="DE")])
    assert _tasks(clocked, incident)[("GDPR", "authority")]["overdue"] is False
    clocked.now_box["t"] = AWARE + timedelta(hours=73)
    assert _tasks(clocked, incident)[("GDPR", "authority")]["overdue"] is True
    body = {
        "completed_at": iso(AWARE + timedelta(hours=73)),
        "channel": "portal",
        "reference": "R-1",
    }
    with pytest.raises(ValidationError) as refused:
        tasks.complete(clocked, incident, "GDPR", "authority", body)
    assert [e["field"] for e in refused.value.errors] == ["late_reasons"]
    on_time = {**body, "completed_at": iso(AWARE + timedelta(hours=70))}
    done = tasks.complete(clocked, incident, "GDPR", "authority", on_time)
    assert done.state == "done" and done.late_reasons is None
