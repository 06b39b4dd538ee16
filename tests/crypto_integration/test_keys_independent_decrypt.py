"""Independent implementation, on real stored data: a customer written through the API is read
straight from the database and decrypted with pycryptodome following FORMAT.md alone (no code of
``governance.crypto``), before and after a KEK rotation; its blind index is recomputed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from conftest import customer_doc
from Crypto.Cipher import AES
from sqlalchemy import text

from governance.cli import cli
from governance.extensions import db


def hkdf(ikm: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869), no salt, 32 bytes: one expand block."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def unwrap(kek: bytes, version: int, blob: bytes) -> bytes:
    assert len(blob) == 61 and blob[0] == 0x01
    cipher = AES.new(kek, AES.MODE_GCM, nonce=blob[1:13])
    cipher.update(b"gov-dek-wrap/v1|%d" % version)
    return cipher.decrypt_and_verify(blob[13:45], blob[45:])


def open_field(dek: bytes, blob: bytes, table: str, col: str, subject: str, row: str = "") -> str:
    assert blob[0] == 0x01
    dek_id, nonce, body, tag = blob[1:9], blob[9:21], blob[21:-16], blob[-16:]
    cipher = AES.new(dek, AES.MODE_GCM, nonce=nonce)
    cipher.update(f"gov-field/v1|{table}|{col}|{subject}|{row}|{dek_id.hex()}".encode())
    return cipher.decrypt_and_verify(body, tag).decode("utf-8")


def stored(app: Any, customer_id: str) -> dict[str, Any]:
    """Raw columns of the customer, its data key and its first order."""
    with app.app_context():
        run = db.session.execute
        customer = run(text("SELECT email_ct, full_name_ct, address_ct, email_bidx, phone_bidx "
                            "FROM customers WHERE id = :i"), {"i": customer_id}).one()  # fmt: skip
        key = run(text("SELECT key_id, kek_version, wrapped FROM data_keys "
                       "WHERE subject_id = :i"), {"i": customer_id}).one()  # fmt: skip
        order = run(text("SELECT id, comment_ct FROM orders WHERE customer_id = :i"),
                    {"i": customer_id}).one()  # fmt: skip
    return {"customer": customer, "key": key, "order": order}


def decrypt_all(key_file: Path, customer_id: str, rows: dict[str, Any]) -> dict[str, Any]:
    keys = json.loads(key_file.read_text())
    version, wrapped = rows["key"].kek_version, bytes(rows["key"].wrapped)
    dek = unwrap(base64.b64decode(keys["keys"][str(version)]), version, wrapped)
    c = rows["customer"]
    assert bytes(c.email_ct)[1:9] == bytes(rows["key"].key_id)  # the DEK id in the header
    order = rows["order"]
    return {
        "version": version,
        "email": open_field(dek, bytes(c.email_ct), "customers", "email", customer_id),
        "full_name": open_field(dek, bytes(c.full_name_ct), "customers", "full_name", customer_id),
        "address": json.loads(
            open_field(dek, bytes(c.address_ct), "customers", "address", customer_id)
        ),
        "comment": open_field(
            dek, bytes(order.comment_ct), "orders", "comment", customer_id, order.id
        ),
    }


def blind_index(key_file: Path, kind: str, value: str) -> bytes:
    root = hkdf(base64.b64decode(json.loads(key_file.read_text())["index_root"]),
                b"gov-index-root/explicit/v1")  # fmt: skip
    index_key = hkdf(root, b"gov-index/v1|blind-index")
    kind_key = hkdf(index_key, b"gov-blind-index/v1|" + kind.encode())
    message = kind.encode() + b"\x00" + value.encode()
    return hmac.new(kind_key, message, hashlib.sha256).digest()[:16]


def test_a_stored_customer_decrypts_with_another_aes_gcm_library(
    app: Any, client: Any, crm: dict[str, str], runner: Any, tmp_path: Path
) -> None:
    doc = client.post("/api/v1/customers", headers=crm, json=customer_doc()).json
    cid = doc["id"]
    client.post(f"/api/v1/customers/{cid}/orders", headers=crm, json={
        "ordered_at": "2026-02-03", "amount": "12.00", "currency": "CNY",
        "comment": "gift wrap, 谢谢"})  # fmt: skip
    key_file = tmp_path / "instance" / "master_key.json"
    expected = {
        "email": "alice.example@example.com",
        "full_name": "Alice Example",
        "address": {"line1": "1 Example Road", "city": "Beijing", "postal_code": "100000"},
        "comment": "gift wrap, 谢谢",
    }
    rows = stored(app, cid)
    assert decrypt_all(key_file, cid, rows) == {"version": 1, **expected}
    assert bytes(rows["customer"].email_bidx) == blind_index(key_file, "email", expected["email"])
    assert bytes(rows["customer"].phone_bidx) == blind_index(key_file, "phone", "+8613800138000")

    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0
    rotated = stored(app, cid)
    assert rotated["customer"] == rows["customer"]  # fields and indexes untouched
    assert decrypt_all(key_file, cid, rotated) == {"version": 2, **expected}
