"""Incidents: the record of a personal-data breach and its workflow.

detected → triage → contained → assessed → notified → closed, one step at a time (a closed
incident may be reopened into triage). Each transition is timed, attributed, written to the
incident's timeline and to the audit log in the same transaction. The record holds what the
authority notification needs (GDPR Art. 33(3), PIPL Art. 57): what happened, when it was
detected and when the company became aware (the clocks start there), systems, data categories,
whether encrypted data and/or keys were exposed, cause, containment, consequences, measures and
lessons learned. GDPR Art. 33(5): every breach is documented, notified or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.errors import Conflict, NotFound, ValidationError
from governance.models import Incident, IncidentEvent, IncidentSubject
from governance.models.breach import INCIDENT_STATES
from governance.models.ids import is_id
from governance.services.breach.rules import RISKS
from governance.services.customers.normalise import parse_timestamp

NEXT = {
    "detected": ("triage",),
    "triage": ("contained",),
    "contained": ("assessed",),
    "assessed": ("notified",),
    "notified": ("closed",),
    "closed": ("triage",),  # reopen
}
TEXT_FIELDS = (
    "description",
    "cause",
    "containment",
    "consequences",
    "measures_proposed",
    "lessons_learned",
    "dpo_contact",
)
FLAGS = ("encrypted_exposed", "keys_exposed", "harm_mitigated")
LISTS = ("systems", "data_categories")
MAX_TEXT = 20000


class InvalidTransition(Conflict):
    """A transition that is not the next step of the workflow."""

    slug = "invalid-transition"
    title = "Not the next step of the incident workflow"


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with a Z, as the API writes times."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _time(data: dict[str, Any], name: str, errors: list[dict[str, str]]) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        errors.append({"field": name, "message": "is required (ISO 8601 time)"})
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, AssertionError, OverflowError):  # FieldError is a ValueError
        errors.append({"field": name, "message": "must be an ISO 8601 time"})
    return None


def check_times(call: Call, detected: datetime | None, aware: datetime | None) -> None:
    """422 when awareness precedes detection or either lies in the future."""
    errors: list[dict[str, str]] = []
    now = call.now()
    if detected and detected > now:
        errors.append({"field": "detected_at", "message": "is in the future"})
    if aware and aware > now:
        errors.append({"field": "aware_at", "message": "is in the future"})
    if detected and aware and aware < detected:
        errors.append({"field": "aware_at", "message": "is before detected_at"})
    if errors:
        raise ValidationError("the incident's times are not possible", errors)


def create(call: Call, data: Any) -> Incident:
    """A new incident in state ``detected`` (audited ``incident.create``); not committed.

    ``customer_ids`` (optional) are the affected customers when known at once; their
    notification tasks are created with it.
    """
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object", [{"field": "(body)", "message": "must be an object"}]
        )
    errors: list[dict[str, str]] = []
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        errors.append({"field": "title", "message": "is required (at most 200 characters)"})
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        errors.append({"field": "description", "message": "must be text"})
    detected = _time(data, "detected_at", errors)
    aware = _time(data, "aware_at", errors)
    ids = _customer_ids(data.get("customer_ids"), errors)
    if errors:
        raise ValidationError("the incident is not valid", errors)
    check_times(call, detected, aware)
    assert detected is not None and aware is not None and isinstance(title, str)
    now = call.now()
    incident = Incident(
        title=title.strip(),
        description=description,
        state="detected",
        detected_at=detected,
        aware_at=aware,
        systems=[],
        data_categories=[],
        created_by=call.actor.id,
        created_at=now,
        updated_at=now,
        cause="",
        containment="",
        consequences="",
        measures_proposed="",
        lessons_learned="",
        dpo_contact="",
        encrypted_exposed=False,
        keys_exposed=False,
        harm_mitigated=False,
        freeze_downloads=False,
    )
    call.session.add(incident)
    call.session.flush()
    event(call, incident, "created", to_state="detected")
    audit(call, incident, "incident.create", customers=len(ids or []))
    if ids:
        from governance.services.breach import analysis

        analysis.set_affected_ids(call, incident, ids, source="given at creation")
    return incident


def _customer_ids(value: Any, errors: list[dict[str, str]]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(is_id(v) for v in value):
        errors.append({"field": "customer_ids", "message": "must be a list of customer ids"})
        return None
    return list(dict.fromkeys(value))


def get(call: Call, incident_id: str) -> Incident:
    """The incident (NotFound otherwise)."""
    incident = call.session.get(Incident, incident_id) if is_id(incident_id) else None
    if incident is None:
        raise NotFound("no such incident")
    return incident


def listing(call: Call, state: str | None = None) -> list[Incident]:
    """Every incident, newest first (optionally in one state)."""
    query = select(Incident).order_by(Incident.created_at.desc())
    if state:
        query = query.where(Incident.state == state)
    return list(call.session.scalars(query))


def update(call: Call, incident: Incident, data: Any) -> Incident:
    """Change the record's facts (not its state); validated whole, then applied and audited."""
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object", [{"field": "(body)", "message": "must be an object"}]
        )
    errors: list[dict[str, str]] = []
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name in TEXT_FIELDS or name == "title":
            ok = (
                isinstance(value, str)
                and len(value) <= MAX_TEXT
                and (name != "title" or bool(value))
            )
            _set(changes, errors, name, value, ok, "must be text")
        elif name in FLAGS:
            _set(changes, errors, name, value, isinstance(value, bool), "must be true or false")
        elif name in LISTS:
            ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
            _set(changes, errors, name, value, ok, "must be a list of names")
        elif name == "risk":
            _set(
                changes,
                errors,
                name,
                value,
                value is None or value in RISKS,
                f"must be one of {', '.join(RISKS)} or null",
            )
        elif name == "approx_records":
            ok = value is None or (type(value) is int and value >= 0)
            _set(changes, errors, name, value, ok, "must be a whole number")
        elif name in ("detected_at", "aware_at"):
            moment = _time(data, name, errors)
            if moment is not None:
                changes[name] = moment
        else:
            errors.append({"field": name, "message": "is not a field of an incident"})
    if errors:
        raise ValidationError("the incident is not valid", errors)
    check_times(
        call,
        changes.get("detected_at", incident.detected_at),
        changes.get("aware_at", incident.aware_at),
    )
    for name, value in changes.items():
        setattr(incident, name, value)
    incident.updated_at = call.now()
    event(call, incident, "updated", details={"fields": sorted(changes)})
    audit(call, incident, "incident.update", fields=sorted(changes))
    from governance.services.breach import tasks

    tasks.sync(call, incident)
    return incident


