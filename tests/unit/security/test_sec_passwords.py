"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import pytest

from governance.security.passwords import (
    PRODUCTION_PARAMETERS,
    TEST_PARAMETERS,
    PasswordPolicyError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "mC8#v2Lq!x9Z-river"


def test_round_trip_with_test_parameters() -> None:
    hashed = hash_password(GOOD, params=TEST_PARAMETERS)
    assert hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(hashed, GOOD)
    assert not verify_password(hashed, GOOD + "x")
    assert not verify_password(hashed, "")


def test_salted_hashes_differ() -> None:
    assert hash_password(GOOD, params=TEST_PARAMETERS) != hash_password(
        GOOD, params=TEST_PARAMETERS
    )


def test_production_parameters_are_rfc9106_low_memory() -> None:
    hashed = hash_password(GOOD)  # one real-cost hash (~0.1 s) to pin the parameters
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(hashed, GOOD)
    assert not needs_rehash(hashed)
    assert PRODUCTION_PARAMETERS.memory_cost == 65536


def test_needs_rehash_for_weaker_parameters_and_garbage() -> None:
    weak = hash_password(GOOD, params=TEST_PARAMETERS)
    assert needs_rehash(weak)
    assert not needs_rehash(weak, params=TEST_PARAMETERS)
    assert needs_rehash("not-a-hash")


@pytest.mark.parametrize("stored", ["", "plain", "$argon2id$v=19$m=8,t=1,p=1$bad$bad"])
def test_verify_against_malformed_hash_is_false(stored: str) -> None:
    assert verify_password(stored, GOOD) is False


def test_verify_refuses_absurdly_long_input_without_error() -> None:
    hashed = hash_password(GOOD, params=TEST_PARAMETERS)
    assert verify_password(hashed, "a" * 100_000) is False


@pytest.mark.parametrize(
    "password",
    [GOOD, "correct horse battery staple", "Tr0ub4dor&3xk!", "badminton court river 9", "x" * 3
     + "Kq7!mZp2#wL"],
)  # fmt: skip
def test_acceptable_passwords(password: str) -> None:
    check_password_policy(password, email="alice.smith@example.com")


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("Sh0rt!pw", "at least 12 characters"),
        ("A1!" + "b" * 300, "at most 256 characters"),
        ("abcdefghijkmnpq", "mix kinds of characters"),
        ("739182645019", "mix kinds of characters"),
        ("aA1aA1aA1aA1", "at least 5 different characters"),
        ("Password123!", "common words"),
        ("P@ssw0rd2024!", "common words"),  # leetspeak is undone before matching
        ("qwertyuiop12", "common words"),  # keyboard row
        ("1qaz2wsx3edc4rfv", "common words"),  # keyboard column zig-zag
        ("zyxwvuts9876!", "common words"),  # reversed alphabet and digits
        ("Governance-2024", "common words"),
        ("letmein!!!!!!!", "common words"),  # word plus repeats
        ("alice.smith#2024", "email address"),
        ("Smith-Kq7!mZp2#wL", "email address"),  # a part of the local part
    ],
)
def test_rejected_passwords_name_the_reason(password: str, fragment: str) -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        check_password_policy(password, email="alice.smith@example.com")
    assert any(fragment in reason for reason in caught.value.reasons), caught.value.reasons
    # The reasons and the API error body never echo the password.
    assert password not in str(caught.value)
    assert caught.value.status == 422
    assert all(e["field"] == "password" for e in caught.value.errors)


def test_every_reason_is_reported_at_once() -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        check_password_policy("aaaa")
    assert len(caught.value.reasons) >= 3


def test_no_reuse_of_last_five_passwords() -> None:
    history = [f"Kq7!mZp2#wL-old{i}" for i in range(6)]  # most recent first
    hashes = [hash_password(p, params=TEST_PARAMETERS) for p in history]
    for recent in history[:5]:
        with pytest.raises(PasswordPolicyError) as caught:
            check_password_policy(recent, previous_hashes=hashes)
        assert caught.value.reasons == ["The password must not be one of your last 5 passwords."]
    # The sixth most recent one falls outside the window.
    check_password_policy(history[5], previous_hashes=hashes)
    # The window size is a parameter.
    with pytest.raises(PasswordPolicyError):
        check_password_policy(history[5], previous_hashes=hashes, history=6)
