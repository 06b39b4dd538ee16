"""policies/retention.yaml: the shipped file loads; every bad input names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.policyfiles import POLICY_DIR, PolicyFileError
from governance.services.retention import rules

GOOD = """version: 1
rules:
  - id: inactive
    category: customer_profile
    period_days: 30
    from: last_activity
    action: crypto_shred
    legal_reference: GDPR Art. 5(1)(e)
"""


def test_shipped_file_loads_with_every_category_and_the_audit_log_kept() -> None:
    policy = rules.load()
    assert {r.category for r in policy.rules} == set(rules.CATEGORIES)
    (audit,) = policy.for_category("audit_log")
    assert audit.action == "keep" and not audit.expires
    rules.check(POLICY_DIR / "retention.yaml")


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("category: customer_profile", "category: customer_photos", "unknown category", 4),
        ("period_days: 30", "period_days: -5", "greater than zero", 5),
        ("period_days: 30", "period_days: 0", "greater than zero", 5),
        ("action: crypto_shred", "action: shred", "unknown action", 7),
        ("from: last_activity", "from: birthday", "unknown event", 6),
    ],
)
def test_bad_rule_is_refused_naming_the_line(old: str, new: str, message: str, line: int) -> None:
    with pytest.raises(PolicyFileError) as err:
        rules.parse_text(GOOD.replace(old, new))
    assert message in str(err.value)
    assert f"retention.yaml line {line}:" in str(err.value)


def test_missing_period_unknown_field_and_audit_log_erasure_refused() -> None:
    with pytest.raises(PolicyFileError, match="period_days is required"):
        rules.parse_text(GOOD.replace("    period_days: 30\n", ""))
    with pytest.raises(PolicyFileError, match="unknown field 'colour'"):
        rules.parse_text(GOOD + "    colour: red\n")
    with pytest.raises(PolicyFileError, match="audit log can only be kept"):
        rules.parse_text(GOOD.replace("customer_profile", "audit_log"))


def test_policy_validation_names_the_file_and_line(tmp_path: Path) -> None:
    import shutil

    from governance.policy_validation import validate_all

    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    assert validate_all(policies) == []
    (policies / "retention.yaml").write_text(
        GOOD.replace("crypto_shred", "evaporate"), encoding="utf-8"
    )
    (policies / "request_rules.yaml").write_text("version: 1\nregimes: {MARS: {}}\n")
    problems = {p.file: p.message for p in validate_all(policies)}
    assert "line 7" in problems["retention.yaml"] and "evaporate" in problems["retention.yaml"]
    assert "MARS" in problems["request_rules.yaml"]
