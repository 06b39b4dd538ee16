"""Key management API: KEK status and rotation (admin only; see policies/policy.csv).

``POST /keys/rotate`` adds a KEK version and queues the re-wrap job (``keys.rotate``); a worker
runs it and ``GET /jobs/{id}`` follows it. Nothing here ever returns key material: versions,
states, fingerprint prefixes and counts only.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from governance.api import bp, require_recent_password
from governance.api.openapi import json_ok, op, ref, register_operations
from governance.services.jobs import queue as jobs
from governance.services.keys import rotation as keys
from governance.web.edge import current_call


@bp.get("/keys")
def keys_status() -> Any:
    return jsonify(keys.status(current_call()))


@bp.post("/keys/rotate")
def keys_rotate() -> Any:
    require_recent_password()
    job = keys.rotate(current_call())
    response = jsonify(jobs.describe(job))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


KEY_VERSION = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "current": {"type": "boolean", "description": "new data keys are wrapped by it"},
        "state": {
            "enum": ["active", "retired", "missing"],
            "description": "missing: recorded or used in the database but not in the key source",
        },
        "fingerprint": {
            "type": ["string", "null"],
            "description": "first 16 hex digits of HMAC-SHA256(KEK, label); reveals nothing",
        },
        "data_keys": {"type": "integer", "description": "data keys wrapped by this version"},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "retired_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
ROTATE = op(
    "Rotate the master key: add a KEK version to the key file and queue the re-wrap job",
    json_ok("Job", "Accepted: the re-wrap job (follow it at /jobs/{id})"),
    status="202",
)
ROTATE["description"] = (
    "A console session must have entered the password within GOVERNANCE_REAUTH_MINUTES "
    "(401 reauth-required otherwise)."
)
ROTATE["responses"]["409"] = {
    "description": "the key is set by GOVERNANCE_MASTER_KEY (add the version there and run "
    "`governance keys rewrap`), or a rotation is already in progress",
    "content": {"application/problem+json": {"schema": ref("Problem")}},
}
register_operations(
    {
        "/keys": {
            "get": op(
                "KEK versions: state, fingerprint prefix, data keys each wraps; last rotation",
                json_ok("KeyStatus"),
            )
        },
        "/keys/rotate": {"post": ROTATE},
    },
    {
        "KeyStatus": {
            "type": "object",
            "properties": {
                "source": {"enum": ["key file", "GOVERNANCE_MASTER_KEY"]},
                "current": {"type": "integer"},
                "versions": {"type": "array", "items": KEY_VERSION},
                "data_keys": {"type": "integer"},
                "pending_rewrap": {
                    "type": "integer",
                    "description": "data keys not yet under the current version",
                },
                "rotation": {"oneOf": [ref("Job"), {"type": "null"}]},
            },
        }
    },
)
