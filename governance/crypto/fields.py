"""Field ciphertext: one sensitive value sealed with its subject's data key (AES-256-GCM).

Binary format (FORMAT.md, "Field ciphertext")::

    0x01 | DEK id (8) | nonce (12) | ciphertext (len(plaintext)) | tag (16)

Associated data (ASCII)::

    gov-field/v1|{table}|{column}|{subject_id}|{row_id or ""}|{DEK id as 16 hex digits}

so a blob copied to another table, column, subject or row fails its tag check. AES-GCM as in
NIST SP 800-38D with a random 96-bit nonce; each DEK seals only one subject's values, far below
the 2^32 random-nonce limit of SP 800-38D section 8.3.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.crypto._kdf import check_label
from governance.crypto.datakey import DEK_ID_BYTES
from governance.crypto.errors import FormatError, IntegrityError, KeyMismatchError
from governance.crypto.keysource import KEY_BYTES, Rng

FIELD_FORMAT = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + DEK_ID_BYTES + NONCE_BYTES  # 21
MIN_FIELD_BYTES = HEADER_BYTES + TAG_BYTES  # 37: an empty string

SubjectId = str | int


@dataclass(frozen=True, slots=True)
class FieldPlace:
    """Where a value lives: table, column, owning subject, and the row if it is not the subject."""

    table: str
    column: str
    subject_id: SubjectId
    row_id: SubjectId | None = None

    def aad(self, dek_id: bytes) -> bytes:
        """The associated data binding a blob to this place and data key."""
        parts = [
            b"gov-field/v1",
            check_label("table", self.table),
            check_label("column", self.column),
            check_label("subject_id", str(self.subject_id)),
            b"" if self.row_id is None else check_label("row_id", str(self.row_id)),
            dek_id.hex().encode("ascii"),
        ]
        return b"|".join(parts)

    def __str__(self) -> str:  # ids and names only: safe for messages and logs
        text = f"{self.table}.{self.column} of subject {self.subject_id}"
        return text if self.row_id is None else f"{text} row {self.row_id}"


def blob_dek_id(blob: bytes) -> bytes:
    """Return the DEK id a field blob was sealed with (FormatError if it is not a v1 blob)."""
    if len(blob) < MIN_FIELD_BYTES:
        raise FormatError(f"field ciphertext is truncated ({len(blob)} bytes)")
    if blob[0] != FIELD_FORMAT:
        raise FormatError(f"unknown field ciphertext format version {blob[0]}")
    return blob[1 : 1 + DEK_ID_BYTES]


class FieldCipher:
    """Seals and opens one subject's values; build one per record and reuse it for every field."""

    def __init__(self, dek: bytes, dek_id: bytes, rng: Rng = os.urandom) -> None:
        if len(dek) != KEY_BYTES or len(dek_id) != DEK_ID_BYTES:
            raise ValueError("a data key is 32 bytes and its id 8 bytes")
        self._aead = AESGCM(dek)
        self.dek_id = bytes(dek_id)
        self._rng = rng

    def seal(self, place: FieldPlace, plaintext: bytes, nonce: bytes | None = None) -> bytes:
        """Encrypt raw bytes into a field blob."""
        nonce = self._rng(NONCE_BYTES) if nonce is None else nonce
        if len(nonce) != NONCE_BYTES:
            raise ValueError("a nonce is 12 bytes")
        header = bytes([FIELD_FORMAT]) + self.dek_id + nonce
        return header + self._aead.encrypt(nonce, plaintext, place.aad(self.dek_id))

    def open(self, place: FieldPlace, blob: bytes) -> bytes:
        """Decrypt a field blob; raises FormatError, KeyMismatchError, IntegrityError."""
        try:
            blob_id = blob_dek_id(blob)
        except FormatError as exc:
            raise FormatError(f"{exc} for {place}") from None
        if not hmac.compare_digest(blob_id, self.dek_id):
            raise KeyMismatchError(
                f"ciphertext for {place} was sealed with data key {blob_id.hex()}, "
                f"not {self.dek_id.hex()}"
            )
        nonce = blob[1 + DEK_ID_BYTES : HEADER_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[HEADER_BYTES:], place.aad(self.dek_id))
        except InvalidTag:
            raise IntegrityError(
                f"ciphertext failed integrity check for {place}",
                table=place.table,
                column=place.column,
                subject_id=str(place.subject_id),
            ) from None

    def open_row(
        self, table: str, subject_id: SubjectId, blobs: Mapping[str, bytes]
    ) -> dict[str, bytes]:
        """Decrypt several columns of one subject's row (no ``row_id``): ``{column: bytes}``.

        The same checks and associated data as ``open`` for each, with the parts the columns
        share built once: a list page opens a few hundred fields. Raises what ``open`` raises.
        """
        head = b"gov-field/v1|" + check_label("table", table) + b"|"
        tail = b"|%s||%s" % (check_label("subject_id", str(subject_id)), self.dek_id.hex().encode())
        decrypt, dek_id, out = self._aead.decrypt, self.dek_id, {}
        for column, blob in blobs.items():
            if (
                len(blob) < MIN_FIELD_BYTES
                or blob[0] != FIELD_FORMAT
                or not hmac.compare_digest(blob[1 : 1 + DEK_ID_BYTES], dek_id)
            ):
                out[column] = self.open(FieldPlace(table, column, subject_id), blob)  # raises
                continue
            aad = head + check_label("column", column) + tail
            try:
                out[column] = decrypt(
                    blob[1 + DEK_ID_BYTES : HEADER_BYTES], blob[HEADER_BYTES:], aad
                )
            except InvalidTag:
                out[column] = self.open(FieldPlace(table, column, subject_id), blob)  # raises
        return out

    def encrypt(self, place: FieldPlace, plaintext: str, nonce: bytes | None = None) -> bytes:
        """Encrypt a text value (UTF-8)."""
        return self.seal(place, plaintext.encode("utf-8"), nonce)

    def decrypt(self, place: FieldPlace, blob: bytes) -> str:
        """Decrypt a text value."""
        try:
            return self.open(place, blob).decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{place} is not UTF-8 text") from None

    def encrypt_json(self, place: FieldPlace, value: Any, nonce: bytes | None = None) -> bytes:
        """Encrypt a JSON value (address dict, item list) as canonical JSON."""
        return self.seal(place, canonical_json(value), nonce)

    def decrypt_json(self, place: FieldPlace, blob: bytes) -> Any:
        """Decrypt a JSON value sealed by ``encrypt_json``."""
        raw = self.open(place, blob)
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:  # includes UnicodeDecodeError
            raise FormatError(f"{place} is not JSON") from None


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN or Infinity."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def encrypt_field(
    dek: bytes,
    dek_id: bytes,
    table: str,
    column: str,
    subject_id: SubjectId,
    plaintext: str,
    nonce: bytes | None = None,
    *,
    row_id: SubjectId | None = None,
) -> bytes:
    """Encrypt one text value; use ``FieldCipher`` to seal many fields with one key."""
    place = FieldPlace(table, column, subject_id, row_id)
    return FieldCipher(dek, dek_id).encrypt(place, plaintext, nonce)


