"""Notification tasks: the notices ``breach_rules.yaml`` requires of an incident, with due times.

Which regimes apply follows from the affected customers' country and subdivision
(``jurisdictions.yaml``): a German customer brings the GDPR, a Californian the CCPA, a US
customer whose state is unknown every US regime. ``sync`` runs whenever the incident changes
(affected customers, risk, exposure of keys, a transition, a completed task): a required notice
gets a task, a task no longer required (risk below the threshold, an exemption, too few people)
is waived with the reason, and a done task stays done. A task is completed with a time, a channel
and a reference; completed after its due time it must record the reasons for the delay (GDPR
Art. 33(1)). Every time here comes from the call's clock, so tests choose "now".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from governance import jurisdictions
from governance.context import Call
from governance.errors import Conflict, NotFound, ValidationError
from governance.models import Customer, Incident, IncidentSubject, NotificationTask
from governance.services.breach import incidents, rules
from governance.services.customers.normalise import parse_timestamp

SHOWN = ("open", "done")


def regime_counts(call: Call, incident: Incident) -> dict[str, int]:
    """Affected customers per applicable regime (one grouped query)."""
    query = (
        select(Customer.country, Customer.subdivision, func.count())
        .join(IncidentSubject, IncidentSubject.customer_id == Customer.id)
        .where(IncidentSubject.incident_id == incident.id)
        .group_by(Customer.country, Customer.subdivision)
    )
    counts: dict[str, int] = {}
    known = jurisdictions.current()
    for country, subdivision, n in call.session.execute(query):
        for regime in known.applicable(country, subdivision).regimes:
            counts[regime] = counts.get(regime, 0) + int(n)
    return counts


def _tasks(call: Call, incident: Incident) -> dict[tuple[str, str], NotificationTask]:
    query = select(NotificationTask).where(NotificationTask.incident_id == incident.id)
    return {(t.regime, t.target): t for t in call.session.scalars(query)}


def sync(call: Call, incident: Incident) -> None:
    """Bring the incident's tasks in line with the rules and what is known (not committed)."""
    counts = regime_counts(call, incident)
    existing = _tasks(call, incident)
    times = incidents.event_times(call, incident)
    safe = incident.encrypted_exposed and not incident.keys_exposed
    wanted: set[tuple[str, str]] = set()
    ordered = sorted(
        rules.current().for_regimes(list(counts)), key=lambda r: r.target != "individuals"
    )
    for rule in ordered:
        key = (rule.regime, rule.target)
        task = existing.get(key)
        reason = rule.required(incident.risk, counts[rule.regime], safe, incident.harm_mitigated)
        people = existing.get((rule.regime, "individuals"))
        events = {**times, "individuals_notified": people.completed_at if people else None}
        if reason is not None:
            if task is not None and task.state == "open":
                task.state, task.waived_reason = "waived", reason
            continue
        wanted.add(key)
        if task is None:
            task = NotificationTask(
                incident_id=incident.id,
                regime=rule.regime,
                target=rule.target,
                state="open",
                recipient=rule.recipient,
                event=rule.event,
                subjects=0,
            )
            call.session.add(task)
            existing[key] = task
        elif task.state == "waived":
            task.state, task.waived_reason = "open", None
        task.subjects = counts[rule.regime]
        if task.state == "open":
            task.due_at = rule.due_at(events)
    for key, task in existing.items():
        if key not in wanted and task.state == "open":
            task.state = "waived"
            task.waived_reason = task.waived_reason or "no affected customer under this regime"
    call.session.flush()


def overdue(task: NotificationTask, now: datetime) -> bool:
    """An open task whose due time has passed."""
    return task.state == "open" and task.due_at is not None and now > task.due_at


def items(call: Call, incident: Incident) -> list[dict[str, Any]]:
    """The Contract list: open and done tasks, soonest due first."""
    now = call.now()
    return [
        {
            "regime": t.regime,
            "target": t.target,
            "due_at": incidents.iso(t.due_at),
            "state": t.state,
            "overdue": overdue(t, now),
        }
        for t in _ordered(call, incident)
        if t.state in SHOWN
    ]


def detail(call: Call, incident: Incident) -> list[dict[str, Any]]:
    """Every task with what the console shows: recipient, seconds left, completion, waivers."""
    now = call.now()
    rows = []
    for t in _ordered(call, incident):
        left = (t.due_at - now).total_seconds() if t.due_at and t.state == "open" else None
        rows.append(
            {
                "regime": t.regime,
                "target": t.target,
                "recipient": t.recipient,
                "event": t.event,
                "due_at": incidents.iso(t.due_at),
                "state": t.state,
                "overdue": overdue(t, now),
                "seconds_left": int(left) if left is not None else None,
                "subjects": t.subjects,
                "waived_reason": t.waived_reason,
                "completed_at": incidents.iso(t.completed_at),
                "channel": t.channel,
                "reference": t.reference,
                "late_reasons": t.late_reasons,
                "late": bool(t.completed_at and t.due_at and t.completed_at > t.due_at),
            }
        )
    return rows


