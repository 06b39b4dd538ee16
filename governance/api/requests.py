"""Data-subject requests: receipt, transitions, extension, the export and the certificate."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from governance.api import bp, created, json_body
from governance.api.openapi import json_ok, op, register_operations
from governance.services.requests import certificate, exports, workflow
from governance.web.edge import current_call


@bp.get("/requests")
def list_requests() -> Any:
    return jsonify({"items": workflow.queue(current_call(), request.args.get("state"))})


@bp.post("/requests")
def create_request() -> Any:
    doc = workflow.create(current_call(), json_body())
    response = created(doc)
    response.headers["Location"] = f"/api/v1/requests/{doc['id']}"
    return response


@bp.get("/requests/<request_id>")
def get_request(request_id: str) -> Any:
    call = current_call()
    found = workflow.load(call, request_id)
    doc = workflow.describe(found, call.now(), history=True)
    doc["export"] = exports.describe_export(exports.latest(call, found.id))
    return jsonify(doc)


@bp.post("/requests/<request_id>/transition")
def transition_request(request_id: str) -> Any:
    return jsonify(workflow.transition(current_call(), request_id, json_body()))


@bp.post("/requests/<request_id>/extend")
def extend_request(request_id: str) -> Any:
    return jsonify(workflow.extend(current_call(), request_id, json_body()))


@bp.get("/requests/<request_id>/export")
def download_export(request_id: str) -> Any:
    call = current_call()
    content, name = exports.download(call, workflow.load(call, request_id))
    return Response(content, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})  # fmt: skip


@bp.get("/requests/<request_id>/certificate")
def get_certificate(request_id: str) -> Any:
    return jsonify(certificate.certificate(current_call(), request_id))


ID = {"name": "request_id", "in": "path", "required": True,
      "schema": {"type": "string", "format": "uuid"}}  # fmt: skip
STAMP = {"type": "string", "format": "date-time"}
NULLABLE = {"type": ["string", "null"]}
REGIMES = ["GDPR", "UK_GDPR", "CCPA", "PIPL", "NY_SHIELD"]
register_operations(
    {
        "/requests": {
            "get": op("Data-subject requests by due date, with their clocks",
                      params=[{"name": "state", "in": "query", "schema": {"enum": [
                          "open", "received", "verifying", "in_progress", "completed",
                          "refused"]}}]),
            "post": op("Record a data-subject request", json_ok("SubjectRequest", "Created"),
                       "SubjectRequestInput", status="201"),
        },
        "/requests/{request_id}": {
            "get": op("A request with its history and export", json_ok("SubjectRequest"),
                      params=[ID])
        },
        "/requests/{request_id}/transition": {
            "post": op("Move a request on (received -> verifying -> in_progress -> completed, "
                       "or refused with reasons)", json_ok("SubjectRequest"),
                       "TransitionInput", params=[ID])
        },
        "/requests/{request_id}/extend": {
            "post": op("Extend the deadline (reason, date the person was told)",
                       json_ok("SubjectRequest"), "ExtendInput", params=[ID])
        },
        "/requests/{request_id}/export": {
            "get": op("Download the export once, before it expires (410 after)",
                      {"description": "ZIP", "content": {"application/zip": {}}}, params=[ID])
        },
        "/requests/{request_id}/certificate": {
            "get": op("Erasure certificate (409 unless a completed erasure)",
                      json_ok("ErasureCertificate"), params=[ID])
        },
    },
    {
        "SubjectRequestInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "subject"],
            "properties": {
                "kind": {"enum": ["access", "rectification", "portability", "erasure",
                                  "restriction", "objection"]},
                "subject": {"type": "object", "minProperties": 1, "maxProperties": 1,
                            "additionalProperties": False, "properties": {
                                "email": {"type": "string", "format": "email"},
                                "phone": {"type": "string", "format": "phone"},
                                "national_id": {"type": "string", "format": "national-id"}}},
                "jurisdiction": {"enum": REGIMES},
                "received_at": STAMP,
                "owner": {"type": "string", "minLength": 1, "maxLength": 200},
                "verification": {"type": "string", "minLength": 1, "maxLength": 2000},
                "changes": {"type": "object"},
                "purpose": {"type": "string", "minLength": 1, "maxLength": 64},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
        },
        "TransitionInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["to"],
            "properties": {
                "to": {"enum": ["verifying", "in_progress", "completed", "refused"]},
                "verification": {"type": "string", "minLength": 1, "maxLength": 2000},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
                "note": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
        },
        "ExtendInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reason", "told_at"],
            "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
                "told_at": STAMP,
                "until": STAMP,
            },
        },
        "SubjectRequest": {
            "type": "object",
            "properties": {
                "id": {"type": "string"}, "kind": {"type": "string"},
                "state": {"type": "string"}, "outcome": NULLABLE,
                "jurisdiction": NULLABLE, "due_at": STAMP, "received_at": STAMP,
                "overdue": {"type": "boolean"}, "due_soon": {"type": "boolean"},
            },
        },
        "ErasureCertificate": {
            "type": "object",
            "properties": {
                "leaf": {"type": "string"}, "leaf_hash": {"type": "string"},
                "inclusion": {"type": "object"}, "checkpoint": {"type": "object"},
            },
        },
    },
)  # fmt: skip
