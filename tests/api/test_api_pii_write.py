"""Write-time PII checks on free text (policies/pii.yaml write_policy), audited without values."""

from __future__ import annotations

from typing import Any

from conftest import customer_doc

from governance.models import AuditEntry, Order


def test_order_comment_with_a_card_number_is_rejected_and_audited(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    doc = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    res = client.post(
        f"/api/v1/customers/{doc['id']}/orders",
        headers=crm,
        json={
            "ordered_at": "2026-01-01",
            "amount": "10",
            "currency": "CNY",
            "comment": "paid with card 4111 1111 1111 1111 thanks",
        },
    )
    assert res.status_code == 422
    assert res.json["type"].endswith("/pii-rejected")
    assert "CREDIT_CARD" in res.json["detail"]
    assert "4111" not in res.get_data(as_text=True)
    assert call.session.query(Order).count() == 0
    entry = call.session.query(AuditEntry).filter_by(action="pii.write_check").one()
    assert entry.outcome == "denied" and "CREDIT_CARD" in entry.leaf and "4111" not in entry.leaf


def test_interaction_note_id_number_is_redacted_before_storing(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    doc = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    res = client.post(
        f"/api/v1/customers/{doc['id']}/interactions",
        headers=crm,
        json={
            "channel": "phone",
            "occurred_at": "2026-01-01T10:00:00Z",
            "note": "客户身份证号11010519491231002X已核实，回拨13800138000",
        },
    )
    assert res.status_code == 201, res.json
    note = res.json["note"]
    assert "11010519491231002X" not in note and "<CN_RESIDENT_ID>" in note
    assert "13800138000" in note  # phone numbers are flagged, not redacted, by the default policy
    entry = call.session.query(AuditEntry).filter_by(action="interaction.create").one()
    assert '"action":"redact"' in entry.leaf and "CN_RESIDENT_ID" in entry.leaf
    assert "13800138000" not in entry.leaf
