"""API tokens: generation, hashing and strict Bearer header parsing."""

from __future__ import annotations

import hashlib
import re

import pytest

from governance.security.tokens import (
    MalformedToken,
    generate_token,
    hash_token_secret,
    parse_bearer,
    verify_token_hash,
)

TOKEN_ID, TOKEN = generate_token()


def test_token_shape() -> None:
    token_id, token = generate_token()
    assert re.fullmatch(r"[a-z2-7]{12}", token_id)
    assert re.fullmatch(rf"gov_{token_id}_[A-Za-z0-9_\-]{{43}}", token)
    assert generate_token() != generate_token()


def test_generation_uses_the_injected_randomness() -> None:
    token_id, token = generate_token(randbytes=lambda n: b"\xff" * n)
    assert token_id == "777777777777"
    assert token == "gov_777777777777_" + "_" * 42 + "8"


def test_hash_is_sha256_of_the_full_token() -> None:
    assert hash_token_secret(TOKEN) == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert verify_token_hash(TOKEN, hash_token_secret(TOKEN))
    other_id, other = generate_token()
    assert not verify_token_hash(other, hash_token_secret(TOKEN))
    # The same secret under another id does not verify: the hash binds id and secret.
    assert not verify_token_hash(f"gov_{other_id}_{TOKEN[17:]}", hash_token_secret(TOKEN))


@pytest.mark.parametrize("stored", ["", "abc", "A" * 64, hashlib.sha256(b"x").hexdigest()])
def test_verify_refuses_wrong_or_malformed_stored_hashes(stored: str) -> None:
    assert verify_token_hash(TOKEN, stored) is False


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_parse_bearer(scheme: str) -> None:
    assert parse_bearer(f"{scheme} {TOKEN}") == (TOKEN_ID, TOKEN)


GOOD_ID = "abcdefgh2345"
GOOD_SECRET = "A" * 21 + "-_" + "z" * 20
assert len(GOOD_SECRET) == 43


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("Bearer", "no-scheme"),
        (f"gov_{GOOD_ID}_{GOOD_SECRET}", "no-scheme"),
        ("Bearer ", "spaces"),
        (f"Bearer  gov_{GOOD_ID}_{GOOD_SECRET}", "spaces"),
        (f" Bearer gov_{GOOD_ID}_{GOOD_SECRET}", "scheme"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET} ", "spaces"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET} extra", "spaces"),
        (f"Basic gov_{GOOD_ID}_{GOOD_SECRET}", "scheme"),
        (f"Token gov_{GOOD_ID}_{GOOD_SECRET}", "scheme"),
        (f"Bearer: gov_{GOOD_ID}_{GOOD_SECRET}", "scheme"),
        (f"Bearer\tgov_{GOOD_ID}_{GOOD_SECRET}", "charset"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET}\r\n", "charset"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET[:-1]}é", "charset"),
        (f"B\u0435arer gov_{GOOD_ID}_{GOOD_SECRET}", "charset"),  # Cyrillic 'е' in the scheme
        (f"Bearer gvx_{GOOD_ID}_{GOOD_SECRET}", "format"),
        (f"Bearer GOV_{GOOD_ID}_{GOOD_SECRET}", "format"),
        (f"Bearer gov-{GOOD_ID}-{GOOD_SECRET}", "format"),
        (f"Bearer gov_{GOOD_ID.upper()}_{GOOD_SECRET}", "format"),
        (f"Bearer gov_abcdefgh2341_{GOOD_SECRET}", "format"),  # '1' is not base32
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET[:-1]}+", "format"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET[:-1]}=", "format"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET[:-1]}", "length"),
        (f"Bearer gov_{GOOD_ID}_{GOOD_SECRET}A", "length"),
        (f"Bearer gov_{GOOD_ID}x_{GOOD_SECRET[:-1]}", "format"),
        ("Bearer gov__", "length"),
        ("Bearer " + "a" * 300, "too-long"),
        ("Bearer " + "a" * 100_000, "too-long"),
    ],
)
def test_malformed_authorization_headers(header: str | None, reason: str) -> None:
    with pytest.raises(MalformedToken) as caught:
        parse_bearer(header)
    assert caught.value.reason == reason
    assert caught.value.status == 401
    # The client-facing message is generic and never echoes the header.
    assert GOOD_SECRET not in str(caught.value)
    assert str(caught.value) == "Invalid or missing bearer token"


def test_the_good_shape_used_above_parses() -> None:
    token = f"gov_{GOOD_ID}_{GOOD_SECRET}"
    assert parse_bearer(f"Bearer {token}") == (GOOD_ID, token)
