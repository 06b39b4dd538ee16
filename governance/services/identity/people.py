"""People: accounts, passwords, TOTP MFA, recovery codes, roles (applications: service_accounts).

Every sign-in step, enrolment, lock, recovery-code use, token change and role change is audited
in the same transaction. TOTP secrets are stored encrypted under the account's own data key.
"""

from __future__ import annotations

import secrets
from typing import Any

from argon2 import Parameters
from sqlalchemy import select

from audit.entry import Outcome
from governance.context import Call
from governance.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationError
from governance.models import PasswordHistory, User
from governance.models.ids import new_id
from governance.security import mfa, passwords
from governance.security.masking import default_visibility, requires_mfa
from governance.services.customers import normalise as norm
from governance.services.identity.sessions import end_user_sessions

PASSWORD_PARAMS: dict[str, Parameters] = {}  # tests may put a fast parameter set here


class AccountLocked(Unauthenticated):
    status = 429
    slug = "account-locked"
    title = "Too many failed attempts; try again later"


def _params() -> Parameters:
    return PASSWORD_PARAMS.get("default", passwords.PRODUCTION_PARAMETERS)


_STAND_IN: dict[str, str] = {}


def _stand_in_hash() -> str:
    """A hash of a random secret, made once per parameter set, verified for unknown accounts."""
    params = _params()
    key = repr(params)  # argon2's Parameters is not hashable
    if key not in _STAND_IN:
        _STAND_IN[key] = passwords.hash_password(secrets.token_urlsafe(24), params=params)
    return _STAND_IN[key]


def checked_roles(roles: list[str], kind: str) -> list[str]:
    """``roles`` sorted and deduplicated; ValidationError if unknown or not of ``kind``."""
    policy = default_visibility()
    known = policy.known_roles
    bad = [r for r in roles if r not in known]
    if bad or not roles:
        raise ValidationError(
            "unknown role",
            [{"field": "role", "message": f"must be one of {', '.join(sorted(known))}"}],
        )
    wrong_kind = [r for r in roles if policy.roles[r].kind != kind]
    if wrong_kind:
        raise ValidationError(
            "role not for this kind of account",
            [{"field": "role", "message": f"{', '.join(wrong_kind)} is not a {kind} role"}],
        )
    return sorted(set(roles))


def record(call: Call, action: str, outcome: Outcome = "allowed", **details: Any) -> None:
    """Append an identity event to the audit log in the caller's transaction."""
    call.audit.record(
        call.session,
        call.actor,
        action,
        now=call.now(),
        resource="identity",
        outcome=outcome,
        details=details,
    )


def find_user(call: Call, email: str) -> User | None:
    return call.session.scalars(select(User).where(User.email == email.strip().lower())).first()


def create_user(call: Call, email: str, roles: list[str], password: str) -> User:
    """A person account; password checked against the policy."""
    try:
        address = norm.normalise_email(email)
    except norm.FieldError as exc:
        raise ValidationError("invalid email", [{"field": "email", "message": str(exc)}]) from None
    if address is None:
        raise ValidationError("email is required", [{"field": "email", "message": "is required"}])
    if find_user(call, address):
        raise Conflict("a user with this email exists")
    checked = checked_roles(roles, "person")
    passwords.check_password_policy(password, email=address)
    user = User(
        id=new_id(),
        email=address,
        roles=checked,
        state="active",
        password_hash=passwords.hash_password(password, params=_params()),
        password_changed_at=call.now(),
        created_at=call.now(),
        recovery_hashes=[],
    )
    call.session.add(user)
    call.session.flush()
    call.session.add(
        PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=call.now())
    )
    record(call, "user.create", user_id=user.id, roles=checked)
    return user


def password_login(call: Call, email: str, password: str) -> User:
    """First factor. Counts failures and locks with back-off; every outcome audited."""
    user = find_user(call, email or "")
    now = call.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        record(call, "login.password", "denied", user_id=user.id, reason="locked")
        raise AccountLocked("the account is temporarily locked")
    # One argon2 verification whatever the account: an unknown or disabled one is checked
    # against a stand-in hash, so the answer's timing does not say whether the account exists.
    stored = user.password_hash if user is not None else _stand_in_hash()
    matches = passwords.verify_password(stored, password or "")
    if user is None or user.state != "active" or not matches:
        if user is not None:
            _fail(call, user, "login.password")
        else:
            record(call, "login.password", "denied", reason="unknown account")
        raise Unauthenticated("wrong email or password")
    if passwords.needs_rehash(user.password_hash, params=_params()):
        user.password_hash = passwords.hash_password(password, params=_params())
    record(call, "login.password", user_id=user.id)
    return user


