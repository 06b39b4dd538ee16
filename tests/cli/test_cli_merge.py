"""``governance customers merge``: a duplicate merged into the kept customer, every source
field's fate audited by name (never a value), its records moved and re-sealed, the source
crypto-shredded."""

from __future__ import annotations

import json
from typing import Any

from conftest import customer_doc
from sqlalchemy import select

from governance.cli import cli
from governance.models import AuditEntry, DataKey, Tombstone


def invoke(runner: Any, *args: str) -> Any:
    return runner.invoke(cli, list(args))


def audit_details(call: Any, action: str, subject_id: str) -> dict[str, Any]:
    query = select(AuditEntry.leaf).where(
        AuditEntry.action == action, AuditEntry.subject_id == subject_id
    )
    leaves = list(call.session.scalars(query))
    assert len(leaves) == 1, leaves
    return dict(json.loads(leaves[0])["details"])


def create(client: Any, crm: dict[str, str], path: str = "", **fields: Any) -> dict[str, Any]:
    body = fields if path else customer_doc(**fields)
    res = client.post(f"/api/v1/customers{path}", headers=crm, json=body)
    assert res.status_code == 201, res.json
    return dict(res.json)


def test_merge_keeps_every_source_field_in_the_audit_log_by_name(
    call: Any, runner: Any, client: Any, crm: dict[str, str]
) -> None:
    kept = create(client, crm, phone=None, address=None, external_ref=None, language=None)
    duplicate = create(
        client,
        crm,
        external_ref="CRM-Dup-Wombat",
        full_name="Alice Example-Wombat",  # differs: the kept name wins
        email="alice.wombat@example.org",  # differs
        national_id=None,
        date_of_birth="1949-12-31",  # equal
        phone="+86 139 1234 5678",  # the kept record has none: taken
        address={"line1": "9 Wombat Lane", "city": "Beijing"},
        language="zh-cn",
        marketing={"sms": True},  # differs
    )
    source = f"/{duplicate['id']}"
    order = create(client, crm, f"{source}/orders", ordered_at="2026-01-01", amount="3",
                   currency="CNY", items=[{"sku": "W-1"}], comment="Wombat-Comment")  # fmt: skip
    note = create(client, crm, f"{source}/interactions", channel="phone",
                  occurred_at="2026-01-02", note="Wombat-Note")  # fmt: skip

    result = invoke(runner, "customers", "merge", duplicate["id"], kept["id"],
                    "--request-ref", "TICKET-7")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Wombat" not in result.output and "13912345678" not in result.output
    assert "fields taken: address, external_ref, language, phone" in result.output

    url = f"/api/v1/customers/{kept['id']}"
    doc = client.get(url, headers=crm).json
    assert doc["phone"] == "+8613912345678" and doc["external_ref"] == "CRM-Dup-Wombat"
    assert doc["full_name"] == "Alice Example" and doc["email"] == "alice.example@example.com"
    assert doc["address"]["line1"] == "9 Wombat Lane" and doc["language"] == "zh-CN"
    moved_orders = client.get(f"{url}/orders", headers=crm).json["items"]
    assert [(o["id"], o["items"], o["comment"]) for o in moved_orders] == [
        (order["id"], [{"sku": "W-1"}], "Wombat-Comment")
    ]
    notes = client.get(f"{url}/interactions", headers=crm).json["items"]
    assert [(n["id"], n["note"]) for n in notes] == [(note["id"], "Wombat-Note")]
    found = client.get("/api/v1/customers?external_ref=CRM-Dup-Wombat", headers=crm).json["items"]
    assert [c["id"] for c in found] == [kept["id"]]

    # the source is crypto-shredded: no row, no data key, a tombstone; reads answer 410
    assert client.get(f"/api/v1/customers/{duplicate['id']}", headers=crm).status_code == 410
    call.session.expire_all()
    assert call.session.get(DataKey, duplicate["id"]) is None
    assert call.session.get(Tombstone, duplicate["id"]).request_ref == "TICKET-7"
    gone = invoke(runner, "customers", "merge", duplicate["id"], kept["id"])
    assert gone.exit_code == 1 and "erased" in str(gone.exception)

    merged = audit_details(call, "customer.merge", kept["id"])
    assert merged["merged_from"] == duplicate["id"] and merged["request_ref"] == "TICKET-7"
    assert merged["fields_taken"] == ["address", "external_ref", "language", "phone"]
    assert merged["fields_equal"] == ["country", "date_of_birth"]
    assert merged["fields_discarded"] == ["email", "full_name"]
    assert merged["orders"] == [order["id"]] and merged["interactions"] == [note["id"]]
    # marketing is a view of the consent ledger, not a field of the record: not merged
    every_source_field = {
        k for k, v in customer_doc(**{"national_id": None}).items() if v and k != "marketing"
    }
    named = {*merged["fields_taken"], *merged["fields_equal"], *merged["fields_discarded"]}
    assert every_source_field <= named
    erased = audit_details(call, "customer.erase", duplicate["id"])
    assert erased == {"request_ref": "TICKET-7", "merged_into": kept["id"]}
    leaves = "".join(call.session.scalars(select(AuditEntry.leaf)))
    assert "Wombat" not in leaves and "wombat" not in leaves and "13912345678" not in leaves


