"""The one guard in front of every route, and the error handlers for API and console.

``register_guards`` installs a single ``before_request`` hook: a route is public only if its
endpoint is in ``PUBLIC_ENDPOINTS``; every other route needs an authenticated principal *and* a
Casbin rule allowing one of its roles that route pattern and method (deny by default, ARCHITECTURE
invariant 4). A new route therefore cannot ship unguarded: it is refused until policy allows it.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from governance.bootstrap import deps
from governance.errors import (
    Forbidden,
    GovernanceError,
    MalformedRequest,
    PayloadTooLarge,
    Unauthenticated,
    problem,
)
from governance.extensions import db
from governance.services.context import Actor, Call

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


def is_api() -> bool:
    return request.path.startswith("/api/")


def current_call() -> Call:
    """The service call for this request: its session, actor and the app's dependencies."""
    from flask import current_app

    return deps(current_app).call(db.session, g.get("actor") or anonymous())


def anonymous() -> Actor:
    return Actor(id=None, type="anonymous", request_id=g.get("request_id"), client=_client())


def _client() -> str | None:
    return request.remote_addr


def register_guards(app: Flask) -> None:
    """Authenticate, rate-limit and authorise every request in one place, in that order.

    One ``before_request`` hook: identify the caller (a refused credential is remembered, not
    yet answered); count the request against its rate limit (per verified token, else per
    address, so a flood of bad tokens is refused before it floods the audit log); then answer
    a refusal (audited) or check the Casbin policy (deny by default).
    """
    from governance.security.guard import (
        authenticate,
        authorize,
        check_rate_limits,
        init_rate_limits,
        init_token_cache,
        raise_refusal,
        rate_limit_headers,
    )

    init_token_cache(app)
    init_rate_limits(app)

    @app.before_request
    def _guard() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        g.actor = g.token_id = g.session_end = g.rate_limit = None
        endpoint = request.endpoint
        if endpoint is None:
            return  # 404 / 405 are answered by Werkzeug; nothing is served
        public = endpoint in PUBLIC_ENDPOINTS
        refusal = None
        try:
            g.actor = authenticate(optional=public)
        except Unauthenticated as exc:
            refusal = exc  # answered after the rate limit has counted the call
        check_rate_limits()  # per verified token, else per address
        if refusal is not None:
            raise_refusal(refusal)
        if not public:
            assert request.url_rule is not None
            authorize(g.actor, rule_pattern(request.url_rule.rule), request.method)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        rate_limit_headers(response)
        return response

    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


class SecurityHeaders:
    """WSGI middleware adding the fixed security headers to every answer a view did not set.

    Done at the WSGI layer, on the plain header list, because Werkzeug's ``Headers.setdefault``
    scans the headers once per call (four scans per request on the hot path).
    """

    HEADERS = (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in self.HEADERS if h[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _problem_response(status: int, slug: str, title: str, detail: str, errors: Any = None) -> Any:
    if is_api() or request.accept_mimetypes.best == "application/json":
        body = problem(status, slug, title, detail, request.path, errors)
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="governance"'
        return response
    html = render_template(
        "error.html", status=status, title=title, detail=detail, errors=errors or []
    )
    return html, status


def register_error_handlers(app: Flask) -> None:
    """Render domain errors and HTTP errors as problem+json (API) or an HTML page (console)."""

    @app.errorhandler(GovernanceError)
    def _domain(exc: GovernanceError) -> Any:
        db.session.rollback()
        if isinstance(exc, Unauthenticated) and not is_api() and exc.status == 401:
            from flask import redirect, url_for

            # A sensitive action asks for the password again (console.auth.ReauthRequired).
            target = "console.reauth" if exc.slug == "reauth-required" else "console.login"
            return redirect(url_for(target, next=request.path))
        return _problem_response(exc.status, exc.slug, exc.title, exc.detail, exc.errors)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        db.session.rollback()
        code = exc.code or 500
        if code == 413:
            err: GovernanceError = PayloadTooLarge("the request body is too large")
            return _problem_response(err.status, err.slug, err.title, err.detail)
        if code == 400 and "CSRF" in (exc.description or ""):
            from governance.security.guard import record_refusal

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
        return _problem_response(code, slug, exc.name or "Error", exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        db.session.rollback()
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
        log.debug("unhandled error", exc_info=exc)
        return _problem_response(
            500,
            "internal-error",
            "Internal error",
            f"the request failed and changed nothing (request id {g.get('request_id', '-')})",
        )


__all__ = ["Forbidden", "MalformedRequest", "current_call", "register_guards", "rule_pattern"]
