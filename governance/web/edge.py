"""The one guard in front of every route, and the error handlers for API and console.

``register_guards`` installs a single ``before_request`` hook: a route is public only if its
endpoint is in ``PUBLIC_ENDPOINTS``; every other route needs an authenticated principal *and* a
Casbin rule allowing one of its roles that route pattern and method (deny by default, ARCHITECTURE
invariant 4). A new route therefore cannot ship unguarded: it is refused until policy allows it.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, Request, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from governance.bootstrap import deps
from governance.context import Actor, Call, Purpose
from governance.database import writes_last
from governance.errors import (
    Forbidden,
    GovernanceError,
    InternalError,
    MalformedRequest,
    PayloadTooLarge,
    Unauthenticated,
    problem,
)
from governance.extensions import db

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "console.static",
        "console.healthz",
        "console.readyz",
        "console.login",
        "console.login_mfa",
        "console.logout",
        "api.openapi_json",
        "api.openapi_docs",
        "api.audit_public_key",
    }
)


@lru_cache(maxsize=1024)
def rule_pattern(rule: str) -> str:
    """A Flask rule (``/customers/<id>``) as a Casbin keyMatch2 pattern (``/customers/:id``)."""
    out = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = ":" + part[1:-1].split(":")[-1]
        out.append(part)
    return "/".join(out)


def guarded_routes(app: Flask) -> dict[str, set[str]]:
    """Every guarded route of ``app`` as a keyMatch2 pattern with its methods (HEAD and OPTIONS
    left out: HEAD is GET's right, OPTIONS nobody's), which the policy must match exactly."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC_ENDPOINTS:
            methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
            routes.setdefault(rule_pattern(rule.rule), set()).update(methods)
    return routes


def has_route(app: Flask, method: str, path: str) -> bool:
    """True if ``app`` answers ``method path`` with a view (not 404, 405 or a redirect)."""
    try:
        app.url_map.bind("localhost").match(path, method.upper())
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
        return False
    return True


def is_api() -> bool:
    return request.path.startswith("/api/")


def current_call(purpose: Purpose | None = None) -> Call:
    """The service call for this request: its session, actor, declared purpose and the app's
    dependencies."""
    from flask import current_app

    return deps(current_app).call(db.session(), g.get("actor") or anonymous(), purpose)


def count_customer_lookup(sent: Iterable[str]) -> None:
    """Count a lookup by blind index (filters, or fields a duplicate check compares) against
    GOVERNANCE_LOOKUP_RATE_LIMIT when the caller sees a compared field masked.

    Raises RateLimited (429 with Retry-After); API and console both call it, so neither is an
    unmetered oracle (``services/customers/disclosure.py``).
    """
    from flask import current_app

    from governance.services.customers.disclosure import lookup_is_limited
    from governance.web.guard import count_lookup

    actor = g.get("actor") or anonymous()
    if lookup_is_limited(actor, sent):
        count_lookup(current_app, actor, request.environ.setdefault(RESPONSE_HEADERS, []))


def anonymous() -> Actor:
    return Actor(id=None, type="anonymous", request_id=g.get("request_id"), client=_client())


def _client() -> str | None:
    return request.remote_addr


def request_id(sent: str | None) -> str:
    """The client's ``X-Request-Id`` when it is a plain token (letters, digits, ``._:@/+=-``,
    up to 64), else a new random one: it is echoed in a header and kept in the audit log."""
    if sent and _REQUEST_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(16)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=\-]{1,64}")
# The environ key under which the guard leaves headers for every answer (SecurityHeaders).
RESPONSE_HEADERS = "governance.response_headers"


def register_guards(app: Flask) -> None:
    """Authenticate, rate-limit and authorise every request in one place, in that order.

    One ``before_request`` hook: check a console form's CSRF token; identify the caller (a
    refused credential is remembered, not yet answered); count the request against its rate
    limit (per verified token, else per address, so a flood of bad tokens is refused before it
    floods the audit log); then answer a refusal (audited) or check the Casbin policy (deny by
    default).

    It resolves Flask's ``request`` and ``g`` proxies once and hands the objects on: each
    proxy access costs about a microsecond, and this hook runs on every call.
    """
    from governance.extensions import csrf
    from governance.web.guard import (
        authenticate,
        authorize,
        check_rate_limits,
        init_rate_limits,
        init_refusal_tally,
        init_token_cache,
        raise_refusal,
        write_refusal_summaries,
    )
    from governance.web.transaction import register_unit_of_work, rollback

    init_token_cache(app)
    init_rate_limits(app)
    init_refusal_tally(app)
    # Flask-WTF's own hook would run on every call, API included; the guard checks console
    # forms itself (the API takes bearer tokens, or a session plus an X-CSRFToken header).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf_methods = app.config["WTF_CSRF_METHODS"]

    @app.before_request
    def _guard() -> None:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        state = g._get_current_object()
        environ = req.environ
        state.request_id = rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        state.actor = state.token_id = state.session_end = None
        headers = environ[RESPONSE_HEADERS] = [("X-Request-Id", rid)]
        endpoint = req.endpoint
        write_refusal_summaries(app, endpoint)  # of minutes that have ended, if any
        if endpoint is None:  # 404 / 405 are answered by Werkzeug; nothing is served
            if not req.path.startswith("/api/"):  # the console's error page shows navigation
                try:
                    state.actor = authenticate(app, req, state, optional=True)
                except Unauthenticated:
                    pass
            return
        api = req.path.startswith("/api/")
        if not api and req.method in csrf_methods and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()  # console forms (the API is exempt): 400, recorded by the error handler
        public = endpoint in PUBLIC_ENDPOINTS
        refusal = None
        try:
            state.actor = authenticate(app, req, state, optional=public)
        except Unauthenticated as exc:
            refusal = exc  # answered after the rate limit has counted the call
        check_rate_limits(app, req, state, headers)  # per verified token, else per address
        if refusal is not None:
            raise_refusal(refusal)
        if not public:
            assert req.url_rule is not None
            authorize(app, state.actor, rule_pattern(req.url_rule.rule), req.method)

    app.wsgi_app = SecurityHeaders(ReadsFirst(app.wsgi_app))  # type: ignore[method-assign]
    register_unit_of_work(app)

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            rollback()


