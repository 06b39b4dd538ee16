"""Tests for KEK sources: master key text, wrapping, versions, retirement, fingerprints."""

from __future__ import annotations

import base64

import pytest

from governance.crypto import (
    CryptoError,
    FormatError,
    IntegrityError,
    KeySource,
    LocalKeySource,
    MasterKeyError,
    MissingKeyError,
    RetiredKeyError,
    WrappedKey,
    WrongMasterKeyError,
    check_fingerprints,
    new_data_key,
    rewrap,
)

K1, K2, K3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_single_base64_key_is_version_1() -> None:
    source = LocalKeySource.from_text(b64(K1))
    assert source.versions() == [1]
    assert source.current_version() == 1
    assert isinstance(source, KeySource)


def test_versioned_text_current_is_highest_unless_told() -> None:
    source = LocalKeySource.from_text(f"1:{b64(K1)}, 2:{b64(K2)}")
    assert source.versions() == [1, 2]
    assert source.current_version() == 2
    told = LocalKeySource.from_text(f"1:{b64(K1)},2:{b64(K2)},current:1,retired:2")
    assert told.current_version() == 1
    assert told.retired_versions() == [2]


def test_url_safe_base64_is_accepted() -> None:
    key = bytes(range(250, 256)) * 5 + b"\xfb\xff"
    urlsafe = base64.urlsafe_b64encode(key).decode()
    assert "-" in urlsafe or "_" in urlsafe
    source = LocalKeySource.from_text(urlsafe)
    assert source.fingerprint(1) == LocalKeySource({1: key}).fingerprint(1)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("not base64 at all!!", "not valid base64"),
        (b64(b"short"), "decodes to 5 bytes"),
        (b64(K1 + b"x"), "decodes to 33 bytes"),
        (f"1:{b64(K1)},x:{b64(K2)}", "item 2: a version is a positive integer"),
        (f"1:{b64(K1)},0:{b64(K2)}", "positive integer"),
        (f"1:{b64(K1)},1:{b64(K2)}", "repeats version 1"),
        (f"1:{b64(K1)},{b64(K2)}", "item 2 has no 'VERSION:' prefix"),
        (f"1:{b64(K1)},current:3", "current version 3 has no key"),
        (f"1:{b64(K1)},2:{b64(K2)},retired:2", "current version 2 is retired"),
        (f"1:{b64(K1)},index:abc", "not valid base64"),
    ],
)
def test_malformed_master_key_text_names_the_variable(text: str, fragment: str) -> None:
    with pytest.raises(MasterKeyError) as info:
        LocalKeySource.from_text(text)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "GOVERNANCE_MASTER_KEY" in message
    assert fragment in message
    for secret in (b64(K1), b64(K2), "not base64 at all"):
        assert secret not in message


def test_wrap_unwrap_round_trip_and_format() -> None:
    source = LocalKeySource({1: K1, 2: K2})
    dek = new_data_key()
    wrapped = source.wrap(dek)
    assert wrapped.version == 2
    assert len(wrapped.blob) == 61 and wrapped.blob[0] == 1
    assert dek not in wrapped.blob
    assert source.unwrap(wrapped) == dek
    old = source.wrap(dek, version=1)
    assert old.version == 1 and source.unwrap(old) == dek
    assert source.wrap(dek).blob != wrapped.blob  # fresh nonce every time


def test_wrapped_key_is_bound_to_its_version() -> None:
    source = LocalKeySource({1: K1, 2: K1})  # same material: only the AAD tells them apart
    wrapped = source.wrap(new_data_key(), version=1)
    with pytest.raises(IntegrityError, match="KEK version 2"):
        source.unwrap(WrappedKey(2, wrapped.blob))


def test_unwrap_with_wrong_master_key_is_integrity_error() -> None:
    wrapped = LocalKeySource({1: K1}).wrap(new_data_key())
    with pytest.raises(IntegrityError, match="wrong master key"):
        LocalKeySource({1: K2}).unwrap(wrapped)


