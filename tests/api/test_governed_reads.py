"""The governed read pipeline (services/customers/reads.py) and the declared purpose (issue 12
items 2 and 3): X-Purpose validated at the edge against policies/purposes.yaml, the purpose in
every read's audit entry, hidden fields never decrypted, internal reads audited under their
system purpose, and a number of SQL statements per request that does not grow with the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc, login_as, make_customer
from sqlalchemy import event

from governance.cli import cli
from governance.context import Actor, Purpose, purposes
from governance.models import AuditEntry, Customer
from governance.policyfiles import PolicyFileError, load_purposes
from governance.services.customers import reads
from governance.services.keys.vault import DataUnavailable


def entries(call: Any, action: str) -> list[dict[str, Any]]:
    call.session.rollback()  # see what the requests committed
    rows = call.session.query(AuditEntry).filter_by(action=action).order_by(AuditEntry.seq)
    return [json.loads(row.leaf) for row in rows]


def create(client: Any, crm: dict[str, str], **overrides: Any) -> str:
    res = client.post("/api/v1/customers", json=customer_doc(**overrides), headers=crm)
    assert res.status_code == 201, res.json
    return str(res.json["id"])


# --- Purpose at the edge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/customers", "/api/v1/customers/{id}", "/api/v1/customers/{id}/orders"]
)
def test_an_unknown_purpose_is_422_naming_the_header(
    client: Any, crm: dict[str, str], call: Any, path: str
) -> None:
    url = path.format(id=create(client, crm))
    res = client.get(url, headers={**crm, "X-Purpose": "curiosity"})
    assert res.status_code == 422 and res.mimetype == "application/problem+json"
    assert res.json["errors"] == [{"field": "X-Purpose", "message": "is not a known purpose"}]
    # refused before anything was read: the only entry is the refusal (denied, a refused read)
    assert [e["outcome"] for e in entries(call, "customer.read")] in ([], ["denied"])


def test_a_system_purpose_cannot_be_declared_by_a_caller(client: Any, crm: dict[str, str]) -> None:
    res = client.get("/api/v1/customers", headers={**crm, "X-Purpose": "pii_scan"})
    assert res.status_code == 422
    res = client.get("/api/v1/customers", headers={**crm, "X-Purpose": " "})
    assert res.json["errors"] == [{"field": "X-Purpose", "message": "must not be empty"}]
    res = client.get("/api/v1/customers?purpose=support", headers=crm)  # retired
    assert res.status_code == 400
    retired = {"field": "purpose", "message": "is retired: use the X-Purpose header"}
    assert res.json["errors"] == [retired]


def test_the_declared_purpose_is_in_each_read_entry(
    client: Any, crm: dict[str, str], call: Any
) -> None:
    cid = create(client, crm)
    analytics = {**crm, "X-Purpose": "analytics"}
    assert client.get(f"/api/v1/customers/{cid}", headers=analytics).status_code == 200
    assert client.get("/api/v1/customers", headers=crm).status_code == 200
    assert client.get(f"/api/v1/customers/{cid}/orders", headers=analytics).status_code == 200
    bare = {"Authorization": crm["Authorization"]}
    assert client.get(f"/api/v1/customers/{cid}", headers=bare).status_code == 400  # none
    read = [(e["purpose"], e["outcome"]) for e in entries(call, "customer.read")]
    assert read == [("analytics", "allowed"), (None, "failed")]
    assert [e["purpose"] for e in entries(call, "customer.list")] == ["support"]
    assert [e["purpose"] for e in entries(call, "order.list")] == ["analytics"]


def test_the_console_declares_a_chosen_purpose(app: Any, client: Any, call: Any) -> None:
    make_customer(call)
    cid = call.session.query(Customer.id).scalar()
    call.session.rollback()  # end the read: the requests below write
    login_as(app, client, "support")
    page = client.get(f"/customers/{cid}")
    assert page.status_code == 200 and b"Purpose: <strong>support</strong>" in page.data
    listed = client.get("/customers?purpose=account_management")
    assert listed.status_code == 200
    assert f"/customers/{cid}?purpose=account_management" in listed.text
    assert client.get("/customers?purpose=nope").status_code == 422
    assert [e["purpose"] for e in entries(call, "customer.read")] == ["support"]
    assert [e["purpose"] for e in entries(call, "customer.list")] == ["account_management"]


def test_purposes_file_lists_caller_and_system_purposes() -> None:
    known = purposes()
    assert {"support", "analytics", "marketing_email"} <= {n for n, s in known.items() if not s}
    for name in ("pii_scan", "data_quality", "import_check", "merge", "legacy_sealing"):
        assert Purpose.named(name, system=True).system


SYS = "    basis: contract\n    description: {en: x, zh: y}\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (f"version: 2\npurposes: {{}}\nsystem:\n  Bad Name:\n{SYS}", 4, "lowercase"),
        (f"version: 2\npurposes: {{}}\nsystem:\n  a:\n{SYS}  a:\n{SYS}", 7, "listed twice"),
        ("version: 1\npurposes: {}\nsystem: {}\n", 1, "version: 2"),
        ("version: 2\npurposes: {}\n", 1, "system: expected a mapping"),
    ],
)
def test_a_bad_purposes_file_names_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "purposes.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError, match=rf"line {line}: .*{message}"):
        load_purposes(tmp_path)


# --- the pipeline --------------------------------------------------------------------------------


def test_a_hidden_field_is_never_decrypted(call: Any) -> None:
    """A corrupt email ciphertext fails a read that shows the email, not one that hides it."""
    make_customer(call)
    row = call.session.query(Customer).one()
    cid = row.id
    row.email_ct = bytes(row.email_ct[:-1]) + bytes([row.email_ct[-1] ^ 1])
    call.session.flush()
    analyst = call.as_actor(Actor(id="a", type="user", roles=("analyst",)))
    doc = reads.read_customer(analyst.for_purpose(Purpose.named("analytics")), cid)
    assert "email" not in doc and "date_of_birth" not in doc and doc["country"] == "CN"
    crm = call.as_actor(Actor(id="c", type="service", roles=("crm_app",)))
    crm = crm.for_purpose(Purpose.named("support"))
    with pytest.raises(DataUnavailable):
        reads.read_customer(crm, cid)


def test_internal_reads_are_audited_under_their_system_purpose(runner: Any, call: Any) -> None:
    make_customer(call)
    assert runner.invoke(cli, ["quality", "--json"]).exit_code == 0
    assert [e["purpose"] for e in entries(call, "quality.summary")] == ["data_quality"]
    bad = runner.invoke(cli, ["quality", "--purpose", "support"])
    assert bad.exit_code == 2 and "not a system purpose" in bad.output


def test_an_internal_read_must_declare_a_system_purpose(call: Any) -> None:
    with pytest.raises(ValueError, match="system purpose"):
        reads.subject_keys(call.for_purpose(Purpose.named("support")), ["x"])


# --- fast by structure: statements per request do not grow with the page ----------------------


class Statements:
    """Counts the SQL statements the app's engine executes."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


