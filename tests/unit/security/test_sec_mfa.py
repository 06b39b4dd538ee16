"""TOTP (RFC 6238), recovery codes and lockout back-off."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone

import pytest

from governance.security.mfa import (
    InvalidCode,
    ReplayedCode,
    generate_recovery_codes,
    hash_recovery_code,
    lockout_until,
    match_recovery_code,
    new_totp_secret,
    provisioning_uri,
    qr_svg,
    time_step,
    totp_at_step,
    verify_totp,
)

SECRET = new_totp_secret(randbytes=lambda n: bytes(range(1, n + 1)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
STEP = time_step(NOW)


def code_at(offset_steps: int) -> str:
    return totp_at_step(SECRET, STEP + offset_steps)


def test_secret_is_160_bit_base32() -> None:
    secret = new_totp_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert secret != new_totp_secret()


def test_provisioning_uri_and_qr_code() -> None:
    uri = provisioning_uri(SECRET, "dpo@example.com")
    assert uri.startswith("otpauth://totp/Governance:dpo%40example.com?")
    assert f"secret={SECRET}" in uri and "issuer=Governance" in uri
    svg = qr_svg(uri)
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<path" in svg
    assert qr_svg(uri) == svg  # deterministic: the same URI draws the same code


# RFC 6238 Appendix B, SHA-1 rows. A 6-digit code is the last 6 digits of the 8-digit one.
RFC6238_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


@pytest.mark.parametrize(
    ("unix_time", "eight_digits"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc6238_appendix_b_vectors(unix_time: int, eight_digits: str) -> None:
    now = datetime.fromtimestamp(unix_time, tz=UTC)
    assert verify_totp(RFC6238_SECRET, eight_digits[-6:], now=now, last_used_step=None) == (
        unix_time // 30
    )


def test_current_code_is_accepted_and_returns_its_step() -> None:
    assert verify_totp(SECRET, code_at(0), now=NOW, last_used_step=None) == STEP
    assert verify_totp(SECRET, code_at(0)[:3] + " " + code_at(0)[3:], now=NOW, last_used_step=None)


@pytest.mark.parametrize("drift", [-1, 1])
def test_one_step_of_drift_is_tolerated(drift: int) -> None:
    assert verify_totp(SECRET, code_at(drift), now=NOW, last_used_step=None) == STEP + drift


@pytest.mark.parametrize("drift", [-2, 2, -10])
def test_two_steps_of_drift_are_refused(drift: int) -> None:
    with pytest.raises(InvalidCode):
        verify_totp(SECRET, code_at(drift), now=NOW, last_used_step=None)


def test_a_code_is_accepted_once() -> None:
    used = verify_totp(SECRET, code_at(0), now=NOW, last_used_step=None)
    with pytest.raises(ReplayedCode):
        verify_totp(SECRET, code_at(0), now=NOW + timedelta(seconds=5), last_used_step=used)
    # An older code still inside the drift window is refused too, the next one is accepted.
    with pytest.raises(ReplayedCode):
        verify_totp(SECRET, code_at(-1), now=NOW, last_used_step=used)
    assert verify_totp(SECRET, code_at(1), now=NOW, last_used_step=used) == STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\n"])
def test_malformed_codes_are_invalid(code: str) -> None:
    with pytest.raises(InvalidCode):
        verify_totp(SECRET, code, now=NOW, last_used_step=None)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        verify_totp(SECRET, code_at(0), now=datetime(2026, 1, 1), last_used_step=None)
    # Any timezone works: the step is absolute.
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    assert verify_totp(SECRET, code_at(0), now=shanghai, last_used_step=None) == STEP


def test_interoperates_with_oathtool() -> None:
    oathtool = shutil.which("oathtool")
    if oathtool is None:
        pytest.skip("oathtool is not installed (Debian package oathtool)")
    for seconds in (0, 29, 30, 3600 * 24 * 365):
        now = NOW + timedelta(seconds=seconds)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
        result = subprocess.run(
            [oathtool, "--totp", "-b", "--now", stamp, SECRET],
            capture_output=True,
            text=True,
            check=True,
        )
        code = result.stdout.strip()
        assert verify_totp(SECRET, code, now=now, last_used_step=None) == time_step(now)


def test_recovery_codes_are_readable_and_distinct() -> None:
    codes = generate_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        # 12 base32 characters: 60 bits of entropy.
        assert re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", code)
    fixed = generate_recovery_codes(2, randbytes=lambda n: b"\x00" * n)
    assert fixed == ["aaaa-aaaa-aaaa", "aaaa-aaaa-aaaa"]


def test_recovery_code_hash_normalises_case_and_separators() -> None:
    digest = hash_recovery_code("abcd-efgh-ijkl")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_recovery_code("ABCD EFGH IJKL") == digest == hash_recovery_code("abcdefghijkl")
    assert hash_recovery_code("abcd-efgh-ijkm") != digest


def test_recovery_codes_are_single_use() -> None:
    codes = generate_recovery_codes()
    stored: list[str | None] = [hash_recovery_code(c) for c in codes]
    index = match_recovery_code(codes[3].upper(), stored)
    assert index == 3
    stored[index] = None  # the caller removes it in the login transaction
    assert match_recovery_code(codes[3], stored) is None
    assert match_recovery_code(codes[4], stored) == 4
    assert match_recovery_code("aaaa-bbbb-cccc", stored) is None
    assert match_recovery_code("not a code", stored) is None


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, None), (4, None), (5, 1), (6, 2), (7, 4), (8, 8), (9, 16), (10, 32), (11, 60), (500, 60)],
)
def test_lockout_schedule(failures: int, minutes: int | None) -> None:
    until = lockout_until(failures, NOW)
    assert until == (None if minutes is None else NOW + timedelta(minutes=minutes))
