"""The request edge of security: who is calling (token or session) and may they call this route.

This is the only security module that reads Flask's request; it turns headers and the session
into an ``Actor`` and asks the Casbin ``Authorizer``. Every refusal is audited in its own
transaction (the request's own work, if any, is rolled back first).

A refused credential is not audited at once: ``authenticate`` raises ``CredentialRefused`` and
the guard records it only after the rate limiter (``check_rate_limits``) has
counted the request, so a flood of bad tokens is answered 429 without flooding the audit log.
Unauthenticated refusals are recorded once per client and minute; the repeats become one summary
entry with their count (``security/refusals.py``), so below the rate limit too the log grows by
at most two entries per client and minute.

Bearer tokens (RFC 6750) authenticate any API call. A console session (after MFA) is accepted
on the API for safe methods, and for state-changing methods only together with the page's CSRF
token in an ``X-CSRFToken`` header: a cookie alone never changes anything through the API.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from flask import Flask, Request, current_app, g, request, session
from flask_login import UserMixin, current_user
from sqlalchemy import func, select

from governance.bootstrap import deps
from governance.context import Actor
from governance.errors import Forbidden, Unauthenticated
from governance.extensions import db, login_manager
from governance.models import ApiToken, CasbinRule, ServiceAccount, User
from governance.security.authz import Authorizer
from governance.security.ratelimit import RateLimited, RateLimiter
from governance.security.ratelimit import headers as ratelimit_headers
from governance.security.refusals import RefusalTally
from governance.security.token_cache import TokenCache, VerifiedToken, register
from governance.security.tokens import MalformedToken, parse_bearer, verify_token_hash
from governance.services.identity.sessions import session_state

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals  # the type of flask.g

POLICY_CHECK_SECONDS = 5.0
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADERS = ("X-CSRFToken", "X-CSRF-Token")


class CredentialRefused(Unauthenticated):
    """A credential was refused; ``action`` and ``details`` go to the audit log, not the client."""

    def __init__(
        self, detail: str, action: str, details: dict[str, object], actor: Actor | None = None
    ) -> None:
        super().__init__(detail)
        self.action = action
        self.details = details
        self.actor = actor


def raise_refusal(exc: Unauthenticated) -> NoReturn:
    """Audit a deferred authentication refusal, then raise it."""
    if isinstance(exc, CredentialRefused):
        record_refusal(exc.actor or _anonymous(), exc.action, exc.details)
    raise exc


# Refusals anyone can cause without a credential: aggregated per client and minute.
AGGREGATED = frozenset({"auth.token", "auth.required", "csrf.refused"})
REPEATED = "auth.refused.repeated"
PROBES = frozenset({"console.healthz", "console.readyz"})  # never wait on an audit write


def record_refusal(actor: Actor, action: str, details: dict[str, object]) -> None:
    """Append a denied/failed access entry and commit it on its own.

    An unauthenticated refusal (no actor id, no signed-in session) of an ``AGGREGATED`` kind is
    recorded only when it is the client's first this minute; later ones are counted for the
    minute's summary entry. A browser whose session names a person (a form refused for its CSRF
    token before the guard ran) is not anonymous: its refusals stay one entry each.
    """
    tally: RefusalTally | None = current_app.extensions.get("governance.refusals")
    if actor.id is not None or action not in AGGREGATED or session.get("_user_id"):
        tally = None  # recorded one by one
    if tally is not None and not tally.admit(actor.client, action):
        return  # counted for the minute's summary entry
    db.session.rollback()
    wiring = deps(current_app)
    appended = wiring.audit.record(
        db.session(),
        actor,
        action,
        now=wiring.clock(),
        outcome="denied",
        resource="http",
        details=details,
    )
    db.session.commit()
    if tally is not None:
        tally.recorded(actor.client, appended.seq, appended.leaf_hash.hex())


def init_refusal_tally(app: Flask) -> RefusalTally:
    """The per-process tally of unauthenticated refusals (``security/refusals.py``)."""
    tally = RefusalTally()
    app.extensions["governance.refusals"] = tally
    return tally


def write_refusal_summaries(app: Flask, endpoint: str | None) -> None:
    """Write one ``auth.refused.repeated`` entry per client for each ended minute in which it was
    refused more than once (its count and the seq of the one recorded). Cheap when none is due.
    """
    tally: RefusalTally = app.extensions["governance.refusals"]
    if endpoint in PROBES or not tally.due():
        return
    summaries = tally.closed()
    if not summaries:
        return
    db.session.rollback()
    audit, now = deps(app).audit, deps(app).clock()
    for summary in summaries:
        actor = Actor(id=None, type="anonymous", client=summary.client)
        audit.record(db.session(), actor, REPEATED, now=now, outcome="denied", resource="http",
                     details=summary.details())  # fmt: skip
    db.session.commit()


def _anonymous() -> Actor:
    return Actor(
        id=None, type="anonymous", request_id=g.get("request_id"), client=request.remote_addr
    )


def _token_actor(app: Flask, req: Request, state: _AppCtxGlobals, header: str) -> Actor:
    cache: TokenCache = app.extensions["governance.token_cache"]
    verified = cache.get(header)
    if verified is None or (
        verified.expires_at is not None and verified.expires_at <= deps(app).clock()
    ):
        try:
            token_id, full = parse_bearer(header)
        except MalformedToken as exc:
            raise CredentialRefused(
                "the Authorization header is not a valid bearer token",
                "auth.token",
                {"reason": f"malformed: {exc.reason}", "path": req.path},
            ) from None
        verified = _verified_token(cache, header, token_id, full, req.path, deps(app).clock())
    state.token_id = verified.token_id
    return Actor(
        id=verified.account_id,
        type="service",
        roles=verified.roles,
        request_id=state.request_id,
        client=req.remote_addr,
        name=verified.account_name,
    )


def _verified_token(
    cache: TokenCache, header: str, token_id: str, full: str, path: str, now: datetime
) -> VerifiedToken:
    """The token and its account as checked in the database at ``now``; cached under ``header``."""
    token = db.session.get(ApiToken, token_id)
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
    if reason or token is None or account is None:
        raise CredentialRefused(
            "the token is invalid, expired or revoked",
            "auth.token",
            {"reason": reason, "token_id": token_id, "path": path},
        )
    return cache.put(header, token, account)


class SessionUser(UserMixin):
    """Flask-Login's view of a signed-in person."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    """A session counts only after MFA, while its server-side row exists and the user is active.

    The row goes when the user signs out, changes the password, is disabled, has two-factor
    reset or roles changed (``services/identity/sessions.py``).
    """
    if not session.get("mfa_ok"):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.state != "active":
        return None
    idle = timedelta(minutes=current_app.config["SESSION_MINUTES"])
    now = deps(current_app).clock()
    state = session_state(db.session(), session.get("sid"), user.id, now, idle)
    if state != "active":
        if state == "idle":
            g.session_end = "idle timeout"
        return None
    if db.session.dirty:  # its last use was refreshed: keep that, apart from the request's work
        db.session.commit()
    return SessionUser(user)


def _session_actor() -> Actor | None:
    """The signed-in person, or None (``g.session_end`` says why a session just ended)."""
    if not current_user.is_authenticated:
        if session.get("_user_id"):
            g.session_end = g.get("session_end") or (
                "session revoked (signed out, password, roles or two-factor changed, "
                "account disabled, or no MFA)"
            )
            session.clear()
        return None
    last = session.get("seen", 0)
    now = deps(current_app).clock().timestamp()
    if now - last > current_app.config["SESSION_MINUTES"] * 60:
        g.session_end = "idle timeout"
        session.clear()
        return None
    session["seen"] = int(now)
    user = current_user.user
    return Actor(
        id=user.id,
        type="user",
        roles=tuple(user.roles),
        request_id=g.get("request_id"),
        client=request.remote_addr,
        name=user.email,
    )


def authenticate(app: Flask, req: Request, state: _AppCtxGlobals, optional: bool) -> Actor | None:
    """The caller: a bearer token, or a console session that completed MFA.

    ``req`` and ``state`` are the request and ``g`` themselves (not Flask's proxies: the guard
    resolves those once per request).
    """
    header = req.environ.get("HTTP_AUTHORIZATION")
    if header is not None:
        return _token_actor(app, req, state, header)
    actor = _session_actor()
    if (
        actor is not None
        and req.path.startswith("/api/")
        and req.method not in SAFE_METHODS
        and not _csrf_header_valid()
    ):
        raise CredentialRefused(
            "send a bearer token, or the console's CSRF token in an X-CSRFToken header",
            "auth.session",
            {"reason": "API write with a session but no valid CSRF header", "path": req.path},
            actor,
        )
    if actor is None and not optional:
        reason = state.get("session_end") or "no credentials"
        raise CredentialRefused(
            "authentication required", "auth.required", {"reason": reason, "path": req.path}
        )
    return actor


def _csrf_header_valid() -> bool:
    from flask_wtf.csrf import ValidationError, validate_csrf

    token = next((request.headers[h] for h in CSRF_HEADERS if request.headers.get(h)), None)
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True


AuthzState = tuple[Authorizer, float, tuple[object, ...]]  # authorizer, checked at, revision


def authorizer(app: Flask | None = None) -> Authorizer:
    """The app's Casbin authorizer, reloaded when the policy table changes."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: AuthzState | None = app.extensions.get("governance.authz")
    now = time.monotonic()
    if state is not None and now - state[1] < POLICY_CHECK_SECONDS:
        return state[0]
    revision = db.session.execute(select(func.count(), func.max(CasbinRule.id))).one()
    if state is None or state[2] != tuple(revision):
        from governance.services.identity.policy import build_authorizer, policy_lines

        auth = build_authorizer(policy_lines(db.session()))
        state = (auth, now, tuple(revision))
    else:
        state = (state[0], now, state[2])
    app.extensions["governance.authz"] = state
    return state[0]


