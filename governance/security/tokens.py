"""API tokens for service accounts, sent as OAuth 2.0 Bearer tokens (RFC 6750).

A token looks like ``gov_<token_id>_<secret>``:

- ``gov_`` lets secret scanners and people recognise a leaked token;
- ``token_id``: 12 characters of lowercase base32 (``[a-z2-7]``, 60 random bits), public, the
  database lookup key, shown in listings and used to revoke;
- ``secret``: 32 random bytes as unpadded URL-safe base64 (43 characters, 256 bits).

Only ``hash_token_secret(full_token)``, a SHA-256 hex digest, is stored. A fast hash is right
here, unlike for passwords: a slow KDF exists to make guessing low-entropy human secrets
expensive, but a 256-bit random secret cannot be guessed at any hash speed, and argon2 on every
API request would cost tens of milliseconds and invite denial of service. Hashing the full token
(not only the secret) binds the secret to its id. Verification compares digests in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

from governance.errors import Unauthenticated

PREFIX = "gov_"
ID_LENGTH = 12
SECRET_BYTES = 32
SECRET_LENGTH = 43  # unpadded base64 of 32 bytes
TOKEN_LENGTH = len(PREFIX) + ID_LENGTH + 1 + SECRET_LENGTH
# Anything longer is refused before any parsing work: real headers are 67 characters.
MAX_HEADER_LENGTH = 256

_TOKEN = re.compile(
    rf"{PREFIX}(?P<id>[a-z2-7]{{{ID_LENGTH}}})_(?P<secret>[A-Za-z0-9_\-]{{{SECRET_LENGTH}}})"
)
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# A well-formed header in one match (the scheme case-insensitive, ASCII only): the common case.
_BEARER = re.compile(rf"[Bb][Ee][Aa][Rr][Ee][Rr] (?P<token>{_TOKEN.pattern})")

RandBytes = Callable[[int], bytes]


class MalformedToken(Unauthenticated):
    """The Authorization header is not ``Bearer gov_<id>_<secret>``; ``reason`` says why.

    ``reason`` is a short slug for the audit log (never the header itself); clients only get
    the generic title.
    """

    slug = "invalid-token"
    title = "Invalid or missing bearer token"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def generate_token(*, randbytes: RandBytes = secrets.token_bytes) -> tuple[str, str]:
    """A new token: ``(token_id, full_token)``. Show ``full_token`` once; store its hash."""
    token_id = base64.b32encode(randbytes(8)).decode("ascii").lower()[:ID_LENGTH]
    secret = base64.urlsafe_b64encode(randbytes(SECRET_BYTES)).decode("ascii").rstrip("=")
    return token_id, f"{PREFIX}{token_id}_{secret}"


def hash_token_secret(full_token: str) -> str:
    """SHA-256 hex digest of the full token, the only form that is stored."""
    return hashlib.sha256(full_token.encode("utf-8")).hexdigest()


def verify_token_hash(full_token: str, stored_hash: str) -> bool:
    """True when ``full_token`` hashes to ``stored_hash``; constant-time comparison."""
    if not _HEX_DIGEST.fullmatch(stored_hash):
        return False
    return hmac.compare_digest(hash_token_secret(full_token), stored_hash)


def parse_token(token: str) -> str:
    """Return the token id of a well-formed ``gov_<id>_<secret>``; raise ``MalformedToken``."""
    if len(token) != TOKEN_LENGTH:
        raise MalformedToken("length")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise MalformedToken("format")
    return match.group("id")


def parse_bearer(header_value: str | None) -> tuple[str, str]:
    """Parse an ``Authorization`` header value into ``(token_id, full_token)``.

    Accepts exactly ``Bearer <token>``: the scheme is case-insensitive (RFC 9110 section
    11.1), then a single space, then the token; nothing before, after or in between.
    Raises ``MalformedToken`` for a missing, oversized or otherwise malformed value.
    """
    well_formed = _BEARER.fullmatch(header_value) if header_value else None
    if well_formed is not None:
        return well_formed.group("id"), well_formed.group("token")
    if not header_value:
        raise MalformedToken("missing")
    if len(header_value) > MAX_HEADER_LENGTH:
        raise MalformedToken("too-long")
    if not header_value.isascii() or not header_value.isprintable():
        raise MalformedToken("charset")
    scheme, sep, token = header_value.partition(" ")
    if not sep:
        raise MalformedToken("no-scheme")
    if scheme.lower() != "bearer":
        raise MalformedToken("scheme")
    if not token or token != token.strip() or " " in token:
        raise MalformedToken("spaces")
    return parse_token(token), token
