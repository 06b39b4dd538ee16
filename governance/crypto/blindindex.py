"""Blind indexes: keyed HMAC-SHA256 (RFC 2104) of a normalised value, for exact lookups.

Per kind (``email``, ``phone``, ``national_id`` ...) a separate key is derived with HKDF-SHA256
(RFC 5869) from the index key, so equal values of different kinds never share an index and a
leaked index of one kind says nothing about another::

    kind_key = HKDF-SHA256(ikm=index_key, salt=none, info="gov-blind-index/v1|" + kind, L=32)
    index    = HMAC-SHA256(kind_key, kind || 0x00 || UTF-8(value))[:16]

16 bytes (128 bits): among 10^9 indexed values of one kind the chance of any collision is about
1.5e-21, so an index hit is a match without decrypting to confirm; truncating further would not
hide equality (deterministic indexes reveal equal values whatever their length) and would only add
false hits. The real leakage is guessing low-entropy values (phone numbers), which needs the
index key; it lives with the master key, never in the database. Values must be normalised by the
caller (lower-cased email, E.164 phone, ...): the index sees exact bytes.
"""

from __future__ import annotations

import hmac
from hashlib import sha256

from governance.crypto._kdf import check_label, hkdf
from governance.crypto.keysource import KeySource

INDEX_BYTES = 16
BLIND_INDEX_PURPOSE = "blind-index"


def kind_key(index_key: bytes, kind: str) -> bytes:
    """The per-kind HMAC key derived from the index key."""
    return hkdf(index_key, b"gov-blind-index/v1|" + check_label("kind", kind))


def blind_index(index_key: bytes, kind: str, normalised_value: str) -> bytes:
    """The 16-byte blind index of ``normalised_value``; prefer ``BlindIndexer`` in loops."""
    return BlindIndexer(index_key).index(kind, normalised_value)


def blind_index_equals(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two blind indexes."""
    return hmac.compare_digest(a, b)


class BlindIndexer:
    """Computes blind indexes with per-kind keys derived once and kept for reuse."""

    def __init__(self, index_key: bytes) -> None:
        if len(index_key) < 32:
            raise ValueError("an index key is at least 32 bytes")
        self._index_key = index_key
        self._kind_keys: dict[str, bytes] = {}

    @classmethod
    def from_source(cls, source: KeySource) -> BlindIndexer:
        """The indexer for the source's stable blind-index key."""
        return cls(source.index_key(BLIND_INDEX_PURPOSE))

    def index(self, kind: str, normalised_value: str) -> bytes:
        """The 16-byte blind index of ``normalised_value`` for ``kind``."""
        key = self._kind_keys.get(kind)
        if key is None:
            key = self._kind_keys[kind] = kind_key(self._index_key, kind)
        message = kind.encode("ascii") + b"\x00" + normalised_value.encode("utf-8")
        return hmac.new(key, message, sha256).digest()[:INDEX_BYTES]

    def matches(self, kind: str, normalised_value: str, stored: bytes) -> bool:
        """True when ``stored`` is the index of the value (constant-time comparison)."""
        return hmac.compare_digest(self.index(kind, normalised_value), stored)
