"""Second factor for people: TOTP (RFC 6238, via pyotp), recovery codes and lockout back-off.

TOTP uses the RFC 6238 defaults that every authenticator app supports: HMAC-SHA1, 6 digits,
30-second steps, a 160-bit base32 secret (RFC 4226 section 4, R6). ``verify_totp`` accepts the
current step and one step either side (clock drift), and returns the step it accepted; the
caller stores it and passes it back as ``last_used_step`` so a code, or any earlier one, is
never accepted twice (RFC 6238 section 5.2).

Recovery codes are 60 random bits written as ``xxxx-xxxx-xxxx`` in lowercase base32. Being
high-entropy, they are stored as a plain SHA-256 digest (domain-separated): a slow KDF protects
guessable secrets, and 2^60 guesses per code is already out of reach.

Lockout (``lockout_until``): the first ``threshold`` (5) consecutive failures are free; the
5th locks for 1 minute, and each further failure doubles the lock (2, 4, 8 ... minutes) up to
a cap of 1 hour. A success resets the counter to zero.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pyotp
import segno

from governance.errors import Unauthenticated

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
LOCKOUT_THRESHOLD = 5
LOCKOUT_BASE = timedelta(minutes=1)
LOCKOUT_CAP = timedelta(hours=1)

_CODE = re.compile(r"[0-9]{6}")  # DIGITS digits, ASCII only
_RECOVERY_ALPHABET = re.compile(r"[a-z2-7]{12}")
_RECOVERY_DOMAIN = b"governance/recovery-code/v1\x00"

RandBytes = Callable[[int], bytes]


class InvalidCode(Unauthenticated):
    """The one-time code is malformed or does not match any step in the accepted window."""

    slug = "invalid-code"
    title = "Invalid verification code"


class ReplayedCode(Unauthenticated):
    """The code matches, but its time step was already used: a replay."""

    slug = "replayed-code"
    title = "Verification code already used"


def new_totp_secret(*, randbytes: RandBytes = secrets.token_bytes) -> str:
    """A fresh 160-bit TOTP secret as 32 base32 characters (no padding)."""
    return base64.b32encode(randbytes(20)).decode("ascii")


def provisioning_uri(secret: str, account: str, issuer: str = "Governance") -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as a QR code, an inline ``<svg>`` element ready to embed in HTML."""
    return segno.make(uri, error="m", micro=False).svg_inline(scale=4, title="TOTP QR code")


def time_step(now: datetime) -> int:
    """The RFC 6238 time step (T) containing ``now``, which must be timezone-aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return int(now.timestamp()) // STEP_SECONDS


def totp_at_step(secret: str, step: int) -> str:
    """The code for one time step (used by tests and enrolment screens)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def verify_totp(secret: str, code: str, *, now: datetime, last_used_step: int | None) -> int:
    """Check ``code`` at ``now`` ±1 step; return the accepted step.

    Raises ``InvalidCode`` for a malformed or wrong code and ``ReplayedCode`` when the code
    matches only steps at or before ``last_used_step``.
    """
    code = code.replace(" ", "")
    current = time_step(now)
    if not _CODE.fullmatch(code):
        raise InvalidCode()
    # Compare against every candidate (no early exit) so timing does not reveal which matched.
    matched = [
        step
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
        if hmac.compare_digest(totp_at_step(secret, step), code)
    ]
    fresh = [s for s in matched if last_used_step is None or s > last_used_step]
    if fresh:
        return max(fresh)
    if matched:
        raise ReplayedCode()
    raise InvalidCode()


def generate_recovery_codes(
    n: int = RECOVERY_CODE_COUNT, *, randbytes: RandBytes = secrets.token_bytes
) -> list[str]:
    """``n`` fresh single-use recovery codes like ``abcd-efgh-ijkl`` (60 bits each)."""
    codes = []
    for _ in range(n):
        raw = base64.b32encode(randbytes(8)).decode("ascii").lower()[:12]
        codes.append(f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    """Lowercase and drop dashes and whitespace, so ``ABCD EFGH-ijkl`` equals ``abcdefghijkl``."""
    return re.sub(r"[\s\-]", "", code).lower()


def hash_recovery_code(code: str) -> str:
    """SHA-256 hex digest of the normalised code, for storage."""
    return hashlib.sha256(_RECOVERY_DOMAIN + normalise_recovery_code(code).encode()).hexdigest()


def match_recovery_code(code: str, hashes: Sequence[str | None]) -> int | None:
    """Index of the stored hash ``code`` matches, or None; ``None`` entries are used codes.

    The caller must delete (or null) the matched hash in the same transaction as the login.
    """
    normalised = normalise_recovery_code(code)
    if not _RECOVERY_ALPHABET.fullmatch(normalised):
        return None
    candidate = hash_recovery_code(normalised)
    found: int | None = None
    for index, stored in enumerate(hashes):
        # Constant-time compare, and no early exit, so timing reveals neither index nor prefix.
        if stored is not None and hmac.compare_digest(candidate, stored) and found is None:
            found = index
    return found


def lockout_until(
    failed_attempts: int,
    now: datetime,
    *,
    threshold: int = LOCKOUT_THRESHOLD,
    base: timedelta = LOCKOUT_BASE,
    cap: timedelta = LOCKOUT_CAP,
) -> datetime | None:
    """When the lock set by the latest failure ends, or None if no lock yet.

    ``failed_attempts`` counts consecutive failures including the one just made.
    """
    if failed_attempts < threshold:
        return None
    # Clamp the exponent first: 2**60 minutes overflows timedelta long before the cap matters.
    doublings = min(failed_attempts - threshold, 32)
    return now + min(base * (1 << doublings), cap)
