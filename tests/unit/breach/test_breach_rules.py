"""policies/breach_rules.yaml: strict validation naming the line, and each rule's dates with an
injected clock (the incident's event times)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.policyfiles import PolicyFileError
from governance.services.breach import rules

AWARE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DETECTED = AWARE - timedelta(hours=5)


def _events(**more: datetime | None) -> dict[str, datetime | None]:
    return {"detected": DETECTED, "aware": AWARE, "contained": None, "assessed": None,
            "individuals_notified": None, **more}  # fmt: skip


def test_the_shipped_file_covers_every_regime() -> None:
    parsed = rules.load()
    assert set(parsed.regimes) == {"GDPR", "UK_GDPR", "PIPL", "CCPA", "NY_SHIELD"}


@pytest.mark.parametrize(
    ("regime", "target", "due"),
    [
        ("GDPR", "authority", AWARE + timedelta(hours=72)),  # Art. 33(1)
        ("GDPR", "individuals", AWARE + timedelta(hours=72)),
        ("UK_GDPR", "authority", AWARE + timedelta(hours=72)),
        ("PIPL", "authority", AWARE + timedelta(hours=4)),  # CAC measures (2025-11-01)
        ("PIPL", "individuals", AWARE + timedelta(hours=24)),
        ("CCPA", "individuals", AWARE + timedelta(days=30)),  # 1798.82(a)
        ("NY_SHIELD", "individuals", AWARE + timedelta(days=30)),  # 899-aa(2)
        ("NY_SHIELD", "authority", AWARE + timedelta(days=30)),
        ("NY_SHIELD", "other", AWARE + timedelta(days=30)),
    ],
)
def test_each_rule_runs_from_its_event(regime: str, target: str, due: datetime) -> None:
    rule = rules.current().rule(regime, target)
    assert rule is not None
    assert rule.due_at(_events()) == due


def test_a_rule_from_a_later_event_has_no_due_time_until_it_happens() -> None:
    rule = rules.current().rule("CCPA", "other")  # the AG's copy, 15 days after the notices
    assert rule is not None
    assert rule.due_at(_events()) is None
    sent = AWARE + timedelta(days=10)
    assert rule.due_at(_events(individuals_notified=sent)) == sent + timedelta(days=15)


def test_thresholds_and_exemptions() -> None:
    gdpr_people = rules.current().rule("GDPR", "individuals")
    assert gdpr_people is not None
    assert gdpr_people.required(None, 1) is None  # not yet assessed: counts as high
    assert gdpr_people.required("high", 1) is None
    assert "below the threshold" in (gdpr_people.required("risk", 1) or "")
    assert "encrypted" in (gdpr_people.required("high", 1, encrypted_keys_safe=True) or "")
    ag = rules.current().rule("CCPA", "other")
    assert ag is not None
    assert "fewer than 501" in (ag.required("high", 500) or "")
    assert ag.required("high", 501) is None
    authority = rules.current().rule("GDPR", "authority")
    assert authority is not None
    assert authority.required("unlikely", 10) is not None
    assert authority.required("risk", 10, encrypted_keys_safe=True) is None  # no such exemption


BASE = """version: 1
rules:
  GDPR:
    notifications:
      - target: authority
        recipient: DPA
        deadline: {within: 72h, from: aware}
        risk_threshold: risk
        content: [nature]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "        colour: red\n", "line 10: unknown field 'colour'"),
        (BASE.replace("  GDPR:", "  MARS:"), "line 3: unknown regime 'MARS'"),
        (BASE.replace("from: aware", "from: lunch"), "line 7: deadline event 'lunch'"),
        (BASE.replace("72h", "3 days"), "line 7: within is hours or days"),
        (BASE.replace("target: authority", "target: press"), "line 5: target 'press'"),
        (BASE.replace("[nature]", "[nature, gossip]"), "line 9: unknown content item 'gossip'"),
        (BASE.replace("risk_threshold: risk", "risk_threshold: dire"), "line 8: risk_threshold"),
        (BASE + "extra: 1\n", "line 10: unknown field 'extra'"),
        (BASE.replace("version: 1", "version: 2"), "line 1: version must be 1"),
        (BASE.replace("        recipient: DPA\n", ""), "line 5: GDPR: a notification needs"),
        (
            BASE + "      - target: authority\n        recipient: again\n"
            "        deadline: {within: 1h, from: aware}\n        risk_threshold: risk\n"
            "        content: [nature]\n",
            "two notifications to one target",
        ),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(PolicyFileError, match="breach_rules.yaml") as caught:
        rules.parse_text(text)
    assert message in str(caught.value)


def test_a_good_minimal_file_parses() -> None:
    parsed = rules.parse_text(BASE)
    rule = parsed.rule("GDPR", "authority")
    assert rule is not None and rule.content == ("nature",)


def test_policy_validate_names_the_file_and_line(tmp_path: Path) -> None:
    from governance.policy_validation import validate_all
    from governance.policyfiles import POLICY_DIR

    shutil.copytree(POLICY_DIR, tmp_path / "policies")
    target = tmp_path / "policies" / "breach_rules.yaml"
    target.write_text(BASE + "        colour: red\n", encoding="utf-8")
    problems = [str(p) for p in validate_all(tmp_path / "policies")]
    assert problems == [
        "policies/breach_rules.yaml: breach_rules.yaml, line 10: unknown field 'colour'"
    ]
