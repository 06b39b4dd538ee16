"""Legal holds: a hold on one customer or one data category suspends every retention rule for
it and refuses erasure (409 with the hold's reason) until it ends or is released. Placing and
releasing a hold are audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from governance.context import Call
from governance.errors import Conflict, NotFound, ValidationError
from governance.models import Customer, LegalHold, Tombstone
from governance.models.ids import is_id, new_id
from governance.services.customers import normalise as norm
from governance.services.retention.rules import CATEGORIES


class UnderLegalHold(Conflict):
    """An erasure refused because a legal hold covers the subject."""

    slug = "legal-hold"
    title = "Under legal hold"


def active(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the hold is in force at ``now``."""
    return and_(
        LegalHold.released_at.is_(None),
        LegalHold.starts_at <= now,
        or_(LegalHold.ends_at.is_(None), LegalHold.ends_at > now),
    )


def _moment(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return norm.parse_timestamp(value)
    except (norm.FieldError, TypeError, ValueError):
        raise ValidationError(
            "invalid hold", [{"field": field, "message": "must be an RFC 3339 date-time"}]
        ) from None


def place(call: Call, data: Any) -> dict[str, Any]:
    """Place a hold from ``{"customer_id" | "category", "reason", "owner"?, "starts_at"?,
    "ends_at"?}``; ValidationError naming each bad field."""
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    errors: list[dict[str, str]] = []
    unknown = set(data) - {"customer_id", "category", "reason", "owner", "starts_at", "ends_at"}
    errors += [{"field": k, "message": "is not a known field"} for k in sorted(unknown)]
    customer_id, category = data.get("customer_id"), data.get("category")
    if (customer_id is None) == (category is None):
        errors.append({"field": "customer_id", "message": "give a customer_id or a category"})
    if customer_id is not None and not is_id(customer_id):
        errors.append({"field": "customer_id", "message": "is not a customer id"})
    if category is not None and category not in CATEGORIES:
        errors.append({"field": "category", "message": "is not a retention category"})
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.append({"field": "reason", "message": "is required"})
    owner = data.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner.strip()):
        errors.append({"field": "owner", "message": "must be a non-empty string"})
    if errors:
        raise ValidationError("invalid hold", errors)
    now = call.now()
    starts = _moment(data.get("starts_at"), "starts_at") or now
    ends = _moment(data.get("ends_at"), "ends_at")
    if ends is not None and ends <= starts:
        raise ValidationError(
            "invalid hold", [{"field": "ends_at", "message": "must be after starts_at"}]
        )
    if customer_id is not None and call.session.get(Customer, customer_id) is None:
        if call.session.get(Tombstone, customer_id) is not None:
            raise Conflict(f"customer {customer_id} was already erased")
        raise NotFound(f"no customer {customer_id}")
    hold = LegalHold(
        id=new_id(),
        customer_id=customer_id,
        category=category,
        reason=norm.clean_text(reason, max_length=2000),
        owner=norm.clean_text(owner, max_length=200)
        if owner
        else (call.actor.name or "") or str(call.actor.id),
        starts_at=starts,
        ends_at=ends,
        created_at=now,
        created_by=call.actor.id,
    )
    call.session.add(hold)
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        "hold.place",
        now=now,
        resource="legal_holds",
        subject_id=customer_id,
        details={"hold_id": hold.id, "category": category},
    )
    return describe(hold, now)


def release(call: Call, hold_id: str) -> dict[str, Any]:
    """End a hold now (audited)."""
    hold = call.session.get(LegalHold, hold_id) if is_id(hold_id) else None
    if hold is None:
        raise NotFound("no such hold")
    now = call.now()
    if hold.released_at is not None:
        raise Conflict("the hold was already released")
    hold.released_at = now
    call.audit.record(
        call.session,
        call.actor,
        "hold.release",
        now=now,
        resource="legal_holds",
        subject_id=hold.customer_id,
        details={"hold_id": hold.id, "category": hold.category},
    )
    return describe(hold, now)


def holds_on(call: Call, customer_id: str) -> list[LegalHold]:
    """The holds in force on one customer (its own, and any on the customer profile category)."""
    now = call.now()
    query = select(LegalHold).where(
        active(now),
        or_(LegalHold.customer_id == customer_id, LegalHold.category == "customer_profile"),
    )
    return list(call.session.scalars(query.order_by(LegalHold.starts_at)))


def refuse_if_held(call: Call, customer_id: str) -> None:
    """UnderLegalHold (409) naming the hold's reason when one is in force on the customer."""
    held = holds_on(call, customer_id)
    if held:
        reasons = "; ".join(h.reason for h in held)
        raise UnderLegalHold(f"customer {customer_id} is under legal hold: {reasons}")


def held_categories(call: Call) -> set[str]:
    """Categories under a hold in force now."""
    query = select(LegalHold.category).where(active(call.now()), LegalHold.category.is_not(None))
    return {c for c in call.session.scalars(query) if c}


def list_holds(call: Call, include_ended: bool = False) -> list[dict[str, Any]]:
    now = call.now()
    query = select(LegalHold).order_by(LegalHold.created_at.desc())
    if not include_ended:
        query = query.where(active(now))
    return [describe(h, now) for h in call.session.scalars(query.limit(500))]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def describe(hold: LegalHold, now: datetime) -> dict[str, Any]:
    in_force = (
        hold.released_at is None
        and hold.starts_at <= now
        and (hold.ends_at is None or hold.ends_at > now)
    )
    return {
        "id": hold.id,
        "customer_id": hold.customer_id,
        "category": hold.category,
        "reason": hold.reason,
        "owner": hold.owner,
        "starts_at": _iso(hold.starts_at),
        "ends_at": _iso(hold.ends_at),
        "released_at": _iso(hold.released_at),
        "active": in_force,
    }
