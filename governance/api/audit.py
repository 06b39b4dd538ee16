"""The audit log for auditors and DPOs: entries, checkpoints, proofs, public key, verification."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request

from audit.verify import VerifyError
from governance.api import bp, created
from governance.api.openapi import register_operations
from governance.extensions import db
from governance.services import audit_views
from governance.web import current_call


@bp.get("/audit/entries")
def audit_entries() -> Any:
    return jsonify(audit_views.list_entries(db.session, dict(request.args)))


@bp.get("/audit/checkpoints")
def audit_checkpoints() -> Any:
    return jsonify({"items": audit_views.list_checkpoints(db.session)})


@bp.post("/audit/checkpoints")
def audit_checkpoint_now() -> Any:
    call = current_call()
    call.audit.record(call.session, call.actor, "audit.checkpoint", now=call.now(),
                      resource="audit")  # fmt: skip
    checkpoint = call.audit.checkpoint(call.session, call.now())
    db.session.commit()
    return created(checkpoint.to_json())


@bp.get("/audit/proof/inclusion")
def audit_inclusion_proof() -> Any:
    args = request.args
    return jsonify(audit_views.inclusion(db.session, args.get("seq"), args.get("tree_size")))


@bp.get("/audit/proof/consistency")
def audit_consistency_proof() -> Any:
    args = request.args
    return jsonify(audit_views.consistency(db.session, args.get("first"), args.get("second")))


@bp.get("/audit/public-key")
def audit_public_key() -> Response:
    return Response(audit_views.public_pem(current_call()), mimetype="application/x-pem-file")


@bp.post("/audit/verify")
def audit_verify() -> Any:
    call = current_call()
    try:
        report = audit_views.verify_live(call)
    except VerifyError as exc:
        return jsonify({"ok": False, "error": str(exc), "seq": exc.seq,
                        "tree_size": exc.tree_size})  # fmt: skip
    db.session.commit()
    return jsonify(audit_views.report_json(report))


@bp.get("/audit/export")
def audit_export() -> Response:
    sink = io.StringIO()
    audit_views.export(current_call(), sink, datetime.now(UTC))
    response = Response(sink.getvalue(), mimetype="application/jsonl")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-export.jsonl"'
    return response


HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CHECKPOINT = {
    "type": "object",
    "properties": {
        "tree_size": {"type": "integer"},
        "root_hash": HEX,
        "timestamp": {"type": "string"},
        "signature": {"type": "string", "description": "base64 Ed25519 over the checkpoint text"},
        "key_id": {"type": "string"},
    },
}


def _op(summary: str, params: list[str] | None = None, public: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": "OK"}}}
    if params:
        spec["parameters"] = [{"name": p, "in": "query", "schema": {"type": "string"}}
                              for p in params]  # fmt: skip
    if public:
        spec["security"] = []
    return spec


register_operations(
    {
        "/audit/entries": {
            "get": _op(
                "Audit entries (seq, fields, leaf, leaf_hash); filters",
                ["from", "to", "actor", "subject", "action", "after", "limit"],
            )
        },  # fmt: skip
        "/audit/checkpoints": {
            "get": _op("Signed checkpoints (tree_size, root_hash, timestamp, signature, key_id)"),
            "post": _op("Issue a signed checkpoint now"),
        },
        "/audit/proof/inclusion": {"get": _op("RFC 9162 inclusion proof", ["seq", "tree_size"])},
        "/audit/proof/consistency": {"get": _op("RFC 9162 consistency proof", ["first", "second"])},
        "/audit/public-key": {"get": _op("Checkpoint signing key (PEM)", public=True)},
        "/audit/verify": {"post": _op("Verify the live log against its signed checkpoints")},
        "/audit/export": {"get": _op("Export entries, checkpoints and the public key (JSONL)")},
    },
    {"Checkpoint": CHECKPOINT},
)
