"""Tests for field ciphertext: round trips, AAD binding, tampering, truncation, wrong keys."""

from __future__ import annotations

import pytest

from governance.crypto import (
    CryptoError,
    FieldCipher,
    FieldPlace,
    FormatError,
    IntegrityError,
    KeyMismatchError,
    blob_dek_id,
    decrypt_field,
    decrypt_json,
    encrypt_field,
    encrypt_json,
    new_data_key,
    new_data_key_id,
)

DEK = bytes(range(32))
DEK_ID = bytes.fromhex("0102030405060708")
SECRET = "alice.secret@example.org"


def sealed(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "dek": DEK,
        "dek_id": DEK_ID,
        "table": "customers",
        "column": "email",
        "subject_id": 42,
        "plaintext": SECRET,
    }
    args.update(overrides)
    return encrypt_field(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "a", SECRET, "Zoë Ñandú 北京市 🙂", "x" * 5000])
def test_text_round_trip(text: str) -> None:
    blob = sealed(plaintext=text)
    assert len(blob) == 1 + 8 + 12 + len(text.encode()) + 16
    assert blob[0] == 1 and blob_dek_id(blob) == DEK_ID
    assert decrypt_field(DEK, DEK_ID, "customers", "email", 42, blob) == text


def test_plaintext_not_in_blob_and_nonce_is_fresh() -> None:
    a, b = sealed(), sealed()
    assert SECRET.encode() not in a
    assert a != b and a[9:21] != b[9:21]


def test_given_nonce_is_deterministic() -> None:
    nonce = b"\x00" * 12
    assert sealed(nonce=nonce) == sealed(nonce=nonce)
    assert sealed(nonce=nonce)[9:21] == nonce


def test_json_round_trip_is_canonical() -> None:
    address = {"street": "1 Rue de la Paix", "city": "Paris", "zip": "75002", "lines": [1, 2.5]}
    blob = encrypt_json(DEK, DEK_ID, "customers", "address", "s-1", address, nonce=b"\x01" * 12)
    reordered = dict(reversed(list(address.items())))
    same = encrypt_json(DEK, DEK_ID, "customers", "address", "s-1", reordered, nonce=b"\x01" * 12)
    assert blob == same
    assert decrypt_json(DEK, DEK_ID, "customers", "address", "s-1", blob) == address
    items = [{"sku": "A1", "qty": 2}]
    blob = encrypt_json(DEK, DEK_ID, "orders", "items", "s-1", items, row_id="o-9")
    assert decrypt_json(DEK, DEK_ID, "orders", "items", "s-1", blob, row_id="o-9") == items


def test_text_blob_opened_as_json_is_format_error() -> None:
    blob = sealed(plaintext="not json")
    with pytest.raises(FormatError, match="is not JSON"):
        decrypt_json(DEK, DEK_ID, "customers", "email", 42, blob)


@pytest.mark.parametrize(
    ("table", "column", "subject_id", "row_id"),
    [
        ("customers", "phone", 42, None),  # another column
        ("customers", "email", 43, None),  # another row / subject
        ("prospects", "email", 42, None),  # another table
        ("customers", "email", "42", "7"),  # same subject, a specific row
    ],
)
def test_blob_moved_elsewhere_fails_integrity(
    table: str, column: str, subject_id: int | str, row_id: str | None
) -> None:
    blob = sealed()
    with pytest.raises(IntegrityError) as info:
        decrypt_field(DEK, DEK_ID, table, column, subject_id, blob, row_id=row_id)
    message = str(info.value)
    assert message.startswith(f"ciphertext failed integrity check for {table}.{column} of subject")
    assert SECRET not in message
    assert (info.value.table, info.value.column) == (table, column)


def test_integrity_message_is_exact() -> None:
    with pytest.raises(IntegrityError) as info:
        decrypt_field(DEK, DEK_ID, "customers", "email", 42, sealed(subject_id=41))
    assert str(info.value) == "ciphertext failed integrity check for customers.email of subject 42"


def test_row_bound_blob_moved_between_rows_of_one_subject() -> None:
    cipher = FieldCipher(DEK, DEK_ID)
    blob = cipher.encrypt(FieldPlace("orders", "comment", "s-1", "order-1"), "fragile")
    assert cipher.decrypt(FieldPlace("orders", "comment", "s-1", "order-1"), blob) == "fragile"
    with pytest.raises(IntegrityError, match="orders.comment of subject s-1 row order-2"):
        cipher.decrypt(FieldPlace("orders", "comment", "s-1", "order-2"), blob)


