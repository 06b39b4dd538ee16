"""The request edge of security: who is calling (token or session) and may they call this route.

This is the only security module that reads Flask's request; it turns headers and the session
into an ``Actor`` and asks the Casbin ``Authorizer``. Every refusal is audited in its own
transaction (the request's own work, if any, is rolled back first).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import current_app, g, request, session
from flask_login import UserMixin, current_user
from sqlalchemy import func, select

from governance.bootstrap import deps
from governance.errors import Forbidden, Unauthenticated
from governance.extensions import db, login_manager
from governance.models import ApiToken, CasbinRule, ServiceAccount, User
from governance.security.authz import Authorizer
from governance.security.tokens import MalformedToken, parse_bearer, verify_token_hash
from governance.services.context import Actor

POLICY_CHECK_SECONDS = 5.0
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def record_refusal(actor: Actor, action: str, details: dict[str, object]) -> None:
    """Append a denied/failed access entry and commit it on its own."""
    db.session.rollback()
    deps(current_app).audit.record(
        db.session,
        actor,
        action,
        now=datetime.now(UTC),
        outcome="denied",
        resource="http",
        details=details,
    )
    db.session.commit()


def _anonymous() -> Actor:
    return Actor(
        id=None, type="anonymous", request_id=g.get("request_id"), client=request.remote_addr
    )


def _token_actor() -> Actor:
    header = request.headers.get("Authorization")
    try:
        token_id, full = parse_bearer(header)
    except MalformedToken:
        record_refusal(_anonymous(), "auth.token", {"reason": "malformed", "path": request.path})
        raise Unauthenticated("the Authorization header is not a valid bearer token") from None
    token = db.session.get(ApiToken, token_id)
    now = datetime.now(UTC)
    reason = None
    account = db.session.get(ServiceAccount, token.service_account_id) if token else None
    if token is None or not verify_token_hash(full, token.secret_hash):
        reason = "unknown"
    elif token.revoked_at is not None:
        reason = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        reason = "expired"
    elif account is None or account.state != "active":
        reason = "account disabled"
    if reason or account is None:
        record_refusal(
            _anonymous(),
            "auth.token",
            {"reason": reason, "token_id": token_id, "path": request.path},
        )
        raise Unauthenticated("the token is invalid, expired or revoked")
    return Actor(
        id=account.id,
        type="service",
        roles=tuple(account.roles),
        request_id=g.get("request_id"),
        client=request.remote_addr,
        name=account.name,
    )


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a signed-in person."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    """A session counts only after MFA, while the password is unchanged and the user active."""
    if not session.get("mfa_ok"):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.state != "active" or session.get("pwd") != user.password_hash[-16:]:
        return None
    return SessionUser(user)


def _session_actor() -> Actor | None:
    if not current_user.is_authenticated:
        if session.get("_user_id"):
            session.clear()
        return None
    last = session.get("seen", 0)
    if time.time() - last > current_app.config["SESSION_MINUTES"] * 60:
        session.clear()
        return None
    session["seen"] = int(time.time())
    user = current_user.user
    return Actor(
        id=user.id,
        type="user",
        roles=tuple(user.roles),
        request_id=g.get("request_id"),
        client=request.remote_addr,
        name=user.email,
    )


def authenticate(optional: bool) -> Actor | None:
    """The caller: a bearer token, or a console session that completed MFA."""
    if request.headers.get("Authorization") is not None:
        return _token_actor()
    actor = _session_actor()
    if (
        actor is not None
        and request.path.startswith("/api/")
        and request.method not in SAFE_METHODS
    ):
        actor = None  # the API takes session cookies for downloads only: no CSRF on the API
    if actor is None and not optional:
        raise Unauthenticated("authentication required")
    return actor


def authorizer() -> Authorizer:
    """The app's Casbin authorizer, reloaded when the policy table changes."""
    state = current_app.extensions.get("governance.authz")
    now = time.monotonic()
    if state is not None and now - state[1] < POLICY_CHECK_SECONDS:
        return state[0]  # type: ignore[no-any-return]
    revision = db.session.execute(select(func.count(), func.max(CasbinRule.id))).one()
    if state is None or state[2] != tuple(revision):
        from governance.services.policy import policy_lines, build_authorizer

        auth = build_authorizer(policy_lines(db.session))
        state = (auth, now, tuple(revision))
    else:
        state = (state[0], now, state[2])
    current_app.extensions["governance.authz"] = state
    return state[0]  # type: ignore[no-any-return]


def authorize(actor: Actor | None, pattern: str, method: str) -> None:
    """Refuse (403, audited) unless one of the actor's roles is allowed this route and method."""
    assert actor is not None
    if authorizer().allowed(frozenset(actor.roles), pattern, method):
        return
    record_refusal(actor, "access.denied", {"route": pattern, "method": method})
    raise Forbidden("your role does not allow this action")
