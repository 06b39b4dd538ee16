"""Stored-data faults: tampered, moved, truncated or unknown-format ciphertext, a tampered wrapped
key and a key wrapped by a retired KEK. Each read fails closed with a data-integrity problem, and
the log line names table, column and subject id only, never the value."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc
from crypto_int_helpers import Apps
from sqlalchemy import text

from governance.cli import cli
from governance.crypto.keyfile import add_version, retire_version
from governance.extensions import db

EMAIL = "Quentin.Faultline@Example.net"
SECRETS = ("Quentin", "Faultline", "faultline@example.net", "Vexillology-Order-Note")


@pytest.fixture
def apps(database_url: str) -> Iterator[Apps]:
    """Other server processes on the same database (closed after the test)."""
    made = Apps(database_url)
    yield made
    made.close()


@pytest.fixture
def store(app: Any, client: Any, crm: dict[str, str]) -> dict[str, Any]:
    """Two customers; the first has two orders. Returns their ids."""
    a = client.post("/api/v1/customers", headers=crm,
                    json=customer_doc(full_name="Quentin Faultline", email=EMAIL)).json  # fmt: skip
    b = client.post("/api/v1/customers", headers=crm, json=customer_doc(
        external_ref="B", full_name="Other Person", email="other@example.org", phone=None,
        national_id=None)).json  # fmt: skip
    orders = [
        client.post(f"/api/v1/customers/{a['id']}/orders", headers=crm, json={
            "ordered_at": f"2026-01-0{i + 1}", "amount": "9.50", "currency": "CNY",
            "comment": f"Vexillology-Order-Note {i}"}).json["id"]
        for i in range(2)
    ]  # fmt: skip
    return {"a": a["id"], "b": b["id"], "orders": orders}


def column(app: Any, table: str, name: str, row_id: str) -> bytes:
    with app.app_context():
        return bytes(db.session.execute(text(f"SELECT {name} FROM {table} WHERE id = :i"),
                                        {"i": row_id}).scalar_one())  # fmt: skip


def put(app: Any, table: str, name: str, row_id: str, value: bytes) -> None:
    with app.app_context():
        db.session.execute(text(f"UPDATE {table} SET {name} = :v WHERE id = :i"),
                           {"v": value, "i": row_id})  # fmt: skip
        db.session.commit()


def flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def assert_fails_closed(res: Any, caplog: Any, *expected: str) -> None:
    assert res.status_code == 500
    assert res.mimetype == "application/problem+json"
    assert res.json["type"].endswith("/data-integrity")
    for part in expected:
        assert part in res.json["detail"]
    logged = [r.getMessage() for r in caplog.records if r.name == "governance.services.keys.vault"]
    assert logged and all(part in logged[-1] for part in expected)
    everything = (res.get_data(as_text=True) + caplog.text).lower()
    assert not [s for s in SECRETS if s.lower() in everything]


Corrupt = Callable[[Any, dict[str, Any]], None]
CASES: dict[str, tuple[Corrupt, str]] = {
    "tampered byte": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           flip(column(app, "customers", "email_ct", s["a"]), 30)),
        "ciphertext failed integrity check for customers.email of subject {a}",
    ),
    "tampered tag": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           flip(column(app, "customers", "email_ct", s["a"]), -1)),
        "ciphertext failed integrity check for customers.email of subject {a}",
    ),
    "moved to another column": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           column(app, "customers", "full_name_ct", s["a"])),
        "ciphertext failed integrity check for customers.email of subject {a}",
    ),
    "moved from another customer": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           column(app, "customers", "email_ct", s["b"])),
        "ciphertext for customers.email of subject {a} was sealed with data key",
    ),
    "truncated": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           column(app, "customers", "email_ct", s["a"])[:20]),
        "field ciphertext is truncated (20 bytes) for customers.email of subject {a}",
    ),
    "unknown format version": (
        lambda app, s: put(app, "customers", "email_ct", s["a"],
                           b"\x07" + column(app, "customers", "email_ct", s["a"])[1:]),
        "unknown field ciphertext format version 7 for customers.email of subject {a}",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupt_customer_field_fails_closed(
    case: str, app: Any, client: Any, crm: dict[str, str], store: dict[str, Any], caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    corrupt, message = CASES[case]
    corrupt(app, store)
    expected = message.format(a=store["a"])
    assert_fails_closed(client.get(f"/api/v1/customers/{store['a']}", headers=crm), caplog,
                        expected)  # fmt: skip
    # listing fails closed too (no partial page), and the other customer is unaffected
    assert client.get("/api/v1/customers", headers=crm).status_code == 500
    assert client.get(f"/api/v1/customers/{store['b']}", headers=crm).status_code == 200


def test_order_comment_moved_between_orders_of_the_same_customer(
    app: Any, client: Any, crm: dict[str, str], store: dict[str, Any], caplog: Any
) -> None:
    first, second = store["orders"]
    put(app, "orders", "comment_ct", second, column(app, "orders", "comment_ct", first))
    res = client.get(f"/api/v1/customers/{store['a']}/orders", headers=crm)
    assert_fails_closed(res, caplog, f"orders.comment of subject {store['a']} row {second}")


def test_tampered_wrapped_data_key_fails_closed(
    app: Any, client: Any, crm: dict[str, str], store: dict[str, Any], caplog: Any
) -> None:
    with app.app_context():
        blob = bytes(db.session.execute(text("SELECT wrapped FROM data_keys WHERE subject_id = :s"),
                                        {"s": store["a"]}).scalar_one())  # fmt: skip
        db.session.execute(text("UPDATE data_keys SET wrapped = :w WHERE subject_id = :s"),
                           {"w": flip(blob, 20), "s": store["a"]})  # fmt: skip
        db.session.commit()
    res = client.get(f"/api/v1/customers/{store['a']}", headers=crm)
    assert_fails_closed(res, caplog, f"data key of subject {store['a']}", "tampered key row")


def test_data_key_wrapped_by_a_retired_kek(
    crm: dict[str, str], store: dict[str, Any], caplog: Any, tmp_path: Path, apps: Apps
) -> None:
    key_file = tmp_path / "instance" / "master_key.json"
    add_version(key_file)
    retire_version(key_file, 1)  # edited by hand: bypasses the "still in use" check
    restarted = apps.make(tmp_path / "instance")
    client, runner = restarted.test_client(), restarted.test_cli_runner()
    res = client.get(f"/api/v1/customers/{store['a']}", headers=crm)
    expected = (f"data key of subject {store['a']}", "KEK version 1 is retired")
    assert_fails_closed(res, caplog, *expected)
    status = runner.invoke(cli, ["keys", "status"]).output
    assert "v1: retired" in status and "v1: retired, fingerprint" in status
    assert " 0 data keys" not in status.splitlines()[1]  # version 1 still wraps keys
    result = runner.invoke(cli, ["keys", "rewrap"])
    assert result.exit_code == 1  # the job fails cleanly, with the remedy
    assert "data keys are wrapped by retired KEK version 1" in result.output
    assert "governance keys unretire 1" in result.output
    assert runner.invoke(cli, ["keys", "unretire", "1"]).exit_code == 0
    assert runner.invoke(cli, ["keys", "rewrap"]).exit_code == 0
    assert runner.invoke(cli, ["keys", "retire", "1"]).exit_code == 0
    res = client.get(f"/api/v1/customers/{store['a']}", headers=crm)
    assert res.status_code == 200 and res.json["full_name"] == "Quentin Faultline"
