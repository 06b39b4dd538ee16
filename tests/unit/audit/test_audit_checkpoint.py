"""Signed checkpoints: text format, Ed25519 signing and verification, JSON, PEM keys."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKeyError,
    checkpoint_text,
    generate_signing_key,
    key_id,
    load_private_key_pem,
    load_public_key_pem,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from audit.hashing import leaf_hash

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ROOT = leaf_hash(b"root")
TS = "2024-05-01T12:34:56.000000Z"


def test_text_format_is_five_lines() -> None:
    kid = key_id(KEY.public_key())
    text = checkpoint_text(42, ROOT, TS, kid)
    root_b64 = base64.b64encode(ROOT).decode()
    assert text == f"governance-audit-checkpoint/v1\n42\n{root_b64}\n{TS}\n{kid}\n".encode()


def test_key_id_is_sha256_prefix_of_raw_public_key() -> None:
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(KEY.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def test_sign_and_verify() -> None:
    checkpoint = sign_checkpoint(KEY, 42, ROOT, TS)
    verify_checkpoint(KEY.public_key(), checkpoint)
    assert checkpoint.key_id == key_id(KEY.public_key())
    KEY.public_key().verify(checkpoint.signature, checkpoint.text())  # plain Ed25519 over text


def test_wrong_key_is_rejected() -> None:
    checkpoint = sign_checkpoint(KEY, 42, ROOT, TS)
    with pytest.raises(CheckpointError, match="not the verifying key"):
        verify_checkpoint(OTHER.public_key(), checkpoint)
    forged = dataclasses.replace(sign_checkpoint(OTHER, 42, ROOT, TS), key_id=checkpoint.key_id)
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(KEY.public_key(), forged)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 43},
        {"root_hash": leaf_hash(b"other root")},
        {"timestamp": "2024-05-01T12:34:57.000000Z"},
    ],
)
def test_tampered_fields_break_the_signature(change: dict[str, Any]) -> None:
    checkpoint = dataclasses.replace(sign_checkpoint(KEY, 42, ROOT, TS), **change)
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(KEY.public_key(), checkpoint)


def test_json_round_trip_has_the_api_shape() -> None:
    checkpoint = sign_checkpoint(KEY, 42, ROOT, TS)
    data = checkpoint.to_json()
    assert set(data) == {"tree_size", "root_hash", "timestamp", "signature", "key_id"}
    assert data["root_hash"] == ROOT.hex()
    assert base64.b64decode(data["signature"]) == checkpoint.signature
    assert Checkpoint.from_json(data) == checkpoint


@pytest.mark.parametrize(
    "change",
    [
        {"root_hash": ROOT.hex().upper()},
        {"root_hash": ROOT.hex()[:-2]},
        {"signature": "not base64!"},
        {"signature": base64.b64encode(b"short").decode()},
        {"tree_size": -1},
        {"tree_size": "42"},
        {"timestamp": "2024-05-01 12:34:56"},
        {"key_id": "ABCDEF0123456789"},
        {"extra": 1},
    ],
)
def test_from_json_is_strict(change: dict[str, Any]) -> None:
    data = {**sign_checkpoint(KEY, 42, ROOT, TS).to_json(), **change}
    with pytest.raises(CheckpointError):
        Checkpoint.from_json(data)


def test_malformed_heads_are_never_signed() -> None:
    with pytest.raises(CheckpointError):
        sign_checkpoint(KEY, 1, b"short", TS)
    with pytest.raises(CheckpointError):
        sign_checkpoint(KEY, 1, ROOT, "yesterday")


def test_pem_helpers_round_trip() -> None:
    key = generate_signing_key()
    loaded = load_private_key_pem(private_key_pem(key))
    assert public_key_pem(loaded) == public_key_pem(key)
    public = load_public_key_pem(public_key_pem(key))
    verify_checkpoint(public, sign_checkpoint(loaded, 0, ROOT, TS))
    assert public_key_pem(key).startswith(b"-----BEGIN PUBLIC KEY-----")


def test_pem_helpers_reject_other_keys() -> None:
    ec_key = generate_private_key(SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ec_public = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(SigningKeyError, match="Ed25519"):
        load_private_key_pem(ec_pem)
    with pytest.raises(SigningKeyError, match="Ed25519"):
        load_public_key_pem(ec_public)
    with pytest.raises(SigningKeyError):
        load_public_key_pem(b"garbage")
    with pytest.raises(SigningKeyError):
        load_private_key_pem(b"garbage")
