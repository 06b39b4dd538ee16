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


def test_bad_file_stops_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.bootstrap import check_retention_files
    from governance.config import ConfigError

    (tmp_path / "retention.yaml").write_text(GOOD.replace("delete", "x").replace(
        "crypto_shred", "evaporate"), encoding="utf-8")  # fmt: skip
    monkeypatch.setattr(rules, "POLICY_DIR", tmp_path)
    rules.current.cache_clear()
    try:
        with pytest.raises(ConfigError, match="unknown action 'evaporate'"):
            check_retention_files()
    finally:
        rules.current.cache_clear()
