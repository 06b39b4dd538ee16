"""Consent events in bulk (an app's sync, a paper campaign typed in): up to ``MAX_BULK`` events
per call, all validated before any is recorded, so a bad event leaves nothing half-written.
A few queries for the whole batch (notices, customers, latest events), then one INSERT of the
audit entries and one of the events: each event still has its own audit entry, in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from governance.context import Call
from governance.errors import NotFound, ValidationError
from governance.models import ConsentEvent
from governance.services.consent.ledger import (
    MAX_BULK,
    Notices,
    Request,
    existing_subjects,
    latest_actions,
    parse,
    prepare,
)


def record_events(call: Call, data: Any) -> dict[str, Any]:
    """``{"events": [{customer_id, purpose, action, source, notice_version, ...}]}`` →
    ``{"recorded": n, "items": [{"id", "customer_id", "purpose", "changed"}]}``."""
    items = data.get("events") if isinstance(data, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BULK:
        raise ValidationError(
            "bad events", [{"field": "events", "message": f"must list 1 to {MAX_BULK} events"}]
        )
    shapeless = [
        {"field": f"events[{index}]", "message": "must be an object"}
        for index, item in enumerate(items)
        if not isinstance(item, dict)
    ]
    if shapeless:
        raise ValidationError("some events are not objects: none was recorded", shapeless[:100])
    subjects = [item.get("customer_id") for item in items]
    known = existing_subjects(call, [s for s in subjects if isinstance(s, str)])
    missing = [
        {"field": f"events[{index}].customer_id", "message": "is not a customer"}
        for index, subject in enumerate(subjects)
        if subject not in known
    ]
    if missing:  # 404 like a single event for an unknown customer; nothing is recorded
        raise NotFound("some events name no customer: none was recorded", missing[:100])
    notices = Notices(call)
    requests: list[Request] = []
    errors: list[dict[str, Any]] = []
    for index, (item, subject) in enumerate(zip(items, subjects, strict=True)):
        try:
            requests.append(parse(call, item, notices, str(subject), f"events[{index}]."))
        except ValidationError as exc:
            errors += exc.errors
    if errors:
        raise ValidationError("some events are invalid: none was recorded", errors[:100])
    latest = latest_actions(call, known)
    recorded: list[ConsentEvent] = []
    entries: list[dict[str, Any]] = []
    for req in requests:
        event, entry = prepare(call, req, latest)
        if event.effective:
            latest[(req.customer_id, req.purpose)] = event
        recorded.append(event)
        entries.append(entry)
    # one INSERT of the audit entries, one of the events (each event still has its entry)
    appended = call.audit.record_many(call.session, call.actor, entries, now=call.now())
    for event, done in zip(recorded, appended, strict=True):
        event.audit_qid = done.qid
    call.session.add_all(recorded)
    call.session.flush()
    return {
        "recorded": len(recorded),
        "items": [
            {"id": e.id, "customer_id": e.customer_id, "purpose": e.purpose, "changed": e.effective}
            for e in recorded
        ],
    }
