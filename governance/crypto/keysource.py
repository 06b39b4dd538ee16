"""Key sources: where key-encryption keys (KEKs) live, and how data keys are wrapped under them.

``KeySource`` is the interface the rest of the server uses; ``LocalKeySource`` implements it with
KEKs held in process memory, loaded from ``GOVERNANCE_MASTER_KEY`` text or a key file (see
``keyfile.py``). A KMS or HSM source implements the same methods; FORMAT.md states the contract.

Wrapping is AES-256-GCM (NIST SP 800-38D) under the KEK; derivations are HKDF-SHA256 (RFC 5869);
fingerprints are HMAC-SHA256 (RFC 2104). Formats are specified in FORMAT.md.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.crypto._kdf import check_label, hkdf
from governance.crypto.errors import (
    FormatError,
    IntegrityError,
    MasterKeyError,
    MissingKeyError,
    RetiredKeyError,
)

KEY_BYTES = 32
WRAP_FORMAT = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES  # 61
MASTER_KEY_VAR = "GOVERNANCE_MASTER_KEY"

Rng = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key wrapped by KEK ``version``; ``blob`` is the FORMAT.md wrap format."""

    version: int
    blob: bytes


@runtime_checkable
class KeySource(Protocol):
    """Holds KEK versions; wraps and unwraps DEKs; derives the stable blind-index keys."""

    def versions(self) -> list[int]:
        """All KEK versions this source knows, ascending, retired ones included."""
        ...

    def retired_versions(self) -> list[int]:
        """Versions that may no longer wrap or unwrap, ascending."""
        ...

    def current_version(self) -> int:
        """The version new wraps use."""
        ...

    def wrap(self, dek: bytes, version: int | None = None) -> WrappedKey:
        """Wrap ``dek`` under ``version`` (default: current)."""
        ...

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Return the DEK; raises MissingKeyError, RetiredKeyError, FormatError, IntegrityError."""
        ...

    def index_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose``, stable across KEK rotation."""
        ...

    def fingerprint(self, version: int) -> str:
        """A non-secret id of KEK ``version`` (at most 64 characters)."""
        ...

    def index_fingerprint(self) -> str:
        """A non-secret id of the blind-index root (at most 64 characters)."""
        ...


def wrap_aad(version: int) -> bytes:
    """Associated data of a wrapped DEK: binds it to its purpose and KEK version."""
    return b"gov-dek-wrap/v1|" + str(version).encode("ascii")


