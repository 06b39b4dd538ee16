"""Key derivation shared by the core: HKDF-SHA256 (RFC 5869) with domain-separated ``info``."""

from __future__ import annotations

import functools
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Labels that go into AAD or HKDF info: no separator characters, so encodings are unambiguous.
_LABEL = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def hkdf(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """Derive ``length`` bytes from ``ikm`` with HKDF-SHA256, no salt, the given ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


# Cached: every field opened checks its table, column and subject labels (three regex matches a
# field, the most frequent call of a list page); a bad label raises and is never cached.
@functools.lru_cache(maxsize=16384)
def check_label(kind: str, value: str) -> bytes:
    """Return ``value`` as ASCII bytes after checking it is a safe label (``[A-Za-z0-9_.-]``)."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise ValueError(f"{kind} must match [A-Za-z0-9_.-]{{1,64}}")
    return value.encode("ascii")
