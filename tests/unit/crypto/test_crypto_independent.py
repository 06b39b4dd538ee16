"""Independent implementation: FORMAT.md alone (pycryptodome + stdlib) decrypts our output.

Nothing here imports ``cryptography``: HKDF is written from RFC 5869, AES-GCM comes from
pycryptodome. The test vectors are read from FORMAT.md itself, so the document is what is tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest
from Crypto.Cipher import AES

import governance.crypto as core

FORMAT_MD = Path(core.__file__).with_name("FORMAT.md")


def vectors() -> dict[str, str]:
    text = FORMAT_MD.read_text(encoding="utf-8")
    block = re.search(r"### Test vectors.*?```text\n(.*?)```", text, re.S)
    assert block, "FORMAT.md has no test vector block"
    pairs = (line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 with no salt (HashLen zero bytes)."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out, counter = out + block, counter + 1
    return out[:length]


def unwrap_dek(kek: bytes, version: int, blob: bytes) -> bytes:
    assert len(blob) == 61 and blob[0] == 0x01
    cipher = AES.new(kek, AES.MODE_GCM, nonce=blob[1:13])
    cipher.update(b"gov-dek-wrap/v1|" + str(version).encode())
    return cipher.decrypt_and_verify(blob[13:-16], blob[-16:])


def field_aad(table: str, column: str, subject: str, row: str, dek_id: bytes) -> bytes:
    return f"gov-field/v1|{table}|{column}|{subject}|{row}|{dek_id.hex()}".encode()


def open_field(
    dek: bytes, blob: bytes, table: str, column: str, subject: str, row: str = ""
) -> bytes:
    assert blob[0] == 0x01
    dek_id, nonce, body, tag = blob[1:9], blob[9:21], blob[21:-16], blob[-16:]
    cipher = AES.new(dek, AES.MODE_GCM, nonce=nonce)
    cipher.update(field_aad(table, column, subject, row, dek_id))
    return cipher.decrypt_and_verify(body, tag)


def blind_index(index_key: bytes, kind: str, value: str) -> bytes:
    kind_key = hkdf_sha256(index_key, b"gov-blind-index/v1|" + kind.encode())
    msg = kind.encode() + b"\x00" + value.encode()
    return hmac.new(kind_key, msg, hashlib.sha256).digest()[:16]


def test_vectors_decrypt_with_the_document_only() -> None:
    v = vectors()
    kek = bytes.fromhex(v["kek_v1"])
    assert base64.b64decode(v["master_key_text"]) == kek
    dek = unwrap_dek(kek, 1, bytes.fromhex(v["wrapped_v1"]))
    assert dek == bytes.fromhex(v["dek"])
    table, column, subject, row = v["field_place"].split("|")
    blob = bytes.fromhex(v["field_blob"])
    assert blob[1:9] == bytes.fromhex(v["dek_id"])
    assert open_field(dek, blob, table, column, subject, row).decode() == v["field_plaintext"]
    root = hkdf_sha256(kek, b"gov-index-root/v1")
    index_key = hkdf_sha256(root, b"gov-index/v1|blind-index")
    assert index_key.hex() == v["index_key"]
    assert blind_index(index_key, "email", "alice@example.org").hex() == v["bidx_email"]
    assert blind_index(index_key, "phone", "+33612345678").hex() == v["bidx_phone"]
    fp = hmac.new(kek, b"gov-kek-fingerprint/v1|1", hashlib.sha256).hexdigest()
    assert fp == v["fingerprint_v1"]
    ifp = hmac.new(root, b"gov-index-fingerprint/v1", hashlib.sha256).hexdigest()
    assert ifp == v["index_fp"]


def test_our_implementation_reproduces_the_vectors() -> None:
    v = vectors()
    source = core.LocalKeySource.from_text(v["master_key_text"], rng=lambda n: b"\x10" * n)
    dek, dek_id = bytes.fromhex(v["dek"]), bytes.fromhex(v["dek_id"])
    assert source.wrap(dek).blob.hex() == v["wrapped_v1"]
    nonce = bytes.fromhex(v["field_blob"])[9:21]
    blob = core.encrypt_field(dek, dek_id, "customers", "email", 42, v["field_plaintext"], nonce)
    assert blob.hex() == v["field_blob"]
    indexer = core.BlindIndexer.from_source(source)
    assert indexer.index("email", "alice@example.org").hex() == v["bidx_email"]
    assert source.fingerprint(1) == v["fingerprint_v1"]
    assert source.index_fingerprint() == v["index_fp"]


def test_fresh_output_opens_independently(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    core.generate_key_file(path)
    core.add_version(path)
    source = core.load_key_file(path)
    data = json.loads(path.read_text())
    dek, dek_id = core.new_data_key(), core.new_data_key_id()
    wrapped = source.wrap(dek)
    kek = base64.b64decode(data["keys"][str(wrapped.version)])
    assert unwrap_dek(kek, wrapped.version, wrapped.blob) == dek
    cipher = core.FieldCipher(dek, dek_id)
    subject = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    place = core.FieldPlace("orders", "items", subject, "order-7")
    items = [{"sku": "Ä-1", "qty": 2}]
    blob = cipher.encrypt_json(place, items)
    raw = open_field(dek, blob, "orders", "items", subject, "order-7")
    assert json.loads(raw) == items
    with pytest.raises(ValueError):  # pycryptodome's MAC check failure
        open_field(dek, blob, "orders", "items", subject, "order-8")
    root = hkdf_sha256(base64.b64decode(data["index_root"]), b"gov-index-root/explicit/v1")
    index_key = hkdf_sha256(root, b"gov-index/v1|blind-index")
    ours = core.BlindIndexer.from_source(source).index("email", "bob@example.org")
    assert blind_index(index_key, "email", "bob@example.org") == ours


def test_independent_writer_is_read_by_us() -> None:
    dek, dek_id, nonce = bytes(32), b"\xaa" * 8, b"\x05" * 12
    cipher = AES.new(dek, AES.MODE_GCM, nonce=nonce)
    cipher.update(field_aad("customers", "phone", "7", "", dek_id))
    body, tag = cipher.encrypt_and_digest(b"+4915112345678")
    blob = b"\x01" + dek_id + nonce + body + tag
    assert core.decrypt_field(dek, dek_id, "customers", "phone", 7, blob) == "+4915112345678"