def test_tampered_or_truncated_wrapped_key() -> None:
    source = LocalKeySource({1: K1})
    blob = source.wrap(new_data_key()).blob
    for i in range(1, len(blob)):
        bad = blob[:i] + bytes([blob[i] ^ 0x01]) + blob[i + 1 :]
        with pytest.raises(IntegrityError):
            source.unwrap(WrappedKey(1, bad))
    with pytest.raises(FormatError, match="unknown wrapped data key format version 2"):
        source.unwrap(WrappedKey(1, b"\x02" + blob[1:]))
    with pytest.raises(FormatError, match="60 bytes"):
        source.unwrap(WrappedKey(1, blob[:-1]))


def test_missing_and_retired_versions() -> None:
    source = LocalKeySource({1: K1, 2: K2}, retired=[1])
    dek = new_data_key()
    wrapped_1 = LocalKeySource({1: K1}).wrap(dek)
    with pytest.raises(RetiredKeyError, match="KEK version 1 is retired") as info:
        source.unwrap(wrapped_1)
    assert info.value.version == 1
    with pytest.raises(RetiredKeyError):
        source.wrap(dek, version=1)
    with pytest.raises(MissingKeyError, match="KEK version 7 is not configured"):
        source.unwrap(WrappedKey(7, wrapped_1.blob))
    assert issubclass(RetiredKeyError, CryptoError) and issubclass(MissingKeyError, CryptoError)


def test_rewrap_moves_to_current_and_is_idempotent() -> None:
    old = LocalKeySource({1: K1})
    dek = new_data_key()
    wrapped = old.wrap(dek)
    rotated = LocalKeySource({1: K1, 2: K2})
    moved = rewrap(rotated, wrapped)
    assert moved.version == 2 and rotated.unwrap(moved) == dek
    assert rewrap(rotated, moved) is moved


def test_index_key_is_stable_across_rotation_and_separated_by_purpose() -> None:
    one = LocalKeySource.from_text(b64(K1))
    two = LocalKeySource.from_text(f"1:{b64(K1)},2:{b64(K2)},retired:1")
    assert one.index_key("blind-index") == two.index_key("blind-index")
    assert one.index_fingerprint() == two.index_fingerprint()
    assert one.index_key("blind-index") != one.index_key("other")
    assert len(one.index_key("blind-index")) == 32
    assert K1 != one.index_key("blind-index")
    # an explicit root replaces the derived one
    explicit = LocalKeySource.from_text(f"1:{b64(K1)},index:{b64(K3)}")
    assert explicit.index_key("blind-index") != one.index_key("blind-index")
    with pytest.raises(ValueError):
        one.index_key("bad|purpose")


def test_fingerprints_are_stable_distinct_and_not_the_key() -> None:
    source = LocalKeySource({1: K1, 2: K2})
    fp1 = source.fingerprint(1)
    assert len(fp1) == 64 and fp1 == LocalKeySource({1: K1}).fingerprint(1)
    assert fp1 != source.fingerprint(2)
    assert K1.hex() not in fp1
    with pytest.raises(MissingKeyError):
        source.fingerprint(3)
    assert "\\x01" not in repr(source) and b64(K1) not in repr(source)


def test_check_fingerprints() -> None:
    old = LocalKeySource({1: K1})
    recorded = {1: old.fingerprint(1)}
    rotated = LocalKeySource({1: K1, 2: K2})
    assert check_fingerprints(rotated, recorded, old.index_fingerprint()) == [2]
    assert check_fingerprints(old, {}) == [1]
    with pytest.raises(WrongMasterKeyError, match="version 1 does not match"):
        check_fingerprints(LocalKeySource({1: K3}), recorded)
    with pytest.raises(WrongMasterKeyError, match="none of the configured KEK versions"):
        check_fingerprints(LocalKeySource({5: K1}), recorded)
    with pytest.raises(WrongMasterKeyError, match="blind-index root"):
        check_fingerprints(
            LocalKeySource({1: K1}, index_root=K3), recorded, old.index_fingerprint()
        )
