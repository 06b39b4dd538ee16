"""The OpenAPI 3.1 document at ``/api/v1/openapi.json`` and a self-contained browsable page.

Paths are listed in ``OPERATIONS``; a test checks that every API route in the URL map is
described here and nothing here is missing from the URL map.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template_string

from governance.api import bp
from governance.context import purposes

S = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": S + name}


def nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


ADDRESS: dict[str, Any] = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        k: nullable("string") for k in ("line1", "line2", "city", "region", "postal_code")
    },
}
CUSTOMER_FIELDS: dict[str, Any] = {
    "external_ref": nullable("string", maxLength=128),
    "full_name": {"type": "string", "maxLength": 200},
    "email": nullable("string", format="email"),
    "phone": nullable("string", description="E.164 after normalisation, e.g. +8613812345678"),
    "date_of_birth": nullable(
        "string",
        pattern=r"^[0-9*]{4}-[0-9*]{2}-[0-9*]{2}$",
        description="ISO 8601 date; masked for some roles (1970-**-**), so no format: date",
    ),
    "national_id": nullable("string", description="resident id (GB 11643 checked) or passport"),
    "address": ADDRESS,
    "country": nullable("string", description="ISO 3166-1 alpha-2"),
    "subdivision": nullable("string", description="ISO 3166-2, e.g. US-CA, CN-BJ"),
    "language": nullable("string", description="BCP 47 tag"),
    "marketing": {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: {"type": "boolean"} for k in ("email", "sms", "phone", "post")},
    },
}
# What the server accepts is narrower than what it answers (masked values are not dates).
# Formats the server defines (a phone number valid for its country, a GB 11643 resident id or
# passport number, ISO codes, a cursor it issued) are named so clients and fuzzers know them.
# The edge refuses control characters (json_body); say so on every string the client sends.
CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
TEXT = rf"^[^{CONTROL}]*$"
NONBLANK = rf"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$"
CUSTOMER_INPUT: dict[str, Any] = {
    **CUSTOMER_FIELDS,
    "full_name": {"type": "string", "maxLength": 200, "pattern": NONBLANK},
    "email": nullable("string", format="email", maxLength=254),
    "phone": nullable("string", format="phone", description="a number valid for its country"),
    "date_of_birth": nullable(
        "string", format="birth-date", description="ISO 8601 date, 1900-01-01 to today"
    ),
    "national_id": nullable(
        "string", format="national-id", description="resident id (GB 11643) or passport"
    ),
    "address": {
        **ADDRESS,
        "properties": {k: nullable("string", maxLength=200) for k in ADDRESS["properties"]},
    },
    "country": nullable("string", format="iso3166-alpha2", description="ISO 3166-1 alpha-2"),
    "subdivision": nullable(
        "string",
        format="iso3166-2",
        description="ISO 3166-2 of the record's country (US-CA, or CA with country US)",
    ),
    "language": nullable("string", format="bcp47", description="BCP 47 tag"),
}
SCHEMAS: dict[str, Any] = {
    "CustomerInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["full_name"],
        "properties": CUSTOMER_INPUT,
    },
    "CustomerPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": CUSTOMER_INPUT,
        "description": "JSON merge semantics: a field set to null is removed.",
    },
    "Customer": {
        "type": "object",
        "description": "Values are masked or hidden according to the caller's role.",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            **CUSTOMER_FIELDS,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "CustomerPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("Customer")},
            "next_cursor": nullable("string"),
        },
    },
    "OrderInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ordered_at", "amount", "currency"],
        "properties": {
            "ordered_at": {"type": "string", "format": "date-time"},
            "amount": {
                "oneOf": [
                    {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
                    {"type": "number", "minimum": 0, "exclusiveMaximum": 1e12, "multipleOf": 0.01},
                ],
                "description": "0 to 999,999,999,999.99, two decimals at most",
            },
            "currency": {"type": "string", "format": "iso4217", "description": "ISO 4217"},
            "items": {
                "type": ["array", "null"],
                "maxItems": 500,
                "items": {"anyOf": [{"type": "string"}, ref("OrderItemObject")]},
            },
            "comment": nullable("string"),
        },
    },
    # Any JSON object (no deeper than the edge allows); no key or text with control characters.
    "OrderItemObject": {
        "type": "object",
        "propertyNames": {"pattern": TEXT},
        "additionalProperties": ref("OrderItemValue"),
    },
    "OrderItemValue": {
        "anyOf": [
            {"type": "string", "pattern": TEXT},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": ref("OrderItemValue")},
            ref("OrderItemObject"),
        ]
    },
    "Order": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "amount": {"type": "string"}},
    },
    "InteractionInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["channel", "occurred_at"],
        "properties": {
            "channel": {
                "enum": ["email", "phone", "chat", "visit", "sms", "social", "letter", "other"]
            },
            "occurred_at": {"type": "string", "format": "date-time"},
            "note": nullable("string"),
        },
    },
    "Interaction": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "note": nullable("string")},
    },
    "Job": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string"},
            "state": {"enum": ["queued", "running", "succeeded", "failed"]},
            "progress": {"type": "object"},
            "result": {"type": ["object", "null"]},
            "error": nullable("string"),
            "waiting": {
                "type": ["object", "null"],
                "description": "set when the job sat queued, unclaimed, too long: why and the fix",
            },
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
}

PROBLEM = {"application/problem+json": {"schema": ref("Problem")}}
ERROR_TEXT = {
    "400": "malformed request (body or parameters)",
    "401": "not authenticated",
    "403": "not allowed by policy or purpose",
    "404": "not found",
    "409": "conflicts with existing data",
    "413": "body too large",
    "415": "body not sent as a supported media type",
    "422": "validation failed",
    "429": "rate limited",
}
ERRORS = {
    code: {"description": ERROR_TEXT[code], "content": PROBLEM}
    for code in ("400", "401", "403", "404", "422", "429")
}
ID = {
    "name": "customer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
PURPOSE = {
    "name": "X-Purpose",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": [n for n, system in purposes().items() if not system]},
    "description": "declared purpose of the read (policies/purposes.yaml): missing 400, unknown "
    "422, not allowed for the role 403 purpose-not-allowed, no consent 403 consent-required",
}


def op(
    summary: str,
    ok: dict[str, Any] | None = None,
    body: str | None = None,
    params: list[Any] | None = None,
    public: bool = False,
    status: str = "200",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": summary,
        "responses": {status: ok or {"description": "OK"}, **ERRORS},
    }
    if body:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    if params:
        spec["parameters"] = params
    if public:
        spec["security"] = []
    return spec


def json_ok(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


PDF = {"description": "PDF document", "content": {"application/pdf": {}}}


def _followed(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the 202 of work that became a job: the job, and ``Location`` to ask again."""
    accepted = json_ok("Job", "Accepted: a job makes the result; ask again at Location")
    accepted["headers"] = {"Location": {"schema": {"type": "string"}}}
    spec["responses"]["202"] = accepted
    return spec


FILTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "cursor": {"type": "string", "format": "cursor", "description": "next_cursor of a page"},
    "email": {"type": "string", "format": "email", "maxLength": 254},
    "phone": {"type": "string", "format": "phone"},
    "national_id": {"type": "string", "format": "national-id"},
    "country": {"type": "string", "format": "iso3166-alpha2"},
    "external_ref": {"type": "string", "maxLength": 128, "pattern": NONBLANK},
    "updated_since": {"type": "string", "format": "iso8601", "description": "date or time"},
}
LIST_PARAMS = (
    [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]
    + [{"name": n, "in": "query", "schema": schema} for n, schema in FILTER_SCHEMAS.items()]
    + [PURPOSE]
)

OPERATIONS: dict[str, dict[str, Any]] = {
    "/customers": {
        "get": op(
            "List customers (cursor pagination, exact filters via blind index)",
            json_ok("CustomerPage"),
            params=LIST_PARAMS,
        ),
        "post": op(
            "Create a customer", json_ok("Customer", "Created"), "CustomerInput", status="201"
        ),
    },
    "/customers/{customer_id}": {
        "get": op(
            "Read a customer (masked by role; dpo may reveal=true with X-Reveal-Reason)",
            json_ok("Customer"),
            params=[ID, PURPOSE, {"name": "reveal", "in": "query", "schema": {"type": "boolean"}}],
        ),
        "patch": op("Update a customer", json_ok("Customer"), "CustomerPatch", params=[ID]),
        "delete": op("Erase a customer (crypto-shredding, tombstone)", params=[ID]),
    },
    "/customers/{customer_id}/orders": {
        "get": op("List a customer's orders", params=[ID, PURPOSE]),
        "post": op(
            "Add an order", json_ok("Order", "Created"), "OrderInput", params=[ID], status="201"
        ),
    },
    "/customers/{customer_id}/interactions": {
        "get": op("List a customer's interactions", params=[ID, PURPOSE]),
        "post": op(
            "Add an interaction",
            json_ok("Interaction", "Created"),
            "InteractionInput",
            params=[ID],
            status="201",
        ),
    },
    "/imports": {
        "post": {
            **op(
                "Import customers from CSV or JSON Lines (per-row report in the job result)",
                json_ok("Job", "Created"),
                status="201",
            ),
            "requestBody": {
                "required": True,
                "content": {"text/csv": {}, "application/x-ndjson": {}},
            },
        },
    },
    "/jobs": {"get": op("Recent jobs")},
    "/jobs/{job_id}": {
        "get": op(
            "A job's state and progress",
            json_ok("Job"),
            params=[
                {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
        )
    },
    "/quality": {
        "get": _followed(
            op(
                "Data-quality summary: completeness, invalid values, duplicate groups (kept until "
                "a customer changes; over a large store 202 with the job computing it)",
                params=[{"name": "job", "in": "query", "schema": {"type": "string"}}],
            )
        )
    },  # fmt: skip
    "/reports/data-inventory": {"get": op("Data-inventory report (PDF)", PDF)},
    "/reports/audit-trail": {
        "get": _followed(
            op(
                "Audit-trail report (PDF): entries in an inclusive period, summaries, verification "
                "(over a large log 202 with the report job; ?job=ID gives the PDF once built)",
                PDF,
                params=[
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("from", "to", "job")
                ],
            )
        )  # fmt: skip
    },
    "/openapi.json": {"get": op("This document", public=True)},
    "/docs": {"get": op("Browsable API documentation (HTML)", public=True)},
}


def register_operations(
    paths: dict[str, dict[str, Any]], schemas: dict[str, Any] | None = None
) -> None:
    """Add the OpenAPI description of a resource module's routes (called at import)."""
    for path, methods in paths.items():
        OPERATIONS.setdefault(path, {}).update(methods)
    SCHEMAS.update(schemas or {})


def _errors(method: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The problem answers an operation can give, by what it is: every call may be malformed,
    not found, invalid or rate limited; a guarded one refused (401, 403); one with a body
    too large or of the wrong type (413, 415); a write may conflict (409)."""
    codes = ["400", "404", "422", "429"]
    if spec.get("security") != []:
        codes += ["401", "403"]
    if "requestBody" in spec or method in ("post", "put", "patch"):
        codes += ["413", "415"]
    if method in ("post", "put", "patch", "delete"):
        codes.append("409")
    return {code: {"description": ERROR_TEXT[code], "content": PROBLEM} for code in codes}


def _plain_text(schema: Any) -> Any:
    """``schema`` with ``TEXT`` as the pattern of every string that has none."""
    if isinstance(schema, list):
        return [_plain_text(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _plain_text(value) for key, value in schema.items()}
    kinds = out.get("type")
    is_string = kinds == "string" or (isinstance(kinds, list) and "string" in kinds)
    if is_string and "pattern" not in out and "format" not in out and "enum" not in out:
        out["pattern"] = TEXT
    is_object = kinds == "object" or (isinstance(kinds, list) and "object" in kinds)
    if is_object and "propertyNames" not in out and out.get("additionalProperties") is not False:
        out["propertyNames"] = {"pattern": TEXT}
    return out


def _input_text(schemas: dict[str, Any]) -> dict[str, Any]:
    """The component schemas, request bodies (``*Input``, ``*Patch``) with ``TEXT`` patterns;
    answers keep theirs (a problem's ``instance`` echoes whatever path was asked for)."""
    return {
        name: _plain_text(schema) if name.endswith(("Input", "Patch")) else schema
        for name, schema in schemas.items()
    }


def _complete(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each operation with every error answer it can give (operations registered by resource
    modules list only their success)."""
    out: dict[str, dict[str, Any]] = {}
    for path, methods in paths.items():
        out[path] = {}
        for method, spec in methods.items():
            responses = {**_errors(method, spec), **spec.get("responses", {})}
            out[path][method] = {**spec, "responses": responses}
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Governance Server data API",
            "version": "1.0.0",
            "description": "Every call is authenticated (a Bearer token, or a signed-in "
            "console session whose writes also carry its X-CSRFToken header), authorised by "
            "role and declared purpose, masked and audited. Errors are RFC 9457 problem "
            "details.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "console session (password and TOTP); writes also need "
                    "the X-CSRFToken header of the session",
                },
            },
            "schemas": _input_text(SCHEMAS),
        },
        "paths": _complete(OPERATIONS),
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())


# The interactive viewer: Swagger UI vendored from the npm registry (governance/static/
# swagger-ui/VENDORED.md), started by a script file (no inline script under the CSP).
DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Governance API</title>
<link rel="stylesheet" href="{{ url_for('static', filename='swagger-ui/swagger-ui.css') }}">
<link rel="stylesheet" href="{{ url_for('static', filename='api-docs.css') }}">
<script src="{{ url_for('static', filename='swagger-ui/swagger-ui-bundle.js') }}" defer></script>
<script src="{{ url_for('static', filename='api-docs.js') }}" defer></script>
</head><body><header class="docs-head"><h1>Governance Server data API</h1>
<p>Machine-readable: <a href="{{ url_for('api.openapi_json') }}">openapi.json</a>.</p></header>
<main id="swagger-ui" data-spec="{{ url_for('api.openapi_json') }}">
<noscript><p>The interactive viewer needs JavaScript; the document itself is
<a href="{{ url_for('api.openapi_json') }}">openapi.json</a>.</p></noscript></main>
</body></html>"""


@bp.get("/docs")
def openapi_docs() -> Response:
    """Swagger UI; its stylesheet draws icons as ``data:`` SVG images, so this one page's policy
    also allows images from ``data:`` (scripts stay ``'self'`` only)."""
    from governance.web.edge import CONTENT_SECURITY_POLICY

    response = Response(render_template_string(DOCS_PAGE), mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "img-src 'self'", "img-src 'self' data:"
    )
    return response
