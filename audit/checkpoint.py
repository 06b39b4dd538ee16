"""Signed checkpoints (tree heads) of the audit log, Ed25519 (RFC 8032) over a C2SP-style text.

The signed text is five lines, each ended by a newline (``\\n``), UTF-8, no other whitespace::

    governance-audit-checkpoint/v1
    <tree size, decimal, no leading zeros>
    <root hash, standard base64 with padding (RFC 4648 section 4)>
    <timestamp, RFC 3339 UTC with microseconds, e.g. 2024-05-01T12:34:56.000000Z>
    <key id, 16 lowercase hex characters>

The first three lines are the body of a C2SP ``tlog-checkpoint`` (origin, size, root hash); the
timestamp and key id follow as extension lines. The signature is the 64-byte Ed25519 signature of
exactly these bytes. The key id is the first 8 bytes (16 hex characters) of SHA-256 over the
32-byte raw Ed25519 public key. In the API and in exports a checkpoint is the JSON object
``{"tree_size", "root_hash" (lowercase hex), "timestamp", "signature" (base64), "key_id"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import AuditError
from audit.hashing import HASH_SIZE
from audit.timefmt import parse_timestamp

CHECKPOINT_ORIGIN = "governance-audit-checkpoint/v1"
SIGNATURE_SIZE = 64
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")
_HEX_HASH_RE = re.compile(r"[0-9a-f]{64}")
_JSON_KEYS = frozenset({"tree_size", "root_hash", "timestamp", "signature", "key_id"})


class CheckpointError(AuditError, ValueError):
    """A checkpoint is malformed, or its signature does not verify."""


class SigningKeyError(AuditError, ValueError):
    """A key is not a usable Ed25519 key in the expected PEM form."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the key id: the first 16 hex characters of SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_text(tree_size: int, root_hash: bytes, timestamp: str, key_id: str) -> bytes:
    """Return the exact bytes a checkpoint signature covers."""
    root = base64.b64encode(root_hash).decode("ascii")
    return f"{CHECKPOINT_ORIGIN}\n{tree_size}\n{root}\n{timestamp}\n{key_id}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: the log had tree_size entries with root_hash at timestamp."""

    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    signature: bytes

    def __post_init__(self) -> None:
        if type(self.tree_size) is not int or self.tree_size < 0:
            raise CheckpointError("checkpoint tree_size must be a non-negative integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root_hash must be {HASH_SIZE} bytes")
        try:
            parse_timestamp(self.timestamp)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint timestamp: {exc}") from None
        if not isinstance(self.key_id, str) or _KEY_ID_RE.fullmatch(self.key_id) is None:
            raise CheckpointError("checkpoint key_id must be 16 lowercase hex characters")
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_SIZE:
            raise CheckpointError(f"checkpoint signature must be {SIGNATURE_SIZE} bytes")

    def text(self) -> bytes:
        """Return the signed text of this checkpoint."""
        return checkpoint_text(self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def to_json(self) -> dict[str, Any]:
        """Return the API object: tree_size, root_hash (hex), timestamp, signature (b64), key_id."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: object) -> Checkpoint:
        """Parse the API shape strictly; raise CheckpointError if anything is off."""
        if not isinstance(data, dict) or data.keys() != _JSON_KEYS:
            raise CheckpointError(f"checkpoint must be an object with exactly {sorted(_JSON_KEYS)}")
        root_hex, signature = data["root_hash"], data["signature"]
        if not isinstance(root_hex, str) or _HEX_HASH_RE.fullmatch(root_hex) is None:
            raise CheckpointError("checkpoint root_hash must be 64 lowercase hex characters")
        if not isinstance(signature, str):
            raise CheckpointError("checkpoint signature must be a base64 string")
        try:
            raw_signature = base64.b64decode(signature, validate=True)
        except binascii.Error:
            raise CheckpointError("checkpoint signature is not valid base64") from None
        return cls(
            tree_size=data["tree_size"],
            root_hash=bytes.fromhex(root_hex),
            timestamp=data["timestamp"],
            key_id=data["key_id"],
            signature=raw_signature,
        )


def sign_checkpoint(
    private_key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp: str
) -> Checkpoint:
    """Sign a tree head; timestamp is in the audit format (see ``audit.timefmt``)."""
    kid = key_id(private_key.public_key())
    # Validate the fields before signing so a malformed head is never signed.
    Checkpoint(tree_size, root_hash, timestamp, kid, bytes(SIGNATURE_SIZE))
    signature = private_key.sign(checkpoint_text(tree_size, root_hash, timestamp, kid))
    return Checkpoint(tree_size, root_hash, timestamp, kid, signature)


def verify_checkpoint(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> None:
    """Raise CheckpointError unless checkpoint is signed by public_key."""
    expected = key_id(public_key)
    if checkpoint.key_id != expected:
        raise CheckpointError(
            f"checkpoint at tree size {checkpoint.tree_size} names key {checkpoint.key_id}, "
            f"not the verifying key {expected}"
        )
    try:
        public_key.verify(checkpoint.signature, checkpoint.text())
    except InvalidSignature:
        raise CheckpointError(
            f"checkpoint at tree size {checkpoint.tree_size} has an invalid signature"
        ) from None


def generate_signing_key() -> Ed25519PrivateKey:
    """Return a new random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """Serialise a signing key as unencrypted PKCS#8 PEM (store it like the master key)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load an Ed25519 signing key from PKCS#8 PEM; raise SigningKeyError otherwise."""
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError("not a readable PEM private key (or wrong password)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the signing key must be an Ed25519 key")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the SubjectPublicKeyInfo PEM of a key (the public half of a signing key)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from SubjectPublicKeyInfo PEM; raise SigningKeyError otherwise."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError("not a readable PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("the public key must be an Ed25519 key")
    return key