def test_merge_refuses_itself_and_unknown_ids(
    runner: Any, client: Any, crm: dict[str, str]
) -> None:
    kept = create(client, crm)
    same = invoke(runner, "customers", "merge", kept["id"], kept["id"])
    assert same.exit_code == 1 and "merged into itself" in str(same.exception)
    unknown = invoke(runner, "customers", "merge", "not-an-id", kept["id"])
    assert unknown.exit_code == 1 and "no customer" in str(unknown.exception)
    assert client.get(f"/api/v1/customers/{kept['id']}", headers=crm).json == kept


def test_merge_never_makes_the_kept_record_inconsistent(
    call: Any, runner: Any, client: Any, crm: dict[str, str]
) -> None:
    kept = create(client, crm, date_of_birth=None)  # its resident id encodes 1949-12-31
    other = create(client, crm, external_ref="CRM-9", email="b@example.org", phone=None,
                   national_id=None, date_of_birth="1950-01-01")  # fmt: skip
    result = invoke(runner, "customers", "merge", other["id"], kept["id"])
    assert result.exit_code == 0, result.output
    doc = client.get(f"/api/v1/customers/{kept['id']}", headers=crm).json
    assert doc["date_of_birth"] is None
    assert "date_of_birth" in audit_details(call, "customer.merge", kept["id"])["fields_discarded"]


def test_merged_notes_keep_their_pii_spans_for_masked_readers(
    app: Any, runner: Any, client: Any, crm: dict[str, str]
) -> None:
    """The PII spans sealed beside a note move with it: support still reads the phone inside
    the note masked after the merge (they were sealed for the source's key and id)."""
    from conftest import login_as

    kept = create(client, crm)
    duplicate = create(client, crm, email="dup@example.org", national_id=None, phone=None,
                       external_ref=None, full_name="Dup Person",
                       date_of_birth="1960-01-01")  # fmt: skip
    create(client, crm, f"/{duplicate['id']}/interactions", channel="phone",
           occurred_at="2026-01-02", note="please call back on 13912345678")  # fmt: skip
    result = invoke(runner, "customers", "merge", duplicate["id"], kept["id"])
    assert result.exit_code == 0, result.output

    support = app.test_client()
    login_as(app, support, "support")
    res = support.get(f"/api/v1/customers/{kept['id']}/interactions")
    assert res.status_code == 200, res.json
    [note] = [item["note"] for item in res.json["items"]]
    assert "13912345678" not in note and "139****5678" in note