class LocalKeySource:
    """KEKs in memory: ``{version: 32-byte key}``, a current version, retired versions."""

    def __init__(
        self,
        keys: Mapping[int, bytes],
        current: int | None = None,
        retired: Iterable[int] = (),
        index_root: bytes | None = None,
        *,
        source_name: str = MASTER_KEY_VAR,
        rng: Rng = os.urandom,
    ) -> None:
        _validate(keys, current, retired, index_root, source_name)
        self._keys = dict(sorted(keys.items()))
        self._retired = frozenset(retired)
        self._current = max(self._keys) if current is None else current
        if self._current in self._retired:
            raise MasterKeyError(f"{source_name}: the current version {self._current} is retired")
        # Without an explicit root, the lowest version anchors the blind indexes: rotation adds
        # higher versions, so the anchor (and every stored index) stays put. See FORMAT.md.
        anchor = index_root if index_root is not None else self._keys[min(self._keys)]
        info = b"gov-index-root/v1" if index_root is None else b"gov-index-root/explicit/v1"
        self._index_root = hkdf(anchor, info)
        self._aead = {v: AESGCM(k) for v, k in self._keys.items()}
        self._rng = rng
        self.source_name = source_name

    @classmethod
    def from_text(
        cls, text: str, *, source_name: str = MASTER_KEY_VAR, rng: Rng = os.urandom
    ) -> LocalKeySource:
        """Parse ``BASE64`` or ``1:B64,2:B64[,current:N][,retired:N][,index:B64]``."""
        keys, current, retired, index_root = parse_master_key_text(text, source_name)
        return cls(keys, current, retired, index_root, source_name=source_name, rng=rng)

    def versions(self) -> list[int]:
        """All KEK versions, ascending."""
        return list(self._keys)

    def retired_versions(self) -> list[int]:
        """Retired versions, ascending."""
        return sorted(self._retired)

    def current_version(self) -> int:
        """The version new wraps use."""
        return self._current

    def wrap(self, dek: bytes, version: int | None = None) -> WrappedKey:
        """Wrap ``dek`` with AES-256-GCM under KEK ``version`` (default: current)."""
        if len(dek) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        v = self._current if version is None else version
        aead = self._usable(v)
        nonce = self._rng(NONCE_BYTES)
        return WrappedKey(v, bytes([WRAP_FORMAT]) + nonce + aead.encrypt(nonce, dek, wrap_aad(v)))

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Unwrap a DEK; the KEK version must be present and not retired."""
        aead = self._usable(wrapped.version)
        blob = wrapped.blob
        if len(blob) != WRAPPED_BYTES:
            raise FormatError(f"wrapped data key has {len(blob)} bytes, expected {WRAPPED_BYTES}")
        if blob[0] != WRAP_FORMAT:
            raise FormatError(f"unknown wrapped data key format version {blob[0]}")
        nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, body, wrap_aad(wrapped.version))
        except InvalidTag:
            raise IntegrityError(
                f"wrapped data key failed integrity check under KEK version {wrapped.version} "
                "(wrong master key, or a tampered key row)"
            ) from None

    def index_key(self, purpose: str) -> bytes:
        """HKDF-derived key for ``purpose`` from the blind-index root (rotation-independent)."""
        return hkdf(self._index_root, b"gov-index/v1|" + check_label("purpose", purpose))

    def fingerprint(self, version: int) -> str:
        """HMAC-SHA256(KEK, label|version), hex: identifies the key, reveals nothing of it."""
        if version not in self._keys:
            raise MissingKeyError(f"KEK version {version} is not configured", version=version)
        msg = b"gov-kek-fingerprint/v1|" + str(version).encode("ascii")
        return hmac.new(self._keys[version], msg, sha256).hexdigest()

    def index_fingerprint(self) -> str:
        """HMAC-SHA256(index root, label), hex."""
        return hmac.new(self._index_root, b"gov-index-fingerprint/v1", sha256).hexdigest()

    def _usable(self, version: int) -> AESGCM:
        if version not in self._aead:
            raise MissingKeyError(f"KEK version {version} is not configured", version=version)
        if version in self._retired:
            raise RetiredKeyError(version)
        return self._aead[version]

    def __repr__(self) -> str:  # never show key material
        return (
            f"LocalKeySource(versions={self.versions()}, current={self._current}, "
            f"retired={self.retired_versions()})"
        )


def decode_key(value: str, where: str) -> bytes:
    """Decode base64 (standard or URL-safe alphabet) of exactly 32 bytes, or MasterKeyError."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{where} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"{where} decodes to {len(raw)} bytes; a key is {KEY_BYTES} bytes")
    return raw


def encode_key(key: bytes) -> str:
    """Standard base64 of a key, as used in key text and key files."""
    return base64.b64encode(key).decode("ascii")


def parse_master_key_text(
    text: str, source_name: str = MASTER_KEY_VAR
) -> tuple[dict[int, bytes], int | None, list[int], bytes | None]:
    """Split master key text into (keys, current, retired, index_root); see FORMAT.md."""
    items = [item.strip() for item in (text or "").split(",")]
    if not any(items):
        raise MasterKeyError(f"{source_name} is empty")
    if len(items) == 1 and ":" not in items[0]:
        return {1: decode_key(items[0], source_name)}, None, [], None
    keys: dict[int, bytes] = {}
    current: int | None = None
    retired: list[int] = []
    index_root: bytes | None = None
    for n, item in enumerate(items, start=1):
        where = f"{source_name} item {n}"
        name, sep, value = item.partition(":")
        if not sep:
            raise MasterKeyError(f"{where} has no 'VERSION:' prefix")
        if name == "index":
            index_root = decode_key(value, where)
        elif name == "current":
            current = _version(value, where)
        elif name == "retired":
            retired.append(_version(value, where))
        else:
            version = _version(name, where)
            if version in keys:
                raise MasterKeyError(f"{where} repeats version {version}")
            keys[version] = decode_key(value, where)
    return keys, current, retired, index_root


def _version(text: str, where: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise MasterKeyError(f"{where}: a version is a positive integer")
    return int(text)


def _validate(
    keys: Mapping[int, bytes],
    current: int | None,
    retired: Iterable[int],
    index_root: bytes | None,
    source_name: str,
) -> None:
    if not keys:
        raise MasterKeyError(f"{source_name} holds no key")
    for version, key in keys.items():
        if not isinstance(version, int) or version < 1:
            raise MasterKeyError(f"{source_name}: a version is a positive integer")
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"{source_name}: version {version} is not {KEY_BYTES} bytes")
    if current is not None and current not in keys:
        raise MasterKeyError(f"{source_name}: current version {current} has no key")
    for version in retired:
        if version not in keys:
            raise MasterKeyError(f"{source_name}: retired version {version} has no key")
    if index_root is not None and len(index_root) != KEY_BYTES:
        raise MasterKeyError(f"{source_name}: the index root is not {KEY_BYTES} bytes")
