"""Console sign-in through the test client: password, TOTP (RFC 6238), enrolment, recovery codes,
lockout with back-off, and every refusal in the audit log."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import PASSWORD, login_as, make_user
from idn_helpers import (
    audit,
    service,
    sign_in,
    sign_in_password,
    sign_out,
    submit_code,
    totp_now,
    user_row,
)

from governance.errors import Unauthenticated
from governance.security import mfa
from governance.services.identity import people as identity


def test_password_then_totp_reaches_the_dashboard(app: Any, client: Any) -> None:
    _, secret = make_user(app, "dpo", "dpo@example.com")
    assert client.get("/").status_code == 302  # not signed in yet
    first = sign_in_password(client, "dpo@example.com")
    assert first.location.endswith("/login/mfa")
    assert client.get("/").status_code == 302  # the password alone is not a session
    done = submit_code(client, totp_now(secret))
    assert done.status_code == 302 and done.location == "/"
    assert client.get("/").status_code == 200
    actions = [(e["action"], e["outcome"]) for e in audit(app) if e["action"].startswith("login")]
    assert actions == [("login.password", "allowed"), ("login.mfa", "allowed")]


def test_wrong_password_is_refused_without_saying_which_part(app: Any, client: Any) -> None:
    make_user(app, "dpo", "dpo@example.com")
    wrong = sign_in_password(client, "dpo@example.com", "Not-The-Password-99")
    unknown = sign_in_password(client, "nobody@example.com", "Not-The-Password-99")
    for res in (wrong, unknown):
        assert res.status_code == 401
        assert "Wrong email or password." in res.get_data(as_text=True)
    assert client.get("/").status_code == 302
    entries = audit(app, "login.password")
    assert [e["outcome"] for e in entries] == ["denied", "denied"]
    assert entries[1]["details"] == {"reason": "unknown account"}
    assert "nobody@example.com" not in str(entries)


def test_wrong_and_replayed_codes_are_refused(app: Any, client: Any) -> None:
    _, secret = make_user(app, "dpo", "dpo@example.com")
    sign_in_password(client, "dpo@example.com")
    code = totp_now(secret)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    res = submit_code(client, wrong)
    assert res.status_code == 401 and "That code is not valid." in res.get_data(as_text=True)
    assert submit_code(client, code).status_code == 302  # the right code, once
    sign_out(client)
    sign_in_password(client, "dpo@example.com")
    replay = submit_code(client, code)  # the same code again, still inside its window
    assert replay.status_code == 401
    assert client.get("/").status_code == 302
    outcomes = [(e["outcome"], e["details"].get("failures")) for e in audit(app, "login.mfa")]
    assert outcomes == [("denied", 1), ("allowed", None), ("denied", 1)]


def test_oathtool_code_is_accepted(app: Any, client: Any) -> None:
    """Interoperability: an independent RFC 6238 implementation (Debian's oathtool)."""
    _, secret = make_user(app, "auditor", "auditor@example.com")
    sign_in_password(client, "auditor@example.com")
    code = subprocess.run(
        ["oathtool", "--totp", "-b", secret], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert re.fullmatch(r"\d{6}", code)
    res = submit_code(client, code)
    assert res.status_code == 302 and res.location == "/"
    assert client.get("/").status_code == 200


def test_first_sign_in_enrols_and_shows_recovery_codes_once(app: Any, client: Any) -> None:
    make_user(app, "support", "new@example.com", enrol=False)
    assert sign_in_password(client, "new@example.com").location.endswith("/login/mfa")
    page = client.get("/login/mfa").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', page).group(1)
    assert "<svg" in page and "otpauth" not in page  # the QR code, not the raw URI as text
    stored = user_row(app, "new@example.com")
    assert not stored["totp_enrolled"] and secret.encode() not in stored["totp_secret_ct"]
    assert client.get("/").status_code == 302  # not signed in before confirming
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/login/mfa", data={"code": totp_now(secret), "csrf_token": token})
    assert res.status_code == 200
    codes = re.findall(
        r"<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>", res.get_data(as_text=True)
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = user_row(app, "new@example.com")
    assert stored["totp_enrolled"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored["recovery_hashes"])
    assert not set(codes) & set(stored["recovery_hashes"])
    assert client.get("/").status_code == 200
    assert not re.search(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", client.get("/account").text)
    assert [e["outcome"] for e in audit(app, "mfa.enrol_confirm")] == ["allowed"]


def test_enrolment_refuses_a_wrong_code(app: Any, client: Any) -> None:
    make_user(app, "analyst", "an@example.com", enrol=False)
    sign_in_password(client, "an@example.com")
    page = client.get("/login/mfa").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/login/mfa", data={"code": "000000", "csrf_token": token})
    assert "does not match" in res.get_data(as_text=True)
    assert not user_row(app, "an@example.com")["totp_enrolled"]
    assert client.get("/").status_code == 302
    assert [e["outcome"] for e in audit(app, "mfa.enrol_confirm")] == ["denied"]


def test_recovery_code_signs_in_once(app: Any, client: Any) -> None:
    make_user(app, "dpo", "dpo@example.com")
    with service(app) as call:
        codes = identity.regenerate_recovery_codes(
            call, identity.find_user(call, "dpo@example.com")
        )
    sign_in_password(client, "dpo@example.com")
    assert submit_code(client, codes[3].upper().replace("-", " ")).location == "/"
    sign_out(client)
    sign_in_password(client, "dpo@example.com")
    again = submit_code(client, codes[3])
    assert again.status_code == 401
    assert client.get("/").status_code == 302
    entries = audit(app, "login.recovery_code")
    assert [(e["outcome"], e["details"].get("remaining")) for e in entries] == [
        ("allowed", 9),
        ("denied", None),
    ]


def test_repeated_failures_lock_the_account(app: Any, client: Any) -> None:
    _, secret = make_user(app, "admin", "admin@example.com")
    for _ in range(mfa.LOCKOUT_THRESHOLD):
        assert (
            sign_in_password(client, "admin@example.com", "Wrong-Password-123").status_code == 401
        )
    locked = sign_in_password(client, "admin@example.com")  # the right password, while locked
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert [e["outcome"] for e in audit(app, "account.lock")] == ["denied"]
    assert audit(app, "login.password")[-1]["details"]["reason"] == "locked"
    with app.app_context():  # the lock ends (as if a minute passed): sign-in works again
        from governance.extensions import db
        from governance.models import User

        row = db.session.query(User).filter_by(email="admin@example.com").one()
        row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert sign_in(client, "admin@example.com", secret).location == "/"
    assert user_row(app, "admin@example.com")["failed_attempts"] == 0


def test_lockout_backs_off_with_injected_time(app: Any, call: Any) -> None:
    make_user(app, "dpo", "dpo@example.com")
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def at(seconds: float) -> Any:
        return dataclasses.replace(call, clock=lambda: start + timedelta(seconds=seconds))

    for n in range(mfa.LOCKOUT_THRESHOLD):
        with pytest.raises(Unauthenticated):
            identity.password_login(at(n), "dpo@example.com", "Wrong-Password-123")
    call.session.commit()
    with pytest.raises(identity.AccountLocked):  # 1 minute lock, even with the right password
        identity.password_login(at(59), "dpo@example.com", PASSWORD)
    with pytest.raises(Unauthenticated) as failed:  # lock over; one more failure: 2 minutes
        identity.password_login(at(70), "dpo@example.com", "Wrong-Password-123")
    assert not isinstance(failed.value, identity.AccountLocked)
    user = identity.find_user(call, "dpo@example.com")
    assert user.locked_until == start + timedelta(seconds=70, minutes=2)
    with pytest.raises(identity.AccountLocked):
        identity.password_login(at(70 + 119), "dpo@example.com", PASSWORD)
    # The lock is over; the counter is only reset by a complete sign-in (second factor too).
    assert identity.password_login(at(70 + 121), "dpo@example.com", PASSWORD).id == user.id


def test_disabled_account_cannot_sign_in(app: Any, client: Any) -> None:
    make_user(app, "support", "sup@example.com")
    with service(app) as call:
        identity.set_state(call, "sup@example.com", "disabled")
    assert sign_in_password(client, "sup@example.com").status_code == 401
    assert audit(app, "login.password")[-1]["outcome"] == "denied"


def test_sign_out_is_a_csrf_checked_post(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    assert client.get("/logout").status_code == 200  # a GET only shows the button
    assert client.get("/").status_code == 200  # ... and signs nobody out
    assert client.post("/logout").status_code == 400  # another site cannot sign you out
    assert client.get("/").status_code == 200
    res = sign_out(client)
    assert res.status_code == 302 and res.headers["Location"].endswith("/login")
    assert client.get("/").status_code == 302


# Issue item 14: where a sign-in or a re-authentication may send the browser afterwards.
OFFSITE_NEXT = [
    "/%09/evil.example",  # the tab is dropped by the browser: //evil.example
    "/%0d/evil.example",  # a line break in Location (was a 500)
    "/%0a/evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "//evil",
    "%2F%2Fevil",
    "/%2F/evil",
    "/\\evil",
    "/%5Cevil",
    "%5C%5Cevil",
    "/%20/evil",
    "/%E2%80%8B/evil",  # a zero-width space
    "https://evil",
    "https:%2F%2Fevil",
    "HTTPS://evil",
    "javascript:alert(1)",
    "evil",
    "/no-such-page",
    "/logout%2F..%2F%2Fevil",
]


def _signed_in_via(client: Any, query: str, secret: str) -> Any:
    page = client.get(f"/login?next={query}")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert token, "no CSRF token on /login"
    first = client.post(
        f"/login?next={query}",
        data={"email": "dpo@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert first.status_code == 302 and first.location.endswith("/login/mfa")
    return submit_code(client, totp_now(secret))


@pytest.mark.parametrize("probe", OFFSITE_NEXT)
def test_sign_in_never_redirects_off_site(app: Any, client: Any, probe: str) -> None:
    _, secret = make_user(app, "dpo", "dpo@example.com")
    done = _signed_in_via(client, probe, secret)
    assert done.status_code == 302 and done.location == "/"


def test_sign_in_returns_to_the_page_asked_for(app: Any, client: Any) -> None:
    _, secret = make_user(app, "dpo", "dpo@example.com")
    done = _signed_in_via(client, "/customers%3Fcountry%3DCN", secret)
    assert done.status_code == 302 and done.location == "/customers?country=CN"


@pytest.mark.parametrize("probe", [*OFFSITE_NEXT, "/customers"])
def test_reauth_never_redirects_off_site(app: Any, client: Any, probe: str) -> None:
    login_as(app, client, "dpo")
    page = client.get(f"/reauth?next={probe}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert token, "no CSRF token on /reauth"
    res = client.post(
        f"/reauth?next={probe}", data={"password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert res.status_code == 302
    assert res.location == ("/customers" if probe == "/customers" else "/")


def test_sign_in_takes_as_long_whether_or_not_the_account_exists(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue item 18: an unknown or disabled account costs one argon2 verification too."""
    import statistics
    import time

    from argon2 import Parameters, Type

    # Hashes costly enough (tens of ms) that skipping the verification would show.
    slow = Parameters(
        type=Type.ID, version=19, salt_len=16, hash_len=32,
        time_cost=1, memory_cost=16384, parallelism=1,
    )  # fmt: skip
    monkeypatch.setitem(identity.PASSWORD_PARAMS, "default", slow)
    make_user(app, "dpo", "dpo@example.com")
    make_user(app, "support", "off@example.com")
    with service(app) as call:
        identity.set_state(call, "off@example.com", "disabled")
    client.post("/login", data={"email": "x@example.com", "password": "warm-up"})

    def median_seconds(email: str, group: int) -> float:
        times = []
        for i in range(3):  # below the lockout (5) and, per address, the sign-in rate limit
            address = {"REMOTE_ADDR": f"10.0.{group}.{i}"}
            form = {"email": email, "password": "Not-The-Password-99"}
            form["csrf_token"] = re.search(
                r'name="csrf_token" type="hidden" value="([^"]+)"',
                client.get("/login").get_data(as_text=True),
            ).group(1)
            start = time.perf_counter()
            res = client.post("/login", data=form, environ_base=address)
            times.append(time.perf_counter() - start)
            assert res.status_code == 401
        return statistics.median(times)

    known = median_seconds("dpo@example.com", 1)
    unknown = median_seconds("nobody@example.com", 2)
    disabled = median_seconds("off@example.com", 3)
    assert unknown > 0.5 * known and disabled > 0.5 * known, (known, unknown, disabled)
