"""Breach response API: incidents, their workflow, notification tasks, the affected-subject
analysis, containment and the documents (see services/breach)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from governance.api import bp, created, json_body, require_recent_password
from governance.api.openapi import PDF, json_ok, op, ref, register_operations
from governance.extensions import db
from governance.services.breach import analysis, containment, documents, incidents, tasks
from governance.web.edge import current_call
from governance.web.responses import accepted, pdf_response


@bp.post("/incidents")
def create_incident() -> Any:
    call = current_call()
    incident = incidents.create(call, json_body())
    return created(incidents.describe(call, incident))


@bp.get("/incidents")
def list_incidents() -> Any:
    call = current_call()
    state = request.args.get("state") or None
    found = incidents.listing(call, state)
    return jsonify({"items": [incidents.describe(call, i) for i in found]})


@bp.get("/incidents/<incident_id>")
def get_incident(incident_id: str) -> Any:
    call = current_call()
    return jsonify(incidents.describe(call, incidents.get(call, incident_id), full=True))


@bp.patch("/incidents/<incident_id>")
def update_incident(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.update(call, incidents.get(call, incident_id), json_body())
    return jsonify(incidents.describe(call, incident))


@bp.post("/incidents/<incident_id>/transitions")
def transition_incident(incident_id: str) -> Any:
    call = current_call()
    body = json_body()
    body = body if isinstance(body, dict) else {}
    incident = incidents.get(call, incident_id)
    incidents.transition(call, incident, body.get("to"), body.get("note", ""))
    return jsonify(incidents.describe(call, incident))


@bp.get("/incidents/<incident_id>/tasks")
def incident_tasks(incident_id: str) -> Any:
    call = current_call()
    return jsonify({"items": tasks.items(call, incidents.get(call, incident_id))})


@bp.post("/incidents/<incident_id>/tasks/<regime>/<target>")
def complete_task(incident_id: str, regime: str, target: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    tasks.complete(call, incident, regime, target, json_body())
    return jsonify({"items": tasks.items(call, incident)})


@bp.post("/incidents/<incident_id>/analyses")
def analyse_incident(incident_id: str) -> Any:
    call = current_call()
    body = json_body()
    scope = body.get("scope") if isinstance(body, dict) else None
    job = analysis.submit(call, incidents.get(call, incident_id), scope)
    db.session.commit()  # the queued job is visible to workers at once
    return accepted(job, f"/api/v1/jobs/{job.id}")


@bp.post("/incidents/<incident_id>/containment")
def contain_incident(incident_id: str) -> Any:
    require_recent_password()
    call = current_call()
    body = json_body()
    body = body if isinstance(body, dict) else {}
    done = containment.act(
        call, incidents.get(call, incident_id), body.get("action"), body.get("target")
    )
    return jsonify(done)


@bp.get("/incidents/<incident_id>/documents/authority-notice")
def authority_notice(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    pdf = documents.authority_notice(call, incident, request.args.get("regime", ""))
    return pdf_response(pdf, f"authority-notice-{incident.id}.pdf", frozen_ok=True)


@bp.get("/incidents/<incident_id>/documents/individual-notice")
def individual_notice(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    pdf = documents.individual_notice(
        call, incident, request.args.get("customer_id", ""), request.args.get("language")
    )
    return pdf_response(pdf, f"individual-notice-{incident.id}.pdf", frozen_ok=True)


@bp.get("/incidents/<incident_id>/documents/incident-report")
def incident_report(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    return pdf_response(
        documents.incident_report(call, incident), "incident-report.pdf", frozen_ok=True
    )


@bp.post("/incidents/<incident_id>/notices")
def generate_notices(incident_id: str) -> Any:
    call = current_call()
    job = documents.submit_notices(call, incidents.get(call, incident_id))
    db.session.commit()  # the queued job is visible to workers at once
    return accepted(job, f"/api/v1/jobs/{job.id}")


@bp.get("/incidents/<incident_id>/notices/zip")
def download_notices(incident_id: str) -> Any:
    from flask import Response

    call = current_call()
    data = documents.notices_zip(call, incidents.get(call, incident_id))
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="notices/zip"'
    return response


@bp.get("/reports/breach-register")
def breach_register() -> Any:
    return pdf_response(
        documents.breach_register(current_call()), "breach-register.pdf", frozen_ok=True
    )


ID = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "string"}}
TIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string", "maxLength": 20000}
TASK = {
    "type": "object",
    "required": ["regime", "target", "due_at", "state", "overdue"],
    "properties": {
        "regime": {"type": "string"},
        "target": {"enum": ["authority", "individuals", "other"]},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "state": {"enum": ["open", "done"]},
        "overdue": {"type": "boolean"},
    },
}
TASKS = {"type": "object", "properties": {"items": {"type": "array", "items": TASK}}}


def _with(
    spec: dict[str, Any],
    *params: dict[str, Any],
    accepted_job: bool = False,
    status: str | None = None,
) -> dict[str, Any]:
    spec["parameters"] = [ID, *params]
    if accepted_job:
        ok = json_ok("Job", "Accepted: the job (follow it at Location)")
        ok["headers"] = {"Location": {"schema": {"type": "string"}}}
        spec["responses"] = {"202": ok}
    return spec


def _q(name: str, schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


register_operations(
    {
        "/incidents": {
            "post": op(
                "Record an incident (state detected)",
                json_ok("Incident"),
                body="IncidentInput",
                status="201",
            ),
            "get": op(
                "Every incident, newest first",
                json_ok("Incidents"),
                params=[_q("state", {"enum": list(incidents.NEXT)}, required=False)],
            ),
        },
        "/incidents/{incident_id}": {
            "get": _with(op("An incident with its timeline", json_ok("Incident"))),
            "patch": _with(
                op("Change an incident's facts", json_ok("Incident"), body="IncidentPatch")
            ),
        },
        "/incidents/{incident_id}/transitions": {
            "post": _with(
                op(
                    "Move to the next state (no skipping; reopen a closed one)",
                    json_ok("Incident"),
                    body="TransitionInput",
                )
            ),
        },
        "/incidents/{incident_id}/tasks": {
            "get": _with(op("Notification tasks with due times", json_ok("NotificationTasks"))),
        },
        "/incidents/{incident_id}/tasks/{regime}/{target}": {
            "post": _with(
                op(
                    "Complete a notification task",
                    json_ok("NotificationTasks"),
                    body="TaskCompletionInput",
                ),
                {"name": "regime", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "target",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["authority", "individuals", "other"]},
                },
            ),
        },
        "/incidents/{incident_id}/analyses": {
            "post": _with(
                op("Find the affected customers (a job)", body="AnalysisInput"), accepted_job=True
            ),
        },
        "/incidents/{incident_id}/containment": {
            "post": _with(
                op(
                    "A containment action, audited and linked to the incident",
                    {
                        "description": "what was done",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    body="ContainmentInput",
                )
            ),
        },
        "/incidents/{incident_id}/documents/authority-notice": {
            "get": _with(
                op("The authority notification (PDF)", PDF),
                _q("regime", {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,31}$"}),
            ),
        },
        "/incidents/{incident_id}/documents/individual-notice": {
            "get": _with(
                op("The notice to one affected person (PDF)", PDF),
                _q("customer_id", {"type": "string", "format": "uuid"}),
                _q("language", {"enum": ["en", "zh"]}, required=False),
            ),
        },
        "/incidents/{incident_id}/documents/incident-report": {
            "get": _with(op("The internal incident report with its timeline (PDF)", PDF)),
        },
        "/incidents/{incident_id}/notices": {
            "post": _with(op("Generate every affected person's notice (a job)"), accepted_job=True),
        },
        "/incidents/{incident_id}/notices/zip": {
            "get": _with(
                op(
                    "The generated notices as one ZIP (audited)",
                    {"description": "ZIP", "content": {"application/zip": {}}},
                )
            ),
        },
        "/reports/breach-register": {"get": op("The breach register (PDF)", PDF)},
    },
    {
        "Incident": {
            "type": "object",
            "required": ["id", "state"],
            "properties": {"id": {"type": "string"}, "state": {"type": "string"}},
        },
        "Incidents": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref("Incident")}},
        },
        "NotificationTasks": TASKS,
        "IncidentInput": {
            "type": "object",
            "required": ["title", "detected_at", "aware_at"],
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": TEXT,
                "detected_at": TIME,
                "aware_at": TIME,
                "customer_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
            },
        },
        "IncidentPatch": {
            "type": "object",
            "properties": {
                **{name: TEXT for name in incidents.TEXT_FIELDS},
                **{name: {"type": "boolean"} for name in incidents.FLAGS},
                **{
                    name: {"type": "array", "items": {"type": "string", "minLength": 1}}
                    for name in incidents.LISTS
                },
                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                "risk": {"enum": ["unlikely", "risk", "high", None]},
                "approx_records": {"type": ["integer", "null"], "minimum": 0},
                "detected_at": TIME,
                "aware_at": TIME,
            },
            "additionalProperties": False,
        },
        "TransitionInput": {
            "type": "object",
            "required": ["to"],
            "properties": {"to": {"enum": list(incidents.NEXT)}, "note": TEXT},
        },
        "TaskCompletionInput": {
            "type": "object",
            "required": ["completed_at", "channel", "reference"],
            "properties": {
                "completed_at": TIME,
                "channel": {"type": "string", "minLength": 1, "maxLength": 64},
                "reference": {"type": "string", "minLength": 1, "maxLength": 2000},
                "late_reasons": TEXT,
            },
        },
        "AnalysisInput": {
            "type": "object",
            "required": ["scope"],
            "properties": {"scope": {"type": "object"}},
        },
        "ContainmentInput": {
            "type": "object",
            "required": ["action"],
            "properties": {
                "action": {"enum": list(containment.ACTIONS)},
                "target": {"type": "string"},
            },
        },
    },
)
