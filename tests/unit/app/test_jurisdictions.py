"""Which legal regimes apply to a customer: policies/jurisdictions.yaml and its validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import jurisdictions
from governance.policyfiles import PolicyFileError

REGIMES = {"GDPR", "UK_GDPR", "PIPL", "CCPA", "NY_SHIELD"}


def test_the_shipped_file_lists_the_shared_regime_ids() -> None:
    assert REGIMES <= set(jurisdictions.load().ids)


@pytest.mark.parametrize(
    ("country", "subdivision", "expected"),
    [
        ("DE", None, ("GDPR",)),
        ("IE", None, ("GDPR",)),
        ("NO", None, ("GDPR",)),  # EEA
        ("GB", None, ("UK_GDPR",)),
        ("CN", "CN-BJ", ("PIPL",)),
        ("US", "US-CA", ("CCPA",)),
        ("US", "US-NY", ("NY_SHIELD",)),
        ("US", "US-TX", ()),
        ("JP", None, ()),
    ],
)
def test_regimes_follow_country_and_subdivision(
    country: str, subdivision: str | None, expected: tuple[str, ...]
) -> None:
    found = jurisdictions.load().applicable(country, subdivision)
    assert found.regimes == expected
    assert not found.assumed


def test_a_us_customer_of_unknown_state_gets_every_us_regime_and_is_told_so() -> None:
    found = jurisdictions.load().applicable("US", None)
    assert set(found.regimes) == {"CCPA", "NY_SHIELD"}
    assert found.assumed
    assert "unknown" in found.note and "CCPA" in found.note


def test_unknown_country_applies_nothing_and_says_why() -> None:
    found = jurisdictions.load().applicable(None, None)
    assert found.regimes == ()
    assert "unknown" in found.note


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "jurisdictions.yaml").write_text(body, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("version: 1\nregimes:\n  GDPR: {name: G, law: L, countries: [XX]}\n", "'XX'"),
        ("version: 1\nregimes:\n  CCPA: {name: C, law: L, subdivisions: [US-ZZ]}\n", "'US-ZZ'"),
        ("version: 1\nregimes:\n  GDPR: {name: G, law: L, countries: [DE], extra: 1}\n", "extra"),
        ("version: 1\nregimes:\n  gdpr: {name: G, law: L, countries: [DE]}\n", "regime id"),
        ("version: 1\nregimes:\n  GDPR: {name: G, law: L}\n", "countries or subdivisions"),
        ("version: 2\nregimes: {}\n", "version"),
    ],
)
def test_a_bad_file_is_refused_naming_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(PolicyFileError, match=message):
        jurisdictions.load(_write(tmp_path, body))


def test_require_names_the_known_regimes() -> None:
    table = jurisdictions.load()
    assert table.require("PIPL") == "PIPL"
    with pytest.raises(PolicyFileError, match="unknown regime 'EU'.*GDPR"):
        table.require("EU", "breach_rules.yaml: ")
