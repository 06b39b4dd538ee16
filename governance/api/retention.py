"""Retention API: rules, the plan (dry run), sweeps (jobs) and legal holds."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from governance.api import bp, created, json_body
from governance.api.openapi import json_ok, op, register_operations
from governance.services.jobs import queue as jobs
from governance.services.retention import holds, sweep
from governance.services.retention import rules as retention_rules
from governance.web.edge import current_call


@bp.get("/retention/rules")
def retention_rules_list() -> Any:
    return jsonify({"rules": [vars(r) for r in retention_rules.current().rules]})


@bp.get("/retention/plan")
def retention_plan() -> Any:
    return jsonify(sweep.plan(current_call()))


@bp.get("/retention/runs")
def retention_runs() -> Any:
    return jsonify({"items": sweep.runs(current_call())})


@bp.post("/retention/runs")
def retention_run() -> Any:
    job = sweep.start(current_call())
    response = jsonify(jobs.describe(job))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return response


@bp.get("/holds")
def list_holds() -> Any:
    return jsonify({"items": holds.list_holds(current_call())})


@bp.post("/holds")
def place_hold() -> Any:
    return created(holds.place(current_call(), json_body()))


@bp.post("/holds/<hold_id>/release")
def release_hold(hold_id: str) -> Any:
    return jsonify(holds.release(current_call(), hold_id))


HOLD_ID = {"name": "hold_id", "in": "path", "required": True,
           "schema": {"type": "string", "format": "uuid"}}  # fmt: skip
STAMP = {"type": ["string", "null"], "format": "date-time"}
register_operations(
    {
        "/retention/rules": {"get": op("Retention rules in force (retention.yaml)")},
        "/retention/plan": {
            "get": op(
                "Dry run: per rule what has expired, examples, reason; changes nothing",
                json_ok("RetentionPlan"),
            )  # fmt: skip
        },
        "/retention/runs": {
            "get": op("Latest retention sweeps (jobs)"),
            "post": op(
                "Start a retention sweep (a job)", json_ok("Job", "Accepted"), status="202"
            ),  # fmt: skip
        },
        "/holds": {
            "get": op("Legal holds in force", json_ok("HoldList")),
            "post": op(
                "Place a legal hold on a customer or a category",
                json_ok("Hold", "Created"),
                "HoldInput",
                status="201",
            ),  # fmt: skip
        },
        "/holds/{hold_id}/release": {
            "post": op("Release a legal hold", json_ok("Hold"), params=[HOLD_ID])
        },
    },
    {
        "RetentionPlan": {
            "type": "object",
            "properties": {
                "rules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "rule": {"type": "string"},
                            "category": {"type": "string"},
                            "action": {"type": "string"},
                            "count": {"type": "integer"},
                            "examples": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },  # fmt: skip
                "on_hold": {"type": "integer"},
            },
        },
        "HoldInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reason"],
            "properties": {
                "customer_id": {"type": "string", "format": "uuid"},
                "category": {"enum": list(retention_rules.CATEGORIES)},
                "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
                "owner": {"type": "string", "minLength": 1, "maxLength": 200},
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
            },
        },
        "Hold": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "customer_id": {"type": ["string", "null"]},
                "category": {"type": ["string", "null"]},
                "reason": {"type": "string"},
                "owner": {"type": "string"},
                "starts_at": STAMP,
                "ends_at": STAMP,
                "released_at": STAMP,
                "active": {"type": "boolean"},
            },
        },  # fmt: skip
        "HoldList": {"type": "object", "properties": {"items": {"type": "array"}}},
    },
)
