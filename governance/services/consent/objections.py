"""Objections (GDPR Art. 21, PIPL Art. 44) and restrictions of processing (GDPR Art. 18): a
person's "stop using my data for X". Append-only events in ``consent_objections``, each audited
in the same transaction; the governed read refuses (or leaves out of lists) every purpose an
objection or restriction in force covers (``rules.blocked``).

An objection names an objectable purpose (``policies/purposes.yaml``), or none: then it covers
every objectable purpose. A restriction covers every purpose a caller may declare. Data-subject
requests of kind objection and restriction call these functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.errors import Conflict, ValidationError
from governance.models import ObjectionEvent
from governance.models.ids import new_id
from governance.purposes import current as purposes
from governance.services.consent.notices import iso


def _text(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError(
            "bad value", [{"field": field, "message": "must be text of up to 200 characters"}]
        )
    return value.strip()


def _check_purpose(purpose: str | None) -> None:
    if purpose is None:
        return
    catalogue = purposes()
    if purpose not in catalogue or catalogue[purpose].system:
        raise ValidationError(
            "unknown purpose", [{"field": "purpose", "message": "is not a known purpose"}]
        )
    if not catalogue[purpose].objectable:
        raise ValidationError(
            f"{purpose} is not a purpose a person may object to",
            [{"field": "purpose", "message": f"{purpose} is not a purpose a person may object to"}],
        )


def _in_force(call: Call, customer_id: str, kind: str, purpose: str | None) -> bool:
    rows = call.session.scalars(
        select(ObjectionEvent)
        .where(ObjectionEvent.customer_id == customer_id, ObjectionEvent.kind == kind)
        .order_by(ObjectionEvent.seq)
    )
    state = False
    for row in rows:
        if kind == "restriction" or row.purpose == purpose:
            state = row.action == "record"
    return state


def _append(
    call: Call,
    customer_id: str,
    kind: str,
    action: str,
    purpose: str | None,
    reason: str | None,
    request_ref: str | None,
) -> dict[str, Any]:
    from governance.services.customers.reads import load_one

    load_one(call, customer_id)  # 404, or 410 when erased
    _check_purpose(purpose)
    reason, request_ref = _text(reason, "reason"), _text(request_ref, "request_ref")
    held = _in_force(call, customer_id, kind, purpose)
    if action == "record" and held:
        raise Conflict(f"an {kind} for this purpose is already in force")
    if action == "lift" and not held:
        raise Conflict(f"no {kind} for this purpose is in force")
    row = ObjectionEvent(
        id=new_id(),
        customer_id=customer_id,
        kind=kind,
        action=action,
        purpose=purpose,
        reason=reason,
        request_ref=request_ref,
        recorded_at=call.now(),
        actor_id=call.actor.id,
    )
    appended = call.audit.record(
        call.session,
        call.actor,
        f"consent.{kind}.{action}",
        now=call.now(),
        resource="consent",
        subject_id=customer_id,
        purpose=purpose,
        details={"event": row.id, "request_ref": request_ref},
    )
    row.audit_qid = appended.qid
    call.session.add(row)
    call.session.flush()
    return objection_json(row)


def objection_json(row: ObjectionEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "kind": row.kind,
        "action": row.action,
        "purpose": row.purpose,
        "reason": row.reason,
        "request_ref": row.request_ref,
        "recorded_at": iso(row.recorded_at),
    }


def record_objection(
    call: Call,
    customer_id: str,
    purpose: str | None,
    reason: str | None = None,
    request_ref: str | None = None,
) -> dict[str, Any]:
    """Record an objection to ``purpose`` (None: every objectable purpose); 409 when one is in
    force already, 422 when the purpose is unknown or not objectable."""
    return _append(call, customer_id, "objection", "record", purpose, reason, request_ref)


def lift_objection(
    call: Call,
    customer_id: str,
    purpose: str | None,
    reason: str | None = None,
    request_ref: str | None = None,
) -> dict[str, Any]:
    """Lift the objection to ``purpose``; 409 when none is in force."""
    return _append(call, customer_id, "objection", "lift", purpose, reason, request_ref)


def record_restriction(
    call: Call, customer_id: str, reason: str | None = None, request_ref: str | None = None
) -> dict[str, Any]:
    """Restrict all processing of the customer's data (reads for any purpose are refused)."""
    return _append(call, customer_id, "restriction", "record", None, reason, request_ref)


def lift_restriction(
    call: Call, customer_id: str, reason: str | None = None, request_ref: str | None = None
) -> dict[str, Any]:
    """Lift the restriction of processing; 409 when none is in force."""
    return _append(call, customer_id, "restriction", "lift", None, reason, request_ref)


def objections_of(call: Call, customer_id: str) -> list[dict[str, Any]]:
    """The customer's objection and restriction events, oldest first."""
    rows = call.session.scalars(
        select(ObjectionEvent)
        .where(ObjectionEvent.customer_id == customer_id)
        .order_by(ObjectionEvent.seq)
    )
    return [objection_json(r) for r in rows]


def from_request(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """``{"kind": "objection"|"restriction", "action": "record"|"lift", "purpose", "reason",
    "request_ref"}`` from the API; 422 naming the bad field."""
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    kind, action = data.get("kind"), data.get("action")
    errors = []
    if kind not in ("objection", "restriction"):
        errors.append({"field": "kind", "message": "must be objection or restriction"})
    if action not in ("record", "lift"):
        errors.append({"field": "action", "message": "must be record or lift"})
    purpose = data.get("purpose")
    if purpose is not None and (kind == "restriction" or not isinstance(purpose, str)):
        errors.append({"field": "purpose", "message": "names one purpose, for an objection"})
    unknown = sorted(set(data) - {"kind", "action", "purpose", "reason", "request_ref"})
    errors += [{"field": name, "message": "is not a known field"} for name in unknown]
    if errors:
        raise ValidationError("the request has invalid fields", errors)
    reason, ref = data.get("reason"), data.get("request_ref")
    if kind == "restriction":
        do = record_restriction if action == "record" else lift_restriction
        return do(call, customer_id, reason, ref)
    act = record_objection if action == "record" else lift_objection
    return act(call, customer_id, purpose, reason, ref)