def test_every_single_byte_tamper_is_detected() -> None:
    blob = sealed(plaintext="hello")
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            bad = blob[:i] + bytes([blob[i] ^ flip]) + blob[i + 1 :]
            expected: type[CryptoError]
            if i == 0:
                expected = FormatError
            elif i < 9:
                expected = KeyMismatchError
            else:
                expected = IntegrityError
            with pytest.raises(expected):
                decrypt_field(DEK, DEK_ID, "customers", "email", 42, bad)


def test_truncated_values_are_format_errors() -> None:
    blob = sealed(plaintext="")
    assert decrypt_field(DEK, DEK_ID, "customers", "email", 42, blob) == ""
    for n in range(len(blob)):
        with pytest.raises(FormatError, match="truncated") as info:
            decrypt_field(DEK, DEK_ID, "customers", "email", 42, blob[:n])
        assert "customers.email of subject 42" in str(info.value)
    longer = sealed(plaintext="hello")
    with pytest.raises(IntegrityError):  # cut in the ciphertext: still long enough to parse
        decrypt_field(DEK, DEK_ID, "customers", "email", 42, longer[:-1])


@pytest.mark.parametrize("version", [0x00, 0x02, 0xFF])
def test_unknown_format_version(version: int) -> None:
    blob = bytes([version]) + sealed()[1:]
    with pytest.raises(FormatError, match=f"unknown field ciphertext format version {version}"):
        decrypt_field(DEK, DEK_ID, "customers", "email", 42, blob)


def test_wrong_data_key() -> None:
    blob = sealed()
    other_id = new_data_key_id()
    with pytest.raises(KeyMismatchError, match=f"sealed with data key {DEK_ID.hex()}"):
        decrypt_field(new_data_key(), other_id, "customers", "email", 42, blob)
    # same id, different key material (a corrupted key row): the tag catches it
    with pytest.raises(IntegrityError):
        decrypt_field(new_data_key(), DEK_ID, "customers", "email", 42, blob)


def test_invalid_labels_and_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="column"):
        sealed(column="email|42")
    with pytest.raises(ValueError, match="subject_id"):
        sealed(subject_id="4|2")
    with pytest.raises(ValueError):
        FieldCipher(DEK[:16], DEK_ID)
    with pytest.raises(ValueError):
        FieldCipher(DEK, DEK_ID[:4])
    with pytest.raises(ValueError, match="nonce"):
        sealed(nonce=b"\x00" * 8)


def test_data_keys_are_random_and_sized() -> None:
    assert len(new_data_key()) == 32 and new_data_key() != new_data_key()
    assert len(new_data_key_id()) == 8
    assert new_data_key(lambda n: b"\x07" * n) == b"\x07" * 32
    with pytest.raises(ValueError):
        new_data_key(lambda n: b"\x07")


def test_open_row_matches_open_field_by_field_and_fails_the_same_way() -> None:
    from governance.crypto.errors import FormatError, IntegrityError, KeyMismatchError
    from governance.crypto.fields import FieldCipher, FieldPlace

    cipher = FieldCipher(bytes(range(32)), b"\x01" * 8)
    values = {"email": "a@example.com", "phone": "+8613800000000", "full_name": "李雷"}
    blobs = {c: cipher.encrypt(FieldPlace("customers", c, "S1"), v) for c, v in values.items()}
    opened = cipher.open_row("customers", "S1", blobs)
    assert {c: raw.decode() for c, raw in opened.items()} == values
    assert opened == {c: cipher.open(FieldPlace("customers", c, "S1"), b) for c, b in blobs.items()}
    with pytest.raises(IntegrityError):  # another subject's associated data
        cipher.open_row("customers", "S2", blobs)
    with pytest.raises(IntegrityError):  # a blob moved to another column
        cipher.open_row("customers", "S1", {"phone": blobs["email"]})
    tampered = bytearray(blobs["email"])
    tampered[-1] ^= 1
    with pytest.raises(IntegrityError):
        cipher.open_row("customers", "S1", {"email": bytes(tampered)})
    with pytest.raises(KeyMismatchError):
        FieldCipher(bytes(32), b"\x02" * 8).open_row("customers", "S1", blobs)
    with pytest.raises(FormatError):
        cipher.open_row("customers", "S1", {"email": b"\x01short"})