def summaries(call: Call, listed: list[Incident]) -> dict[str, dict[str, Any]]:
    """Per listed incident: affected customers, open tasks and the next open deadline.

    Two queries for the whole list (counts grouped by incident, then the open tasks of all of
    them), so the incidents page costs the same with 1 or 100 incidents.
    """
    ids = [incident.id for incident in listed]
    if not ids:
        return {}
    counted = select(IncidentSubject.incident_id, func.count()).where(
        IncidentSubject.incident_id.in_(ids)
    )
    grouped = call.session.execute(counted.group_by(IncidentSubject.incident_id))
    affected = {incident_id: int(n) for incident_id, n in grouped}
    open_tasks = call.session.scalars(
        select(NotificationTask).where(
            NotificationTask.incident_id.in_(ids), NotificationTask.state == "open"
        )
    ).all()
    now = call.now()
    out: dict[str, dict[str, Any]] = {}
    for incident in listed:
        mine = [t for t in open_tasks if t.incident_id == incident.id]
        due = sorted((t for t in mine if t.due_at), key=lambda t: (t.due_at, t.regime, t.target))
        first = due[0] if due else None
        out[incident.id] = {
            "affected": affected.get(incident.id, 0),
            "open": len(mine),
            "next": None
            if first is None
            else {
                "regime": first.regime,
                "target": first.target,
                "due_at": incidents.iso(first.due_at),
                "overdue": overdue(first, now),
            },
        }
    return out


def _ordered(call: Call, incident: Incident) -> list[NotificationTask]:
    far = datetime.max.replace(tzinfo=incident.aware_at.tzinfo)
    tasks = list(_tasks(call, incident).values())
    return sorted(tasks, key=lambda t: (t.due_at or far, t.regime, t.target))


def open_count(call: Call, incident: Incident) -> int:
    """Tasks still open (an incident closes only when there are none)."""
    return sum(1 for t in _tasks(call, incident).values() if t.state == "open")


def complete(
    call: Call, incident: Incident, regime: str, target: str, data: Any
) -> NotificationTask:
    """Mark a task done with time, channel and reference (and reasons when late); audited.

    Validates everything before changing anything: 422 naming each missing or bad field.
    """
    task = _tasks(call, incident).get((regime, target))
    if task is None or task.state == "waived":
        raise NotFound(f"no open {target} notification task under {regime}")
    if task.state == "done":
        raise Conflict("this notification task is already done")
    if not isinstance(data, dict):
        raise ValidationError(
            "the body must be a JSON object", [{"field": "(body)", "message": "must be an object"}]
        )
    errors: list[dict[str, str]] = []
    when = _completed_at(call, data, errors)
    for name, limit in (("channel", 64), ("reference", 2000)):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors.append({"field": name, "message": f"is required (at most {limit} characters)"})
    reasons = data.get("late_reasons")
    if reasons is not None and not isinstance(reasons, str):
        errors.append({"field": "late_reasons", "message": "must be text"})
        reasons = None
    late = when is not None and task.due_at is not None and when > task.due_at
    if late and not (reasons or "").strip():
        errors.append(
            {
                "field": "late_reasons",
                "message": "completed after its due time: give the reasons for the delay",
            }
        )
    if errors:
        raise ValidationError("the task cannot be completed", errors)
    task.state, task.completed_at = "done", when
    task.channel, task.reference = data["channel"].strip(), data["reference"].strip()
    task.late_reasons = reasons.strip() if late and reasons else None
    task.completed_by = call.actor.id
    incidents.event(
        call,
        incident,
        "task_done",
        details={"regime": regime, "target": target, "channel": task.channel, "late": late},
    )
    incidents.audit(
        call, incident, "incident.task.complete", regime=regime, target=target, late=late
    )
    sync(call, incident)
    return task


def _completed_at(
    call: Call, data: dict[str, Any], errors: list[dict[str, str]]
) -> datetime | None:
    value = data.get("completed_at")
    if value in (None, ""):
        errors.append({"field": "completed_at", "message": "is required (ISO 8601 time)"})
        return None
    try:
        when = parse_timestamp(value)
    except (ValueError, TypeError, AssertionError, OverflowError):
        errors.append({"field": "completed_at", "message": "must be an ISO 8601 time"})
        return None
    if when > call.now():
        errors.append({"field": "completed_at", "message": "is in the future"})
        return None
    return when


def due_soon(call: Call, limit: int = 10) -> list[dict[str, Any]]:
    """Open tasks of open incidents with a due time, soonest first (the dashboard's countdowns)."""
    now = call.now()
    query = (
        select(NotificationTask, Incident.title)
        .join(Incident, Incident.id == NotificationTask.incident_id)
        .where(NotificationTask.state == "open", NotificationTask.due_at.is_not(None))
        .where(Incident.state != "closed")
        .order_by(NotificationTask.due_at)
        .limit(limit)
    )
    return [
        {
            "incident_id": t.incident_id,
            "title": title,
            "regime": t.regime,
            "target": t.target,
            "due_at": incidents.iso(t.due_at),
            "overdue": overdue(t, now),
            "seconds_left": int((t.due_at - now).total_seconds()) if t.due_at else None,
        }
        for t, title in call.session.execute(query)
    ]