def authorize(app: Flask, actor: Actor | None, pattern: str, method: str) -> None:
    """Refuse (403, audited) unless one of the actor's roles is allowed this route and method."""
    assert actor is not None
    if authorizer(app).allowed(actor.roles, pattern, method):
        return
    record_refusal(actor, "access.denied", {"route": pattern, "method": method})
    raise Forbidden("your role does not allow this action")


def init_token_cache(app: Flask) -> TokenCache:
    """The per-process cache of verified tokens (``security/token_cache.py``)."""
    cache = TokenCache(float(app.config["TOKEN_CACHE_SECONDS"]))
    register(cache)
    app.extensions["governance.token_cache"] = cache
    return cache


# --- rate limits (security/ratelimit.py) -----------------------------------------------------
LOGIN_ENDPOINTS = frozenset({"console.login", "console.login_mfa"})
API_LIMITED = "too many requests; retry after the delay in the Retry-After header"
LOGIN_LIMITED = "too many sign-in attempts from this address; wait a minute and retry"


def _address(req: Request) -> str:
    return f"address:{req.remote_addr or '-'}"


def init_rate_limits(app: Flask) -> RateLimiter:
    """The API limit (per token, else address) and the sign-in limit (per address).

    Counters live in ``GOVERNANCE_RATELIMIT_STORAGE``; ``memory://`` counts per process.
    Raises ConfigError when the storage is unusable.
    """
    limiter = RateLimiter(
        app.config["RATELIMIT_STORAGE"],
        {
            "api": str(app.config["RATE_LIMIT"]),
            "login": str(app.config["LOGIN_RATE_LIMIT"]),
            "lookup": str(app.config["LOOKUP_RATE_LIMIT"]),
        },
    )
    app.extensions["governance.limiter"] = limiter
    return limiter


