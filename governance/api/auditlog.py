"""The audit log for auditors and DPOs: entries, checkpoints, RFC 9162 proofs, key, verification.

Shapes are fixed so a third-party verifier can check us: hashes are lowercase hex, signatures
base64 Ed25519 over the checkpoint text in ``audit.checkpoint``. Nobody writes entries here.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from audit.verify import VerifyError
from governance.api import bp, created
from governance.api.openapi import TEXT as PLAIN
from governance.api.openapi import ref, register_operations
from governance.extensions import db
from governance.services.auditlog import views as audit_views
from governance.web.edge import current_call
from governance.web.responses import audit_export_response


@bp.get("/audit/entries")
def audit_entries() -> Any:
    return jsonify(audit_views.list_entries(db.session(), dict(request.args)))


@bp.get("/audit/checkpoints")
def audit_checkpoints() -> Any:
    return jsonify({"items": audit_views.list_checkpoints(db.session())})


@bp.post("/audit/checkpoints")
def audit_checkpoint_now() -> Any:
    checkpoint = audit_views.checkpoint_now(current_call())
    return created(checkpoint.to_json())


@bp.get("/audit/proof/inclusion")
def audit_inclusion_proof() -> Any:
    args = request.args
    return jsonify(audit_views.inclusion(db.session(), args.get("seq"), args.get("tree_size")))


@bp.get("/audit/proof/consistency")
def audit_consistency_proof() -> Any:
    args = request.args
    return jsonify(audit_views.consistency(db.session(), args.get("first"), args.get("second")))


@bp.get("/audit/public-key")
def audit_public_key() -> Response:
    return Response(audit_views.public_pem(current_call()), mimetype="application/x-pem-file")


@bp.post("/audit/verify")
def audit_verify() -> Any:
    call = current_call()
    try:
        report = audit_views.verify_live(call)
    except VerifyError as exc:
        return jsonify(audit_views.failure_json(exc))
    return jsonify(audit_views.report_json(report))


@bp.get("/audit/export")
def audit_export() -> Response:
    return audit_export_response()


HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
HEXES = {"type": "array", "items": HEX}
TEXT = {"type": ["string", "null"]}
SCHEMAS: dict[str, Any] = {
    "Checkpoint": {
        "type": "object",
        "properties": {
            "tree_size": {"type": "integer"},
            "root_hash": HEX,
            "timestamp": {"type": "string", "description": "RFC 3339 UTC, microseconds, Z"},
            "signature": {"type": "string", "description": "base64 Ed25519 over the text"},
            "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        },
    },
    "AuditEntry": {
        "type": "object",
        "description": "The fields as hashed; `leaf` is the exact canonical JSON leaf.",
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            **{
                k: TEXT
                for k in (
                    "actor_id",
                    "actor_role",
                    "resource",
                    "subject_id",
                    "purpose",
                    "request_id",
                    "client",
                )
            },  # fmt: skip
            "timestamp": {"type": "string"},
            "actor_type": {"enum": ["user", "service", "system", "anonymous"]},
            "action": {"type": "string"},
            "outcome": {"enum": ["allowed", "denied", "failed"]},
            "details": {"type": "object"},
            "leaf": {"type": "string"},
            "leaf_hash": HEX,
        },
    },
    "AuditEntryPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("AuditEntry")},
            "next_after": {"type": ["integer", "null"], "description": "pass as `after`"},
            "tree_size": {"type": "integer"},
        },
    },
    "InclusionProof": {
        "type": "object",
        "properties": {
            "leaf_index": {"type": "integer"},
            "tree_size": {"type": "integer"},
            "leaf_hash": HEX,
            "root_hash": HEX,
            "proof": HEXES,
        },
    },  # fmt: skip
    "ConsistencyProof": {
        "type": "object",
        "properties": {
            "first": {"type": "integer"},
            "second": {"type": "integer"},
            "first_root": HEX,
            "second_root": HEX,
            "proof": HEXES,
        },
    },  # fmt: skip
    "VerifyResult": {
        "type": "object",
        "description": "ok, or the first bad entry (seq) or checkpoint (tree_size) and why",
        "properties": {
            "ok": {"type": "boolean"},
            "error": {"type": "string"},
            "seq": {"type": ["integer", "null"]},
            "tree_size": {"type": "integer"},
            "root_hash": HEX,
            "checkpoints_verified": {"type": "integer"},
            "unsigned_entries": {"type": "integer"},
            "key_id": {"type": "string"},
        },
    },  # fmt: skip
}


# What each query parameter accepts (the server answers 422 otherwise).
COUNT = r"^[0-9]{1,18}$"
PARAMS: dict[str, dict[str, Any]] = {
    "from": {"type": "string", "format": "iso8601"},
    "to": {"type": "string", "format": "iso8601"},
    "after": {"type": "string", "pattern": COUNT},
    "limit": {"type": "string", "pattern": r"^(?:[1-9][0-9]{0,2}|1000)$"},
    "seq": {"type": "string", "pattern": r"^[1-9][0-9]{0,17}$"},
    "first": {"type": "string", "pattern": r"^[1-9][0-9]{0,17}$"},
    "tree_size": {"type": "string", "pattern": r"^[1-9][0-9]{0,17}$"},
    "second": {"type": "string", "pattern": r"^[1-9][0-9]{0,17}$"},
}
REQUIRED = frozenset({"seq", "first"})


def _param(name: str) -> dict[str, Any]:
    schema = PARAMS.get(name, {"type": "string", "pattern": PLAIN})
    return {"name": name, "in": "query", "required": name in REQUIRED, "schema": schema}


def _op(summary: str, schema: str | None = None, params: tuple[str, ...] = (), status: str = "200",
        media: str = "application/json", public: bool = False) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"schema": ref(schema)} if schema else {}
    spec: dict[str, Any] = {
        "summary": summary,
        "responses": {status: {"description": "OK", "content": {media: body}}},
    }
    if params:
        # the server refuses control characters in any parameter (422): the document says so
        spec["parameters"] = [_param(p) for p in params]
    if public:
        spec["security"] = []
    return spec


register_operations(
    {
        "/audit/entries": {
            "get": _op(
                "Audit entries with seq, fields, leaf and leaf_hash (seq order)",
                "AuditEntryPage",
                ("from", "to", "actor", "subject", "action", "after", "limit"),
            )
        },  # fmt: skip
        "/audit/checkpoints": {
            "get": _op("Signed checkpoints, oldest first (`items`)"),
            "post": _op("Sign a checkpoint now", "Checkpoint", status="201"),
        },
        "/audit/proof/inclusion": {
            "get": _op("RFC 9162 inclusion proof", "InclusionProof", ("seq", "tree_size"))
        },
        "/audit/proof/consistency": {
            "get": _op("RFC 9162 consistency proof", "ConsistencyProof", ("first", "second"))
        },
        "/audit/public-key": {
            "get": _op("Checkpoint signing key (PEM)", media="application/x-pem-file", public=True)
        },
        "/audit/verify": {
            "post": _op("Verify the live log and its signed checkpoints", "VerifyResult")
        },  # fmt: skip
        "/audit/export": {
            "get": _op(
                "Export: header, checkpoints, entries (JSON Lines), freshly signed",
                media="application/jsonl",
            )
        },  # fmt: skip
    },
    SCHEMAS,
)