def _set(
    changes: dict[str, Any],
    errors: list[dict[str, str]],
    name: str,
    value: Any,
    ok: bool,
    message: str,
) -> None:
    if ok:
        changes[name] = value
    else:
        errors.append({"field": name, "message": message})


def transition(call: Call, incident: Incident, to: Any, note: Any = "") -> Incident:
    """Move to the next state (409 ``invalid-transition`` for any other); timed and audited."""
    if to not in INCIDENT_STATES:
        raise ValidationError(
            "unknown state", [{"field": "to", "message": f"one of {', '.join(INCIDENT_STATES)}"}]
        )
    if not isinstance(note, str) or len(note) > MAX_TEXT:
        raise ValidationError("bad note", [{"field": "note", "message": "must be text"}])
    allowed = NEXT[incident.state]
    if to not in allowed:
        raise InvalidTransition(
            f"an incident in state {incident.state} can only move to {' or '.join(allowed)}"
        )
    if to == "closed":
        from governance.services.breach import tasks

        open_tasks = tasks.open_count(call, incident)
        if open_tasks:
            raise InvalidTransition(f"{open_tasks} notification task(s) are still open")
    before = incident.state
    incident.state = to
    incident.updated_at = call.now()
    event(call, incident, "transition", from_state=before, to_state=to, note=note)
    audit(call, incident, "incident.transition", from_state=before, to_state=to)
    from governance.services.breach import tasks

    tasks.sync(call, incident)
    return incident


def event(
    call: Call,
    incident: Incident,
    kind: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Append one line to the incident's timeline (not committed)."""
    row = IncidentEvent(
        incident_id=incident.id,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        at=call.now(),
        actor_id=call.actor.id,
        actor_type=call.actor.type,
        note=note,
        details=details or {},
    )
    call.session.add(row)
    return row


def audit(call: Call, incident: Incident, action: str, **details: Any) -> None:
    """The audit entry of an incident action, in the caller's transaction."""
    call.audit.record(
        call.session,
        call.actor,
        action,
        now=call.now(),
        resource="incidents",
        details={"incident_id": incident.id, **details},
    )


def timeline(call: Call, incident: Incident) -> list[IncidentEvent]:
    """The incident's events, oldest first."""
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
    return list(call.session.scalars(query.order_by(IncidentEvent.id)))


def event_times(call: Call, incident: Incident) -> dict[str, datetime | None]:
    """When each event a deadline may run from happened (the first time; None: not yet)."""
    times: dict[str, datetime | None] = {
        "detected": incident.detected_at,
        "aware": incident.aware_at,
        "contained": None,
        "assessed": None,
    }
    for row in timeline(call, incident):
        if row.kind == "transition" and row.to_state in ("contained", "assessed"):
            times[row.to_state] = times[row.to_state] or row.at
    return times


def describe(call: Call, incident: Incident, full: bool = False) -> dict[str, Any]:
    """The public JSON shape of an incident (``full`` adds the timeline)."""
    body: dict[str, Any] = {
        "id": incident.id,
        "title": incident.title,
        "state": incident.state,
        "description": incident.description,
        "detected_at": iso(incident.detected_at),
        "aware_at": iso(incident.aware_at),
        "systems": list(incident.systems or []),
        "data_categories": list(incident.data_categories or []),
        "encrypted_exposed": incident.encrypted_exposed,
        "keys_exposed": incident.keys_exposed,
        "harm_mitigated": incident.harm_mitigated,
        "risk": incident.risk,
        "approx_records": incident.approx_records,
        "freeze_downloads": incident.freeze_downloads,
        "next_states": list(NEXT[incident.state]),
        "affected": affected_count(call, incident),
        "analysis": incident.analysis,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
    }
    for name in TEXT_FIELDS:
        body[name] = getattr(incident, name)
    if full:
        body["timeline"] = [
            {
                "kind": row.kind,
                "at": iso(row.at),
                "actor_id": row.actor_id,
                "actor_type": row.actor_type,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "note": row.note,
                "details": row.details,
            }
            for row in timeline(call, incident)
        ]
    return body


def affected_count(call: Call, incident: Incident) -> int:
    """How many customers are known to be affected."""
    from sqlalchemy import func

    query = select(func.count()).select_from(IncidentSubject)
    return int(call.session.scalar(query.where(IncidentSubject.incident_id == incident.id)) or 0)
