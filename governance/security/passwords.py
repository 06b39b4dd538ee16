"""Password hashing (argon2id, RFC 9106) and the password policy for console accounts.

Hashes are PHC strings produced by argon2-cffi's ``PasswordHasher``. Production parameters are
the RFC 9106 section 4 "second recommended option" (low-memory profile): argon2id, t=3 passes,
m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag; about 0.1-0.2 s per hash on one core. The
parameters live in each hash, so ``verify_password`` needs none; ``needs_rehash`` says when a
stored hash was made with other parameters so the caller can re-hash after a successful login.
Tests pass ``params=TEST_PARAMETERS`` (minimum cost) explicitly; there is no global switch.

The policy follows NIST SP 800-63B section 3.1.1.2 in spirit: length first (12 to 256
characters), no composition rules beyond refusing a single character class, a blocklist of
common and breached patterns, no reuse of recent passwords. Reasons never echo the password.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from governance.errors import ValidationError

PRODUCTION_PARAMETERS: Parameters = RFC_9106_LOW_MEMORY
# Cheapest argon2id still producing a full-size salt and tag: for tests and fixtures only.
TEST_PARAMETERS = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=8,
    parallelism=1,
)

MIN_LENGTH = 12
MAX_LENGTH = 256
HISTORY_SIZE = 5
# Characters that must remain once common words, sequences and repeats are taken out.
MIN_UNPATTERNED = 8
# A login attempt longer than this cannot match any stored password; refuse without hashing.
_MAX_VERIFY_LENGTH = 4 * MAX_LENGTH

COMMON_WORDS = (
    "password", "passwort", "motdepasse", "123456", "qwerty", "azerty", "qwertz", "letmein",
    "welcome", "admin", "administrator", "root", "login", "iloveyou", "monkey", "dragon",
    "master", "shadow", "sunshine", "princess", "football", "baseball", "superman", "trustno1",
    "abc123", "changeme", "secret", "default", "qazwsx", "1qaz2wsx", "zaq12wsx", "governance",
    "privacy", "customer", "woaini", "iloveu",
)  # fmt: skip
# Keyboard rows, the column zig-zag (1qaz2wsx...) and the alphabet; four or more consecutive
# characters of one of these, in either direction, are a walk.
_SEQUENCES = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "abcdefghijklmnopqrstuvwxyz",
)
_WALK_MIN = 4
_REPEAT = re.compile(r"(.)\1{2,}")  # three or more of the same character
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i"})  # fmt: skip
_EMAIL_PART = re.compile(r"[._+\-]+")


class PasswordPolicyError(ValidationError):
    """The proposed password breaks the policy; ``reasons`` lists why, in plain words."""

    slug = "password-policy"
    title = "Password does not meet the policy"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(
            "; ".join(reasons), errors=[{"field": "password", "message": r} for r in reasons]
        )
        self.reasons = reasons


# Parameters come from the hash itself, so one PasswordHasher verifies every hash.
_VERIFIER = PasswordHasher()


def _hasher(params: Parameters) -> PasswordHasher:
    return PasswordHasher.from_parameters(params)


def hash_password(password: str, *, params: Parameters = PRODUCTION_PARAMETERS) -> str:
    """Hash a password with argon2id; returns the PHC string (salt and parameters included)."""
    return _hasher(params).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch or a bad hash."""
    if len(password) > _MAX_VERIFY_LENGTH:
        return False
    try:
        return _VERIFIER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, params: Parameters = PRODUCTION_PARAMETERS) -> bool:
    """True when the hash was made with parameters other than ``params`` (re-hash on login)."""
    try:
        return _hasher(params).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def check_password_policy(
    password: str,
    *,
    email: str | None = None,
    previous_hashes: Sequence[str] = (),
    history: int = HISTORY_SIZE,
) -> None:
    """Raise ``PasswordPolicyError`` listing every rule the password breaks.

    ``previous_hashes`` are the account's earlier password hashes, most recent first; the first
    ``history`` of them may not be reused.
    """
    reasons: list[str] = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        reasons.append(f"The password must be at most {MAX_LENGTH} characters long.")
        raise PasswordPolicyError(reasons)  # nothing else is worth computing on such input
    if password and len({_char_class(c) for c in password}) == 1:
        reasons.append(
            "The password must mix kinds of characters, not only one case, digits or symbols."
        )
    if password and len(set(password)) < 5:
        reasons.append("The password must use at least 5 different characters.")
    lowered = password.lower()
    if email and any(part in lowered for part in _email_parts(email)):
        reasons.append("The password must not contain your email address or part of it.")
    if len(password) >= MIN_LENGTH and _unpatterned_length(lowered) < MIN_UNPATTERNED:
        reasons.append(
            "The password is mostly common words, keyboard or alphabet sequences or repeats; "
            f"at least {MIN_UNPATTERNED} of its characters must fall outside them."
        )
    if any(verify_password(h, password) for h in list(previous_hashes)[:history]):
        reasons.append(f"The password must not be one of your last {history} passwords.")
    if reasons:
        raise PasswordPolicyError(reasons)


def _char_class(c: str) -> str:
    if c.isdigit():
        return "digit"
    if c.isalpha():
        return "lower" if c.islower() else "upper" if c.isupper() else "letter"
    return "symbol"


def _email_parts(email: str) -> set[str]:
    """The email's local part and its dot/dash separated pieces of 3+ characters, lowercased."""
    local = email.lower().partition("@")[0]
    parts = {p for p in _EMAIL_PART.split(local) if len(p) >= 3}
    if len(local) >= 3:
        parts.add(local)
    return parts


def _unpatterned_length(lowered: str) -> int:
    """Count characters not covered by a common word, a walk or a repeat (plain or leet)."""
    covered = [False] * len(lowered)
    for text in {lowered, lowered.translate(_LEET)}:
        _mark_words(text, covered)
        _mark_walks(text, covered)
        _mark_repeats(text, covered)
    return covered.count(False)


def _mark_words(text: str, covered: list[bool]) -> None:
    for word in COMMON_WORDS:
        start = text.find(word)
        while start != -1:
            covered[start : start + len(word)] = [True] * len(word)
            start = text.find(word, start + 1)


def _mark_walks(text: str, covered: list[bool]) -> None:
    for seq in _SEQUENCES + tuple(s[::-1] for s in _SEQUENCES):
        for i in range(len(text) - _WALK_MIN + 1):
            end = i
            while end < len(text) and text[i : end + 1] in seq:
                end += 1
            if end - i >= _WALK_MIN:
                covered[i:end] = [True] * (end - i)


def _mark_repeats(text: str, covered: list[bool]) -> None:
    for match in _REPEAT.finditer(text):
        covered[match.start() : match.end()] = [True] * (match.end() - match.start())