def _fail(call: Call, user: User, action: str) -> None:
    user.failed_attempts += 1
    until = mfa.lockout_until(user.failed_attempts, call.now())
    if until is not None:
        user.locked_until = until
        record(call, "account.lock", "denied", user_id=user.id, until=until.isoformat())
    record(call, action, "denied", user_id=user.id, failures=user.failed_attempts)


def mfa_required(user: User) -> bool:
    return requires_mfa(user.roles)


def _secret(call: Call, user: User) -> str:
    key = call.vault.subject_key(call.session, user.id)
    return str(call.vault.open(key, "users", "totp_secret", user.id, user.totp_secret_ct))


def verify_second_factor(call: Call, user: User, code: str) -> None:
    """TOTP code (or a recovery code) for an enrolled user; replay refused; audited."""
    now = call.now()
    if user.locked_until is not None and user.locked_until > now:
        record(call, "login.mfa", "denied", user_id=user.id, reason="locked")
        raise AccountLocked("the account is temporarily locked")
    code = (code or "").strip()
    if len(code.replace(" ", "")) > 6:
        index = mfa.match_recovery_code(code, user.recovery_hashes)
        if index is None:
            _fail(call, user, "login.recovery_code")
            raise Unauthenticated("invalid recovery code")
        hashes = list(user.recovery_hashes)
        hashes[index] = None
        user.recovery_hashes = hashes
        _success(call, user, "login.recovery_code", remaining=sum(h is not None for h in hashes))
        return
    try:
        step = mfa.verify_totp(
            _secret(call, user), code, now=now, last_used_step=user.totp_last_step
        )
    except (mfa.InvalidCode, mfa.ReplayedCode) as exc:
        _fail(call, user, "login.mfa")
        raise Unauthenticated(exc.title) from None
    user.totp_last_step = step
    _success(call, user, "login.mfa")


def _success(call: Call, user: User, action: str, **details: Any) -> None:
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = call.now()
    record(call, action, user_id=user.id, **details)


def begin_enrolment(call: Call, user: User) -> dict[str, str]:
    """A new (pending) TOTP secret: shown once with its QR code; not active until confirmed."""
    secret = mfa.new_totp_secret()
    try:
        key = call.vault.subject_key(call.session, user.id)
    except Exception:
        key = call.vault.create_subject_key(call.session, user.id)
    user.totp_secret_ct = call.vault.seal(key, "users", "totp_secret", user.id, secret)
    user.totp_enrolled = False
    user.totp_last_step = None
    uri = mfa.provisioning_uri(secret, user.email)
    record(call, "mfa.enrol_start", user_id=user.id)
    return {"secret": secret, "uri": uri, "qr_svg": mfa.qr_svg(uri)}


def confirm_enrolment(call: Call, user: User, code: str) -> list[str]:
    """Activate MFA after a valid code; returns 10 fresh recovery codes (shown once)."""
    if user.totp_secret_ct is None:
        raise ValidationError("start enrolment first")
    try:
        step = mfa.verify_totp(_secret(call, user), code or "", now=call.now(), last_used_step=None)
    except (mfa.InvalidCode, mfa.ReplayedCode):
        _fail(call, user, "mfa.enrol_confirm")
        raise ValidationError(
            "the code is not valid",
            [{"field": "code", "message": "does not match the authenticator"}],
        ) from None
    user.totp_enrolled = True
    user.totp_last_step = step
    codes = regenerate_recovery_codes(call, user)
    _success(call, user, "mfa.enrol_confirm")
    return codes


LOCALES = ("en", "zh_CN")


