"""Consent: purposes and notices (read-only to apps), consent events (one and in bulk), a
customer's state and history, receipts (JSON and PDF), objections, totals per purpose.

``Sec-GPC: 1`` on a consent call records the Global Privacy Control opt-out of
``sale_or_sharing`` for that customer too.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from governance.api import bp, created, json_body
from governance.api.openapi import ID, NONBLANK, json_ok, op, ref, register_operations
from governance.purposes import current as purposes
from governance.services.consent import bulk, ledger, notices, objections, receipts, totals
from governance.services.consent.receipt_pdf import receipt_pdf
from governance.web.edge import current_call


@bp.get("/purposes")
def list_purposes() -> Any:
    return jsonify(notices.purposes_json())


@bp.get("/notices")
def list_notices() -> Any:
    return jsonify(notices.list_notices(current_call()))


@bp.post("/notices")
def publish_notice() -> Any:
    return created(notices.publish_notice(current_call(), json_body()))


@bp.post("/customers/<customer_id>/consents")
def record_consent(customer_id: str) -> Any:
    gpc = request.headers.get("Sec-GPC", "").strip() == "1"
    event, related = ledger.record_event(current_call(), customer_id, json_body(), gpc=gpc)
    if related:
        event["related"] = related
    return created(event)


@bp.get("/customers/<customer_id>/consents")
def customer_consents(customer_id: str) -> Any:
    return jsonify(ledger.consent_state(current_call(), customer_id))


@bp.post("/customers/<customer_id>/objections")
def customer_objection(customer_id: str) -> Any:
    return created(objections.from_request(current_call(), customer_id, json_body()))


@bp.post("/consents")
def record_consents_in_bulk() -> Any:
    return created(bulk.record_events(current_call(), json_body()))


@bp.get("/consents/totals")
def consent_totals() -> Any:
    return jsonify(totals.totals(current_call(), request.args.get("from"), request.args.get("to")))


@bp.get("/consents/<event_id>/receipt")
def consent_receipt(event_id: str) -> Any:
    return jsonify(receipts.receipt(current_call(), event_id))


@bp.get("/consents/<event_id>/receipt/pdf")
def consent_receipt_pdf(event_id: str) -> Response:
    data = receipts.receipt(current_call(), event_id)
    response = Response(receipt_pdf(data), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="receipt-{event_id}.pdf"'
    return response


@bp.get("/reports/consent")
def consent_report() -> Response:
    from governance.services.auditlog.views import period
    from governance.services.consent.report import consent_report_pdf

    call = current_call()
    start, end = period(dict(request.args), call.now())
    pdf = consent_report_pdf(call, start, end)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="consent-report.pdf"'
    return response


STRING = {"type": "string"}
MOMENT = {"type": "string", "format": "iso8601"}
CONSENT_PURPOSE = {"enum": purposes().consent_based()}
NULLABLE = {"type": ["string", "null"]}
EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
GPC = {
    "name": "Sec-GPC",
    "in": "header",
    "schema": {"type": "string", "enum": ["1"]},
    "description": "Global Privacy Control: 1 also records an opt-out of sale_or_sharing",
}
SCHEMAS: dict[str, Any] = {
    "ConsentEventInput": {
        "type": "object",
        "required": ["purpose", "action", "source"],
        "additionalProperties": False,
        "properties": {
            "purpose": STRING,
            "action": {"enum": list(ledger.ACTIONS)},
            "source": {"enum": list(ledger.SOURCES)},
            "notice_version": {
                "type": "string",
                "description": "required for grant and refuse, optional for withdraw",
            },
            "channel": STRING,
            "evidence_ref": {"type": "string", "maxLength": 200},
            "occurred_at": {"type": "string", "format": "date-time", "description": "not future"},
        },
    },
    "ConsentEvent": {
        "type": "object",
        "properties": {
            "id": STRING,
            "customer_id": STRING,
            "purpose": STRING,
            "action": {"enum": list(ledger.ACTIONS)},
            "source": {"enum": list(ledger.SOURCES)},
            "notice_version": NULLABLE,
            "channel": NULLABLE,
            "evidence_ref": NULLABLE,
            "occurred_at": STRING,
            "recorded_at": STRING,
            "expires_at": NULLABLE,
            "changed": {"type": "boolean", "description": "false: recorded, state unchanged"},
            "note": STRING,
            "related": {"type": "array", "items": ref("ConsentEvent")},
        },
    },
    "ConsentState": {
        "type": "object",
        "properties": {
            "purposes": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "state": {"enum": list(ledger.DERIVED)},
                        "since": NULLABLE,
                        "notice_version": NULLABLE,
                    },
                },
            },
            "events": {"type": "array", "items": ref("ConsentEvent")},
            "objections": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ConsentBulkInput": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": ledger.MAX_BULK,
                "items": {"allOf": [ref("ConsentEventInput")], "required": ["customer_id"]},
            }
        },
    },
    "Notice": {
        "type": "object",
        "properties": {
            "version": STRING,
            "effective_at": STRING,
            "text_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "purposes": {"type": "array", "items": STRING},
            "widens": {"type": "array", "items": STRING},
            "url": NULLABLE,
            "consent_lifetime_days": {"type": ["integer", "null"]},
        },
    },
    "NoticeInput": {
        "type": "object",
        "required": ["version", "text", "purposes"],
        "properties": {
            "version": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"},
            "text": {"type": "string", "minLength": 1, "maxLength": 100000, "pattern": NONBLANK},
            "url": {"type": "string", "pattern": "^https://[^\\s]+$", "maxLength": 500},
            "purposes": {"type": "array", "minItems": 1, "items": CONSENT_PURPOSE},
            "widens": {
                "type": "array",
                "items": CONSENT_PURPOSE,
                "description": "purposes this version adds or widens (asked for too)",
            },
            "effective_at": {"type": "string", "format": "date-time"},
            "consent_lifetime_days": {"type": "integer", "minimum": 1, "maximum": 36500},
        },
    },
    "ObjectionInput": {
        "type": "object",
        "required": ["kind", "action"],
        "properties": {
            "kind": {"enum": ["objection", "restriction"]},
            "action": {"enum": ["record", "lift"]},
            "purpose": NULLABLE,
            "reason": STRING,
            "request_ref": STRING,
        },
    },
    "ConsentReceipt": {
        "type": "object",
        "description": "Verify offline: python -m audit receipt FILE --public-key KEY.pem",
        "properties": {
            "event": ref("ConsentEvent"),
            "leaf": STRING,
            "leaf_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "inclusion": {
                "type": "object",
                "properties": {
                    "leaf_index": {"type": "integer"},
                    "tree_size": {"type": "integer"},
                    "proof": {"type": "array", "items": STRING},
                },
            },
            "checkpoint": ref("Checkpoint"),
        },
    },
}
register_operations(
    {
        "/purposes": {"get": op("Purposes: lawful basis, fields, roles (purposes.yaml)")},
        "/notices": {
            "get": op("Privacy notice versions (`items`)"),
            "post": op(
                "Publish a notice version",
                json_ok("Notice", "Created"),
                "NoticeInput",
                status="201",
            ),
        },  # fmt: skip
        "/customers/{customer_id}/consents": {
            "get": op(
                "A customer's consent state and history", json_ok("ConsentState"), params=[ID]
            ),
            "post": op(
                "Record a consent event (grant, withdraw, refuse)",
                json_ok("ConsentEvent", "Created"),
                "ConsentEventInput",
                params=[ID, GPC],
                status="201",
            ),
        },  # fmt: skip
        "/customers/{customer_id}/objections": {
            "post": op(
                "Record or lift an objection or a restriction of processing",
                body="ObjectionInput",
                params=[ID],
                status="201",
            ),
        },  # fmt: skip
        "/consents": {
            "post": op(
                "Record consent events in bulk (up to 1000)", body="ConsentBulkInput", status="201"
            ),
        },  # fmt: skip
        "/consents/totals": {
            "get": op(
                "Totals per purpose and notice version by month",
                params=[{"name": n, "in": "query", "schema": MOMENT} for n in ("from", "to")],
            )
        },
        "/consents/{event_id}/receipt": {
            "get": op(
                "Receipt of a consent event: leaf, inclusion proof, signed checkpoint "
                "(409 with Retry-After until integrated)",
                json_ok("ConsentReceipt"),
                params=[EVENT_ID],
            ),
        },  # fmt: skip
        "/reports/consent": {
            "get": op(
                "Consent report (PDF): per purpose by month, notices in force",
                {"description": "PDF", "content": {"application/pdf": {}}},
                params=[{"name": n, "in": "query", "schema": MOMENT} for n in ("from", "to")],
            ),
        },  # fmt: skip
        "/consents/{event_id}/receipt/pdf": {
            "get": op(
                "Receipt of a consent event (one-page PDF)",
                {"description": "PDF", "content": {"application/pdf": {}}},
                params=[EVENT_ID],
            ),
        },  # fmt: skip
    },
    SCHEMAS,
)
