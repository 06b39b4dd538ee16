"""``expected_pii`` in policies/fields.yaml: parsed, validated, and checked against the entity
types the PII policy knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import GovernanceError
from governance.policyfiles import PolicyFileError, load_field_rules
from governance.services.pii.findings import expected_types


def _rules(tmp_path: Path, note_rule: str) -> dict:
    (tmp_path / "fields.yaml").write_text(
        f"interactions:\n  note: {note_rule}\n  channel: {{sensitive: false, encrypted: false}}\n",
        encoding="utf-8",
    )
    return load_field_rules(tmp_path)


def test_the_shipped_file_declares_the_customer_columns() -> None:
    expected = expected_types(load_field_rules())
    assert expected[("customers", "email")] == {"EMAIL_ADDRESS"}
    assert expected[("customers", "phone")] == {"PHONE_NUMBER"}
    assert expected[("customers", "national_id")] == {"CN_RESIDENT_ID"}
    assert expected[("customers", "full_name")] == {"PERSON"}
    assert expected[("customers", "address")] == {"LOCATION"}
    assert expected[("interactions", "note")] == frozenset()
    assert expected[("orders", "comment")] == frozenset()


def test_expected_pii_is_optional_and_parsed(tmp_path: Path) -> None:
    rules = _rules(tmp_path, "{sensitive: true, encrypted: true, expected_pii: [PHONE_NUMBER]}")
    assert rules[("interactions", "note")].expected_pii == ("PHONE_NUMBER",)
    assert rules[("interactions", "channel")].expected_pii == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("PHONE_NUMBER", "must be a list"),
        ("[phone]", "malformed entity type"),
        ("[PHONE_NUMBER, PHONE_NUMBER]", "twice"),
        ("[1]", "must be a list"),
    ],
)
def test_malformed_expected_pii_is_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(PolicyFileError, match=message) as err:
        _rules(tmp_path, f"{{sensitive: true, encrypted: true, expected_pii: {value}}}")
    assert "interactions.note" in str(err.value)


def test_unknown_entity_types_are_refused_when_scanning(tmp_path: Path) -> None:
    rules = _rules(tmp_path, "{sensitive: true, encrypted: true, expected_pii: [SHOE_SIZE]}")
    with pytest.raises(GovernanceError, match="interactions.note.expected_pii.*SHOE_SIZE"):
        expected_types(rules)