def set_locale(call: Call, user: User, locale: str | None) -> None:
    """The person's console language (None: follow the browser); ValidationError if unknown."""
    if locale is not None and locale not in LOCALES:
        raise ValidationError(
            "unknown language", [{"field": "locale", "message": f"one of {', '.join(LOCALES)}"}]
        )
    user.locale = locale
    record(call, "user.locale", user_id=user.id, locale=locale)


def regenerate_recovery_codes(call: Call, user: User) -> list[str]:
    """Replace all recovery codes; only hashes are stored."""
    codes = mfa.generate_recovery_codes()
    user.recovery_hashes = [mfa.hash_recovery_code(c) for c in codes]
    record(call, "mfa.recovery_codes", user_id=user.id)
    return codes


def change_password(call: Call, user: User, current: str, new: str) -> None:
    """Change a password: current one required, policy and history checked."""
    if not passwords.verify_password(user.password_hash, current or ""):
        _fail(call, user, "password.change")
        raise Unauthenticated("the current password is wrong")
    history = call.session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(passwords.HISTORY_SIZE)
    ).all()
    passwords.check_password_policy(new, email=user.email, previous_hashes=list(history))
    user.password_hash = passwords.hash_password(new, params=_params())
    user.password_changed_at = call.now()
    call.session.add(
        PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=call.now())
    )
    ended = end_user_sessions(call.session, user.id)
    record(call, "password.change", user_id=user.id, sessions_ended=ended)


def set_state(call: Call, email: str, state: str) -> User:
    """Disable or re-activate an account (the last active admin cannot be disabled)."""
    user = _must(call, email)
    if state not in ("active", "disabled"):
        raise ValidationError("bad state", [{"field": "state", "message": "active or disabled"}])
    if state == "disabled":
        _keep_an_admin(call, user, [])
    user.state = state
    ended = 0
    if state == "active":
        user.failed_attempts, user.locked_until = 0, None
    else:
        ended = end_user_sessions(call.session, user.id)
    record(call, "user.state", user_id=user.id, state=state, sessions_ended=ended)
    return user


def set_roles(call: Call, email: str, roles: list[str]) -> User:
    """Change a person's roles; nobody may change their own."""
    user = _must(call, email)
    if call.actor.type == "user" and call.actor.id == user.id:
        # Recorded on its own: the refusal must survive the rollback of the failed request.
        call.audit.record_alone(
            call.session,
            call.actor,
            "user.roles",
            now=call.now(),
            resource="identity",
            outcome="denied",
            details={"user_id": user.id, "reason": "own roles"},
        )
        raise Forbidden("you cannot change your own roles")
    checked = checked_roles(roles, "person")
    _keep_an_admin(call, user, checked)
    user.roles = checked
    ended = end_user_sessions(call.session, user.id)  # they sign in again under the new roles
    record(call, "user.roles", user_id=user.id, roles=user.roles, sessions_ended=ended)
    return user


def reset_mfa(call: Call, email: str) -> User:
    """Remove a user's TOTP enrolment and recovery codes (they enrol again at next login)."""
    user = _must(call, email)
    user.totp_secret_ct, user.totp_enrolled, user.totp_last_step = None, False, None
    user.recovery_hashes = []
    ended = end_user_sessions(call.session, user.id)  # whoever held the old factor is out too
    record(call, "mfa.reset", user_id=user.id, sessions_ended=ended)
    return user


def _keep_an_admin(call: Call, user: User, new_roles: list[str]) -> None:
    """Refuse a change that would leave no active admin (nobody could manage accounts)."""
    if "admin" not in user.roles or user.state != "active" or "admin" in new_roles:
        return
    others = [
        u
        for u in list_users(call)
        if u.id != user.id and u.state == "active" and "admin" in u.roles
    ]
    if not others:
        raise Conflict("at least one active admin must remain")


def get_user(call: Call, user_id: str) -> User:
    """The user with this id; NotFound otherwise."""
    user = call.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def active_user(call: Call, user_id: str | None) -> User | None:
    """The active user with this id, or None (unknown or disabled)."""
    user = call.session.get(User, user_id) if user_id else None
    return user if user is not None and user.state == "active" else None


def _must(call: Call, email: str) -> User:
    user = find_user(call, email)
    if user is None:
        raise NotFound("no such user")
    return user


def list_users(call: Call) -> list[User]:
    return list(call.session.scalars(select(User).order_by(User.email)))
