"""The guarded JSON data API at ``/api/v1``: one module per resource.

Views only parse input, call a service and render JSON; the request's transaction is committed
here after the service appended its audit entry, so the action and its record land together.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from governance.context import Call, Purpose
from governance.errors import MalformedRequest, UnsupportedMediaType, ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# No document the API takes is nested more than a few levels; 32 leaves room and keeps every
# later step (validation, canonical JSON, audit details) far from Python's recursion limit.
MAX_JSON_DEPTH = 32
# Lone surrogates (not Unicode scalar values: nothing can encode them) and control characters
# (category Cc) other than tab, line feed and carriage return, anywhere in the document.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_TEXT_ERRORS = 20


def json_body() -> Any:
    """The request's JSON document: 415 for another content type, 400 when it is not valid
    JSON or nested deeper than ``MAX_JSON_DEPTH``, 422 naming each field whose text holds a
    lone surrogate or a control character (other than tab and line breaks).

    The one place request JSON is parsed, so no view can receive text that fails later (when
    encoded, stored or audited) with a 500.
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    try:
        data = json.loads(request.get_data(cache=True))
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # also UnicodeDecodeError: the body is not UTF-8
        raise MalformedRequest("the body is not valid JSON") from None
    problems = text_problems(data)
    if problems:
        raise ValidationError("the body holds text that is not allowed", problems)
    return data


@bp.before_request
def _plain_query_text() -> None:
    """Query parameters follow the body's rule: no control characters (a 422 naming them)."""
    if not request.query_string:
        return
    bad = sorted({k for k, v in request.args.items(multi=True) if _BAD_TEXT.search(k + v)})
    if bad:
        message = "contains control characters"
        errors = [{"field": _BAD_TEXT.sub("?", k[:64]), "message": message} for k in bad]
        raise ValidationError("bad parameter", errors)


def _too_deep() -> MalformedRequest:
    return MalformedRequest(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")


def text_problems(data: Any) -> list[dict[str, str]]:
    """``{"field", "message"}`` for each string (key or value) in ``data`` holding a lone
    surrogate or a control character; raises MalformedRequest past ``MAX_JSON_DEPTH``.

    Iterative, so its own depth never matters; field paths name keys, never values.
    """
    problems: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(problems) < _MAX_TEXT_ERRORS:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if _BAD_TEXT.search(value):
                problems.append({"field": path or "(body)", "message": _text_message(value)})
            continue
        if isinstance(value, dict | list) and depth >= MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                if _BAD_TEXT.search(key):
                    problems.append({"field": path or "(body)", "message": "has a bad key: "
                                     + _text_message(key)})  # fmt: skip
                    continue
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: p["field"])


def _text_message(text: str) -> str:
    if _SURROGATE.search(text):
        return "contains a lone surrogate (not valid Unicode)"
    return "contains control characters"


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


def purpose() -> Purpose | None:
    """The declared purpose of the call: the ``X-Purpose`` header, a name from
    ``policies/purposes.yaml``; 422 naming the header when unknown or empty, 400 when the
    retired ``purpose`` parameter is sent. None when no purpose is declared (a read of customer
    data then answers 400 in the service: ``read_call``).
    """
    if "purpose" in request.args:
        raise MalformedRequest(
            "the purpose parameter is retired: declare the purpose in the X-Purpose header",
            [{"field": "purpose", "message": "is retired: use the X-Purpose header"}],
        )
    value = request.headers.get("X-Purpose")
    if value is None:
        return None
    request.environ["governance.declared_purpose"] = value.strip()[:64]
    if not value.strip():
        raise ValidationError(
            "unknown purpose", [{"field": "X-Purpose", "message": "must not be empty"}]
        )
    declared = Purpose.named(value.strip(), field="X-Purpose")
    request.environ["governance.purpose"] = declared
    return declared


def read_call() -> Call:
    """The call of a read of customer data, its purpose checked first: 400 without
    ``X-Purpose``, 422 for an unknown one, 403 ``purpose-not-allowed`` for the caller's role."""
    from governance.services.consent.lawful_basis import require_purpose
    from governance.web.edge import current_call

    call = current_call(purpose())
    require_purpose(call)
    return call


def page_size() -> int:
    return query_int("limit", current_app.config["PAGE_SIZE"], 1, 500)


def require_recent_password() -> None:
    """A sensitive action (erasure, key rotation, granting access) by a console session needs a
    password entry within GOVERNANCE_REAUTH_MINUTES; tokens are checked by policy alone."""
    from flask import g

    actor = g.get("actor")
    if actor is not None and actor.type == "user":
        from governance.web.reauth import require_recent_auth

        require_recent_auth()


def created(body: Any) -> Any:
    response = jsonify(body)
    response.status_code = 201
    return response


from governance.api import (  # noqa: E402,F401  (each module registers its routes)
    auditlog,
    consent,
    customers,
    identity,
    incidents,
    jobs,
    keys,
    openapi,
    pii,
    quality,
    reports,
    requests,
    retention,
)
