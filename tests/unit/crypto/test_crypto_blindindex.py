"""Tests for blind indexes: determinism, separation per kind and per key, length, comparison."""

from __future__ import annotations

import pytest

from governance.crypto import (
    INDEX_BYTES,
    BlindIndexer,
    LocalKeySource,
    blind_index,
    blind_index_equals,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_deterministic_and_sixteen_bytes() -> None:
    first = blind_index(KEY_A, "email", "alice@example.org")
    assert INDEX_BYTES == 16 and len(first) == 16
    assert blind_index(KEY_A, "email", "alice@example.org") == first
    assert BlindIndexer(KEY_A).index("email", "alice@example.org") == first


def test_value_sensitivity() -> None:
    a = blind_index(KEY_A, "email", "alice@example.org")
    assert blind_index(KEY_A, "email", "Alice@example.org") != a  # caller normalises
    assert blind_index(KEY_A, "email", "alice@example.org ") != a
    assert blind_index(KEY_A, "email", "") != blind_index(KEY_A, "email", "\x00")


def test_separation_per_kind_and_per_key() -> None:
    value = "12345"
    email = blind_index(KEY_A, "email", value)
    phone = blind_index(KEY_A, "phone", value)
    national = blind_index(KEY_A, "national_id", value)
    assert len({email, phone, national}) == 3
    assert blind_index(KEY_B, "email", value) != email


def test_index_is_not_a_plain_hash_of_the_value() -> None:
    import hashlib

    value = "alice@example.org"
    index = blind_index(KEY_A, "email", value)
    assert index not in hashlib.sha256(value.encode()).digest()
    assert index not in hashlib.sha256(b"email\x00" + value.encode()).digest()


def test_from_source_is_stable_across_rotation() -> None:
    k1, k2 = b"\x11" * 32, b"\x22" * 32
    before = BlindIndexer.from_source(LocalKeySource({1: k1}))
    after = BlindIndexer.from_source(LocalKeySource({1: k1, 2: k2}, retired=[1]))
    other = BlindIndexer.from_source(LocalKeySource({1: k2}))
    value = "+33612345678"
    assert before.index("phone", value) == after.index("phone", value)
    assert other.index("phone", value) != before.index("phone", value)


def test_matches_and_constant_time_equals() -> None:
    indexer = BlindIndexer(KEY_A)
    stored = indexer.index("email", "alice@example.org")
    assert indexer.matches("email", "alice@example.org", stored)
    assert not indexer.matches("email", "bob@example.org", stored)
    assert not indexer.matches("phone", "alice@example.org", stored)
    assert blind_index_equals(stored, bytes(stored))
    assert not blind_index_equals(stored, stored[:-1] + bytes([stored[-1] ^ 1]))


def test_bad_kind_and_short_key_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        blind_index(KEY_A, "em\x00ail", "x")
    with pytest.raises(ValueError, match="kind"):
        blind_index(KEY_A, "", "x")
    with pytest.raises(ValueError):
        BlindIndexer(b"short")
