"""Redaction and the write-time decision for free-text fields (accept, flag, redact, reject)."""

from __future__ import annotations

import pytest

from governance.errors import ValidationError
from governance.services.pii.detection import (
    Finding,
    PiiRejectedError,
    UnknownFieldError,
    decide_write,
    redact,
)
from governance.services.pii.detection.policy import FieldPolicy
from governance.services.pii.detection.redaction import decide

TEXT = "Card 4111 1111 1111 1111, mail ann@example.com"
CARD = Finding("CREDIT_CARD", 5, 24, 0.95)
MAIL = Finding("EMAIL_ADDRESS", 31, 46, 1.0)


def test_redact_replace() -> None:
    assert redact(TEXT, [MAIL, CARD]) == "Card <CREDIT_CARD>, mail <EMAIL_ADDRESS>"


def test_redact_mask_keeps_card_last_four() -> None:
    assert redact(TEXT, [CARD, MAIL], mode="mask") == (
        "Card **** **** **** 1111, mail ***************"
    )
    assert redact(
        "138 0013 8000", [Finding("PHONE_NUMBER", 0, 13, 0.9)], mode="mask", mask_char="#"
    ) == ("### #### ####")


def test_redact_merges_overlaps_and_rejects_bad_mode() -> None:
    assert redact(TEXT, [CARD, Finding("PHONE_NUMBER", 10, 20, 0.4)]) == (
        "Card <CREDIT_CARD>, mail ann@example.com"
    )
    assert redact(TEXT, []) == TEXT
    with pytest.raises(ValueError, match="mode"):
        redact(TEXT, [CARD], mode="blur")


RULE = FieldPolicy(
    field="f",
    actions={"CREDIT_CARD": "reject", "CN_RESIDENT_ID": "redact", "URL": "accept"},
    default_action="flag",
    redaction="replace",
)


@pytest.mark.parametrize(
    ("findings", "action", "stored"),
    [
        ([], "accept", TEXT),
        ([Finding("URL", 0, 4, 0.6)], "accept", TEXT),
        ([MAIL], "flag", TEXT),
        (
            [Finding("CN_RESIDENT_ID", 0, 4, 1.0), MAIL],
            "redact",
            "<CN_RESIDENT_ID> 4111 1111 1111 1111, mail ann@example.com",
        ),
        ([CARD, MAIL, Finding("CN_RESIDENT_ID", 0, 4, 1.0)], "reject", None),
    ],
)
def test_decide_each_action(findings: list[Finding], action: str, stored: str | None) -> None:
    decision = decide(RULE, TEXT, findings)
    assert decision.action == action
    assert decision.text_to_store == stored
    assert sum(decision.entity_counts.values()) == len(findings)


def test_reject_raises_422_naming_types_only() -> None:
    decision = decide(RULE, TEXT, [CARD, MAIL])
    assert decision.triggered_by == ["CREDIT_CARD"]
    with pytest.raises(PiiRejectedError) as info:
        decision.raise_for_reject()
    assert isinstance(info.value, ValidationError) and info.value.status == 422
    assert "CREDIT_CARD" in info.value.detail and "4111" not in info.value.detail
    assert info.value.errors[0]["entity_types"] == ["CREDIT_CARD"]
    assert decision.audit_details() == {
        "field": "f",
        "action": "reject",
        "entity_counts": {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1},
    }


def test_decide_write_with_the_real_policy() -> None:
    note = decide_write("interactions.note", "客户身份证11010519491231002X，邮箱li@example.com")
    assert note.action == "redact"
    assert note.text_to_store == "客户身份证<CN_RESIDENT_ID>，邮箱li@example.com"
    assert note.entity_counts == {"CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1}

    flagged = decide_write("interactions.note", "Customer prefers email at li@example.com", "en")
    assert flagged.action == "flag" and flagged.triggered_by == ["EMAIL_ADDRESS"]
    assert flagged.text_to_store == "Customer prefers email at li@example.com"

    comment = decide_write("orders.comment", "pay with card 4111 1111 1111 1111 please")
    assert comment.action == "reject" and comment.text_to_store is None
    with pytest.raises(PiiRejectedError, match="CREDIT_CARD"):
        comment.raise_for_reject()

    clean = decide_write("orders.comment", "Leave the parcel at the door.")
    assert (clean.action, clean.findings, clean.text_to_store) == (
        "accept",
        [],
        "Leave the parcel at the door.",
    )
    assert decide_write("orders.comment", None).action == "accept"


def test_decide_write_unknown_field() -> None:
    with pytest.raises(UnknownFieldError):
        decide_write("customers.full_name", "Ann Lee")


def test_decide_keeps_the_offsets_of_what_the_stored_text_still_holds() -> None:
    """Spans left after redaction point into the stored (shorter or longer) text."""
    text = "id 11010519491231002X mail a@b.cn call 13912345678"
    findings = [
        Finding("CN_RESIDENT_ID", 3, 21, 1.0),
        Finding("EMAIL_ADDRESS", 27, 33, 1.0),
        Finding("PHONE_NUMBER", 39, 50, 0.5),
    ]
    decision = decide(RULE, text, findings)
    stored = decision.text_to_store
    assert stored == "id <CN_RESIDENT_ID> mail a@b.cn call 13912345678"
    kept = [(f.entity_type, stored[f.start : f.end]) for f in decision.stored_findings]
    assert kept == [("EMAIL_ADDRESS", "a@b.cn"), ("PHONE_NUMBER", "13912345678")]
    flagged = decide(RULE, "mail a@b.cn", [Finding("EMAIL_ADDRESS", 5, 11, 1.0)])
    assert flagged.stored_findings == flagged.findings
