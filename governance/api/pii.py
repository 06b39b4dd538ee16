"""PII detection API: analyse or redact a text, engine status, store scans, findings review, and
the PII discovery report. Values are never logged or audited: only entity types, counts and
locations (table, column, record, offsets)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from governance.api import bp, json_body, page_size, query_int
from governance.api.openapi import NONBLANK, json_ok, op, ref, register_operations
from governance.errors import ValidationError
from governance.services.jobs import queue as jobs
from governance.services.pii import review as pii_review
from governance.services.pii import scans as pii_scans
from governance.services.pii import text as pii_text
from governance.web.edge import current_call
from governance.web.responses import pdf_response


@bp.post("/pii/analyze")
def pii_analyze() -> Any:
    result = pii_text.analyze_text(current_call(), json_body())
    return jsonify(result)


@bp.post("/pii/redact")
def pii_redact() -> Any:
    result = pii_text.redact_text(current_call(), json_body())
    return jsonify(result)


@bp.get("/pii/status")
def pii_status() -> Any:
    """What is detected and by which NER model; never loads the model itself."""
    from governance.services.pii import detection as pii

    return jsonify({**pii.engine_status(), "loaded": pii.engine_loaded()})


@bp.get("/pii/scans")
def pii_scans_list() -> Any:
    scans = pii_scans.recent_scans(current_call(), query_int("limit", 20, 1, 100))
    return jsonify({"items": [pii_scans.scan_doc(s) for s in scans]})


@bp.post("/pii/scans")
def pii_scan_start() -> Any:
    body = json_body() if request.get_data() else {}
    if not isinstance(body, dict) or set(body) - {"mode", "since"}:
        raise ValidationError(
            "invalid scan request", [{"field": "", "message": "only mode and since are accepted"}]
        )
    job = pii_scans.submit_scan(current_call(), body.get("mode", "incremental"), body.get("since"))
    response = jsonify(jobs.describe(job))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


@bp.get("/pii/findings")
def pii_findings_list() -> Any:
    filters = {k: v for k, v in request.args.items() if k not in ("cursor", "limit")}
    page = pii_review.list_findings(
        current_call(), filters, cursor=request.args.get("cursor"), limit=page_size()
    )
    return jsonify(page)


@bp.patch("/pii/findings/<finding_id>")
def pii_finding_review(finding_id: str) -> Any:
    body = json_body()
    if not isinstance(body, dict) or set(body) != {"status"}:
        raise ValidationError("invalid review", [{"field": "status", "message": "is required"}])
    row = pii_review.review(current_call(), finding_id, body["status"])
    return jsonify(pii_review.finding_doc(row))


@bp.get("/reports/pii-discovery")
def pii_discovery_report() -> Any:
    pdf = pii_review.discovery_pdf(current_call())
    return pdf_response(pdf, "pii-discovery.pdf")


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]


LANGUAGE = {"enum": ["en", "zh"], "description": "default: zh if the text has CJK ideographs"}
FINDING = {
    "type": "object",
    "properties": {
        "entity_type": {"type": "string"},
        "start": {"type": "integer", "description": "character offset (Unicode code points)"},
        "end": {"type": "integer"},
        "score": {"type": "number"},
    },
}
register_operations(
    {
        "/pii/analyze": {
            "post": op(
                "Find personal data in a text (offsets, never values)",
                json_ok("PiiAnalysis"),
                "PiiTextInput",
            ),
        },
        "/pii/redact": {
            "post": op(
                "Redact personal data: <ENTITY_TYPE> (replace) or masked (mask)",
                json_ok("PiiRedaction"),
                "PiiRedactInput",
            ),
        },
        "/pii/status": {
            "get": op("Active recognisers per language and the NER model (verified or degraded)")
        },
        "/pii/scans": {
            "get": op(
                "Store scans, newest first, with their data inventory", params=_query("limit")
            ),
            "post": {
                **op(
                    "Queue a store scan (a worker runs it)",
                    json_ok("Job", "Accepted"),
                    "PiiScanInput",
                    status="202",
                ),
                "requestBody": {"content": {"application/json": {"schema": ref("PiiScanInput")}}},
            },
        },
        "/pii/findings": {
            "get": op(
                "Findings (locations and types, never values), cursor pagination",
                json_ok("PiiFindingPage"),
                params=_query(
                    "status",
                    "entity_type",
                    "table",
                    "column",
                    "declared",
                    "subject_id",
                    "record_id",
                    "cursor",
                    "limit",
                ),
            ),
        },
        "/pii/findings/{finding_id}": {
            "patch": op(
                "Review a finding (audited pii.review)",
                json_ok("PiiFinding"),
                "PiiReviewInput",
                params=[_path("finding_id")],
            ),
        },
        "/reports/pii-discovery": {
            "get": op(
                "PII discovery report (PDF): inventory, findings, trend, open items",
                {"description": "PDF document", "content": {"application/pdf": {}}},
            ),
        },
    },
    {
        "PiiTextInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "maxLength": 10_000, "pattern": NONBLANK},
                "language": LANGUAGE,
            },
        },
        "PiiRedactInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "maxLength": 10_000, "pattern": NONBLANK},
                "language": LANGUAGE,
                "mode": {"enum": ["replace", "mask"]},
                "field": {
                    "type": "string",
                    "format": "pii-write-field",
                    "description": "a field with a write policy in policies/pii.yaml "
                    "(interactions.note, orders.comment); take the mode from this field's "
                    "write policy (e.g. interactions.note); default replace",
                },
            },
        },
        "PiiFindingSpan": FINDING,
        "PiiAnalysis": {
            "type": "object",
            "properties": {
                "language": {"type": "string"},
                "findings": {"type": "array", "items": ref("PiiFindingSpan")},
            },
        },
        "PiiRedaction": {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "mode": {"type": "string"},
                "language": {"type": "string"},
                "findings": {"type": "array", "items": ref("PiiFindingSpan")},
            },
        },
        "PiiScanInput": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": ["full", "incremental"]},
                "since": {
                    "type": "string",
                    "format": "date-time",
                    "description": "incremental only; default: start of the last successful scan",
                },
            },
        },
        "PiiFinding": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "table": {"type": "string"},
                "column": {"type": "string"},
                "record_id": {"type": "string"},
                "subject_id": {"type": ["string", "null"]},
                "entity_type": {"type": "string"},
                "start": {"type": "integer"},
                "end": {"type": "integer"},
                "score": {"type": "number"},
                "declared": {"type": "boolean"},
                "status": {"enum": ["open", "confirmed", "false_positive", "remediated"]},
            },
        },
        "PiiFindingPage": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": ref("PiiFinding")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        "PiiReviewInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["status"],
            "properties": {
                "status": {"enum": ["open", "confirmed", "false_positive", "remediated"]}
            },
        },
    },
)
