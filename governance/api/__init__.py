"""The guarded JSON data API at ``/api/v1``: one module per resource.

Views only parse input, call a service and render JSON; the request's transaction is committed
here after the service appended its audit entry, so the action and its record land together.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from governance.errors import MalformedRequest, UnsupportedMediaType, ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def json_body() -> Any:
    """The request's JSON document; 415 for another content type, 400 when malformed."""
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise MalformedRequest("the body is not valid JSON")
    return data


def query_int(name: str, default: int, low: int = 1, high: int = 10**12) -> int:
    """An integer query parameter within bounds; 422 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(
            "bad parameter", [{"field": name, "message": "must be a whole number"}]
        ) from None
    if not low <= value <= high:
        raise ValidationError(
            "bad parameter", [{"field": name, "message": f"must be between {low} and {high}"}]
        )
    return value


def purpose() -> str | None:
    """The declared purpose of the call (``X-Purpose`` header or ``purpose`` parameter)."""
    value = request.headers.get("X-Purpose") or request.args.get("purpose")
    return value.strip()[:64] if value else None


def page_size() -> int:
    return query_int("limit", current_app.config["PAGE_SIZE"], 1, 500)


def require_recent_password() -> None:
    """A sensitive action (erasure, key rotation, granting access) by a console session needs a
    password entry within GOVERNANCE_REAUTH_MINUTES; tokens are checked by policy alone."""
    from flask import g

    actor = g.get("actor")
    if actor is not None and actor.type == "user":
        from governance.console.auth import require_recent_auth

        require_recent_auth()


def created(body: Any) -> Any:
    response = jsonify(body)
    response.status_code = 201
    return response


from governance.api import (  # noqa: E402,F401  (each module registers its routes)
    audit,
    customers,
    identity,
    jobs,
    keys,
    openapi,
    pii,
    quality,
    reports,
)