# W3C CSP Level 3, on every answer (console pages, API answers, files): scripts and styles only
# from this server's own static files, no inline code (so an injected <script> or on*= attribute
# does not run), nothing else loaded, no framing, forms posting back to this server only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


class ReadsFirst:
    """WSGI middleware: a GET or HEAD request reads first and writes last (its audit entry, a
    session touch), so on SQLite it takes the writer lock at its first write rather than when
    its transaction begins (``governance.database.writes_last``): governed reads of several
    workers overlap instead of queueing for the lock for their whole duration."""

    SAFE = frozenset({"GET", "HEAD"})

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") not in self.SAFE:
            return self.app(environ, start_response)
        with writes_last():  # the request's commit happens before the answer is returned
            return self.app(environ, start_response)


class SecurityHeaders:
    """WSGI middleware adding the fixed security headers to every answer a view did not set,
    and the per-request headers the guard left in the environ (request id, rate limit).

    Done at the WSGI layer, on the plain header list: Werkzeug's ``Headers.set`` and
    ``setdefault`` scan the whole list on every call.
    """

    HEADERS = (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    )
    _NAMES = frozenset(name.lower() for name, _ in HEADERS)

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names = self._NAMES
            if any(name.lower() in names for name, _ in headers):  # a view set one of them
                present = {name.lower() for name, _ in headers}
                headers += [h for h in self.HEADERS if h[0].lower() not in present]
            else:
                headers += self.HEADERS
            headers += environ.get(RESPONSE_HEADERS, ())
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    if is_api() or request.accept_mimetypes.best == "application/json":
        body = problem(status, slug, title, detail, request.path, errors)
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="governance"'
        response.headers.update(headers or {})
        return response
    html = render_template(
        "error.html", status=status, title=title, detail=detail, errors=errors or []
    )
    return html, status, headers or {}


def _allow(exc: HTTPException) -> dict[str, str]:
    """``Allow`` for a 405 (RFC 9110 section 15.5.6 requires it): the route's methods."""
    methods = getattr(exc, "valid_methods", None)
    return {"Allow": ", ".join(sorted(methods))} if methods else {}


def register_error_handlers(app: Flask) -> None:
    """Render domain errors and HTTP errors as problem+json (API) or an HTML page (console),
    after rolling the request's work back (``web/transaction.py``)."""
    from governance.web.transaction import rollback

    @app.errorhandler(GovernanceError)
    def _domain(exc: GovernanceError) -> Any:
        if isinstance(exc, InternalError):  # the server's fault: no detail leaves the server
            return _unexpected(exc)
        rollback()
        if isinstance(exc, Unauthenticated) and not is_api() and exc.status == 401:
            from flask import redirect, url_for

            # A sensitive action asks for the password again (web.reauth.ReauthRequired).
            target = "console.reauth" if exc.slug == "reauth-required" else "console.login"
            if target == "console.reauth" and request.method == "POST":
                from governance.web.reauth import remember_pending

                remember_pending(request.path, list(request.form.items(multi=True)))
            return redirect(url_for(target, next=request.path))
        return _problem_response(exc.status, exc.slug, exc.title, exc.detail, exc.errors,
                                 getattr(exc, "headers", None))  # fmt: skip

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        rollback()
        code = exc.code or 500
        if code == 413:
            err: GovernanceError = PayloadTooLarge("the request body is too large")
            return _problem_response(err.status, err.slug, err.title, err.detail)
        if code == 400 and "CSRF" in (exc.description or ""):
            from governance.web.guard import record_refusal

            # Flask-WTF refuses before the guard runs: record it here, with the reason only.
            reason = "missing" if "missing" in (exc.description or "") else "invalid"
            record_refusal(anonymous(), "csrf.refused", {"reason": reason, "path": request.path})
            return _problem_response(
                400,
                "csrf",
                "Form expired or forged",
                "please reload the page and submit the form again",
            )
        slug = (exc.name or "error").lower().replace(" ", "-")
        return _problem_response(
            code, slug, exc.name or "Error", exc.description or "", headers=_allow(exc)
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        rollback()
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
        log.debug("unhandled error", exc_info=exc)
        return _problem_response(
            500,
            "internal-error",
            "Internal error",
            f"the request failed and changed nothing (request id {g.get('request_id', '-')})",
        )


__all__ = ["Forbidden", "MalformedRequest", "current_call", "register_guards", "rule_pattern"]