def _statements(app: Any, request: Any) -> int:
    from governance.extensions import db

    with app.app_context():
        engine = db.engine
    with Statements(engine) as seen:
        res = request()
        assert res.status_code in (200, 201), res.get_data(as_text=True)[:300]
    return seen.count


def test_statements_per_request_do_not_grow_with_the_page(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    from governance.bootstrap import deps
    from governance.services.customers import store

    # As served by `governance serve`/`up`, where the integrator thread sequences the audit
    # log: a request only queues its entry (one INSERT), it does not extend the tree itself.
    deps(app).audit.inline = False
    for i in range(60):
        unique = {"external_ref": f"R-{i}", "email": f"c{i}@example.com"}
        blank = {"phone": None, "national_id": None, "date_of_birth": None}
        store.create_customer(call, customer_doc(**unique, **blank))
    call.session.commit()
    cid = call.session.query(Customer.id).first()[0]
    call.session.rollback()
    headers = {**crm, "X-Purpose": "support"}

    def page(n: int) -> int:
        return _statements(app, lambda: client.get(f"/api/v1/customers?limit={n}", headers=headers))

    page(1)  # warm up: the token's first use and the app's first request
    small, large = page(5), page(50)
    assert large == small, (small, large)
    read = _statements(app, lambda: client.get(f"/api/v1/customers/{cid}", headers=headers))
    orders = _statements(
        app, lambda: client.get(f"/api/v1/customers/{cid}/orders", headers=headers)
    )
    doc = customer_doc(external_ref="NEW-1", email="new@example.com", phone=None, national_id=None)
    doc.pop("marketing")  # consent events are extra statements (below)
    made = _statements(app, lambda: client.post("/api/v1/customers", json=doc, headers=crm))
    doc = customer_doc(external_ref="NEW-2", email="n2@example.com", full_name="New Two")
    doc = {k: v for k, v in doc.items() if k not in ("phone", "national_id")}
    consented = _statements(app, lambda: client.post("/api/v1/customers", json=doc, headers=crm))
    # one consent (marketing.email): the notice in force, the event and its queued audit entry
    assert consented <= made + 3, (made, consented)
    # A read: its row, key, the purpose check's consent/objection lookups and its marketing
    # view in one statement, then the queued audit entry. A page: its rows and keys (the
    # purpose filter inside), one query for the page's marketing view, the entry. The entry's
    # subject index is the integrator's work, not the request's. The token was verified by the
    # first call (the per-process token cache). A per-row or per-field query would show up here.
    assert read == 2 and large == 3, (read, large, orders, made)
    assert orders == read + 1, (read, orders)  # the customer with its key and check, its orders
    # One duplicate check across every blind index and the external reference, the row, its
    # wrapped key and the queued audit entry: no flush or refresh round trips.
    assert made == 4, made


def test_a_key_read_again_is_not_unwrapped_again_until_the_keys_change(call: Any) -> None:
    make_customer(call)
    cid = call.session.query(Customer.id).scalar()
    call.session.rollback()
    support = call.for_purpose(Purpose.named("support")).as_actor(
        Actor(id="c", type="service", roles=("crm_app",))
    )
    unwraps: list[int] = []
    real = call.vault.keys.unwrap

    def counted(wrapped: Any) -> bytes:
        unwraps.append(wrapped.version)
        return real(wrapped)  # type: ignore[no-any-return]

    call.vault.keys.unwrap = counted
    try:
        first = reads.read_customer(support, cid)
        assert reads.read_customer(support, cid) == first and len(unwraps) == 1
        call.vault.use_keys(call.vault.keys)  # a reloaded key source: the cache starts empty
        assert reads.read_customer(support, cid) == first and len(unwraps) == 2
    finally:
        del call.vault.keys.unwrap
    call.session.rollback()