def check_rate_limits(
    app: Flask, req: Request, state: _AppCtxGlobals, out: list[tuple[str, str]]
) -> None:
    """Count an API call (per verified token, else address) or a sign-in post (per address).

    Appends the ``X-RateLimit-*`` headers of the counted limit to ``out``. Raises RateLimited
    (429, with ``Retry-After`` in ``out``); the first refusal per key and minute is audited.
    """
    if req.path.startswith("/api/"):
        token_id = state.token_id
        scope, message = "api", API_LIMITED
        key = f"token:{token_id}" if token_id else _address(req)
    elif req.method == "POST" and req.endpoint in LOGIN_ENDPOINTS:
        scope, key, message = "login", _address(req), LOGIN_LIMITED
    else:
        return
    limiter: RateLimiter = app.extensions["governance.limiter"]
    try:
        out += limiter.response_headers(scope, key, message)
    except RateLimited as exc:
        out += ratelimit_headers(exc.item, exc.stats, refused=True)
        if exc.first:  # audited once per key and minute, not per refused call
            details: dict[str, object] = {
                "limit": limiter.specs[scope],
                "scope": scope,
                "path": req.path,
            }
            record_refusal(state.actor or _anonymous(), "rate_limit.exceeded", details)
        raise


LOOKUP_LIMITED = "too many lookups of customer data; retry after the delay in Retry-After"


def count_lookup(app: Flask, actor: Actor, out: list[tuple[str, str]]) -> None:
    """Count one blind-index lookup of ``actor`` (per user or service account, not per token).

    Raises RateLimited (429, with ``Retry-After`` appended to ``out``); the caller audits it.
    """
    limiter: RateLimiter = app.extensions["governance.limiter"]
    try:
        limiter.check("lookup", f"{actor.type}:{actor.id or actor.client}", LOOKUP_LIMITED)
    except RateLimited as exc:
        refused = ratelimit_headers(exc.item, exc.stats, refused=True)
        out += [h for h in refused if h[0] == "Retry-After"]  # the api limit's X-RateLimit-* stay
        raise