def decrypt_field(
    dek: bytes,
    dek_id: bytes,
    table: str,
    column: str,
    subject_id: SubjectId,
    blob: bytes,
    *,
    row_id: SubjectId | None = None,
) -> str:
    """Decrypt one text value; raises FormatError, KeyMismatchError, IntegrityError."""
    return FieldCipher(dek, dek_id).decrypt(FieldPlace(table, column, subject_id, row_id), blob)


def encrypt_json(
    dek: bytes,
    dek_id: bytes,
    table: str,
    column: str,
    subject_id: SubjectId,
    value: Any,
    nonce: bytes | None = None,
    *,
    row_id: SubjectId | None = None,
) -> bytes:
    """Encrypt one JSON value as canonical JSON."""
    place = FieldPlace(table, column, subject_id, row_id)
    return FieldCipher(dek, dek_id).encrypt_json(place, value, nonce)


def decrypt_json(
    dek: bytes,
    dek_id: bytes,
    table: str,
    column: str,
    subject_id: SubjectId,
    blob: bytes,
    *,
    row_id: SubjectId | None = None,
) -> Any:
    """Decrypt one JSON value; raises what ``decrypt_field`` raises."""
    place = FieldPlace(table, column, subject_id, row_id)
    return FieldCipher(dek, dek_id).decrypt_json(place, blob)
