"""Hashing primitives of the audit log: RFC 9162 (Certificate Transparency v2) section 2.1.

A leaf is hashed as ``SHA-256(0x00 || leaf)`` and an interior node as
``SHA-256(0x01 || left || right)``; the different prefixes keep a leaf from ever being taken for a
node (second-preimage resistance, RFC 9162 section 2.1.1). The empty tree's root is
``SHA-256("")``.

Leaves are the canonical JSON encoding of an entry: object keys sorted, UTF-8 without ``\\u``
escapes for non-ASCII text, no insignificant whitespace (separators ``,`` and ``:``), and only the
JSON types (object with string keys, array, string, integer, finite float, true, false, null).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from audit.errors import AuditError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class CanonicalJSONError(AuditError, ValueError):
    """A value cannot be encoded as, or a byte string is not, canonical JSON."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _check_json_value(value: object, depth: int = 0) -> None:
    """Raise CanonicalJSONError unless value is made only of JSON types."""
    if depth > 64:
        raise CanonicalJSONError("JSON value is nested more than 64 levels deep")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJSONError("NaN and Infinity are not JSON numbers")
        return
    if isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"object keys must be strings, not {type(key).__name__}")
            _check_json_value(item, depth + 1)
        return
    raise CanonicalJSONError(f"{type(value).__name__} is not a JSON type")


def canonical_json(obj: object) -> bytes:
    """Encode obj as canonical JSON bytes; raise CanonicalJSONError for non-JSON values."""
    _check_json_value(obj)
    return _dumps(obj)


def _dumps(obj: object) -> bytes:
    """Encode an already-checked JSON value canonically."""
    try:
        return _ENCODER.encode(obj).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError) as exc:
        # Lone surrogates cannot be encoded as UTF-8.
        raise CanonicalJSONError(f"value cannot be encoded as canonical JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise CanonicalJSONError(f"{name} is not a JSON number")


# Built once: json.dumps/json.loads with options build a new encoder/decoder on every call, which
# costs more than encoding a leaf. Both are stateless, so sharing them across threads is safe.
_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_canonical_json(data: bytes) -> Any:
    """Parse data as JSON and check it is byte-for-byte in canonical form."""
    try:
        text = data.decode("utf-8")
        # raw_decode skips the whitespace handling of decode(); any text after the value makes
        # the re-encoding below differ, so it is still rejected.
        obj = _DECODER.raw_decode(text)[0]
    except UnicodeDecodeError:
        raise CanonicalJSONError("not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise CanonicalJSONError(f"not valid JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise CanonicalJSONError("JSON value is nested too deeply") from None
    try:
        canonical = _ENCODER.encode(obj) == text
    except ValueError:  # a float that overflowed to infinity, e.g. 1e999
        canonical = False
    if not canonical:
        raise CanonicalJSONError("JSON is not in canonical form (key order, spacing or escapes)")
    return obj
