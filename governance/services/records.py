"""Orders (purchase history) and interactions (contact notes) of a customer.

Free text (order comments, interaction notes) is encrypted with the customer's data key, and the
associated data binds it to the customer *and* the record, so it cannot be moved between rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from governance.errors import ValidationError
from governance.models import Interaction, Order
from governance.models.ids import new_id
from governance.services import customers
from governance.services import normalise as norm
from governance.services.context import Call

CHANNELS = ("email", "phone", "chat", "visit", "sms", "social", "letter", "other")
ORDER_FIELDS = ("ordered_at", "amount", "currency", "items", "comment")
INTERACTION_FIELDS = ("channel", "occurred_at", "note")


def _reject_unknown(data: Any, allowed: tuple[str, ...]) -> list[dict[str, str]]:
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    return [{"field": k, "message": "is not a known field"} for k in data if k not in allowed]


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 500:
        raise norm.FieldError("must be a list of at most 500 items")
    for item in value:
        if not isinstance(item, dict | str):
            raise norm.FieldError("items must be objects or strings")
    return value


def validate_order(data: Any) -> dict[str, Any]:
    """Normalise an order; ValidationError lists every bad field."""
    errors = _reject_unknown(data, ORDER_FIELDS)
    steps = {
        "ordered_at": norm.parse_timestamp,
        "amount": norm.normalise_amount,
        "currency": norm.normalise_currency,
        "items": _items,
        "comment": norm.clean_note,
    }
    return _run(steps, data, errors, "the order has invalid fields")


def validate_interaction(data: Any) -> dict[str, Any]:
    """Normalise an interaction; ValidationError lists every bad field."""
    errors = _reject_unknown(data, INTERACTION_FIELDS)

    def channel(value: Any) -> str:
        if value not in CHANNELS:
            raise norm.FieldError(f"must be one of {', '.join(CHANNELS)}")
        return str(value)

    steps = {"channel": channel, "occurred_at": norm.parse_timestamp, "note": norm.clean_note}
    return _run(steps, data, errors, "the interaction has invalid fields")


def _run(steps: dict[str, Any], data: dict[str, Any], errors: list[Any], title: str) -> Any:
    clean = {}
    for name, step in steps.items():
        try:
            clean[name] = step(data.get(name))
        except norm.FieldError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise ValidationError(title, errors)
    return clean


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def order_document(call: Call, order: Order, key: Any) -> dict[str, Any]:
    comment = call.vault.open(
        key, "orders", "comment", order.customer_id, order.comment_ct, row_id=order.id
    )
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "ordered_at": _iso(order.ordered_at),
        "amount": f"{order.amount:.2f}",
        "currency": order.currency,
        "items": order.items or [],
        "comment": comment,
        "created_at": _iso(order.created_at),
    }


def interaction_document(call: Call, row: Interaction, key: Any) -> dict[str, Any]:
    note = call.vault.open(key, "interactions", "note", row.customer_id, row.note_ct, row_id=row.id)
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "channel": row.channel,
        "occurred_at": _iso(row.occurred_at),
        "note": note,
        "created_at": _iso(row.created_at),
    }


def add_order(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """Record a purchase for a customer."""
    clean = validate_order(data)
    customer = customers.load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    now = call.now()
    order = Order(
        id=new_id(),
        customer_id=customer.id,
        ordered_at=clean["ordered_at"],
        amount=clean["amount"],
        currency=clean["currency"],
        items=clean["items"],
        created_at=now,
        updated_at=now,
    )
    order.comment_ct = call.vault.seal(
        key, "orders", "comment", customer.id, clean["comment"], row_id=order.id
    )
    call.session.add(order)
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        "order.create",
        now=now,
        resource="orders",
        subject_id=customer.id,
        details={"order_id": order.id, "comment": clean["comment"] is not None},
    )
    return _mask_record(call, order_document(call, order, key), "comment")


def add_interaction(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """Record a contact with a customer and its free-text note."""
    clean = validate_interaction(data)
    customer = customers.load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    now = call.now()
    row = Interaction(
        id=new_id(),
        customer_id=customer.id,
        channel=clean["channel"],
        occurred_at=clean["occurred_at"],
        created_at=now,
        updated_at=now,
    )
    row.note_ct = call.vault.seal(
        key, "interactions", "note", customer.id, clean["note"], row_id=row.id
    )
    call.session.add(row)
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        "interaction.create",
        now=now,
        resource="interactions",
        subject_id=customer.id,
        details={"interaction_id": row.id, "note": clean["note"] is not None},
    )
    return _mask_record(call, interaction_document(call, row, key), "note")


def _mask_record(call: Call, doc: dict[str, Any], text_field: str) -> dict[str, Any]:
    masked, _ = customers.apply_visibility(call.actor.roles, {text_field: doc[text_field]})
    return {**doc, text_field: masked.get(text_field)}


def list_orders(call: Call, customer_id: str, purpose: str | None = None) -> dict[str, Any]:
    """A customer's orders, newest first; audited as a read."""
    customer = customers.load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    rows = call.session.scalars(
        select(Order).where(Order.customer_id == customer.id).order_by(Order.ordered_at.desc())
    )
    items = [_mask_record(call, order_document(call, o, key), "comment") for o in rows]
    call.audit.record(
        call.session,
        call.actor,
        "order.list",
        now=call.now(),
        resource="orders",
        subject_id=customer.id,
        purpose=purpose,
        details={"count": len(items)},
    )
    return {"items": items}


def list_interactions(call: Call, customer_id: str, purpose: str | None = None) -> dict[str, Any]:
    """A customer's interactions, newest first; audited as a read."""
    customer = customers.load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    rows = call.session.scalars(
        select(Interaction)
        .where(Interaction.customer_id == customer.id)
        .order_by(Interaction.occurred_at.desc())
    )
    items = [_mask_record(call, interaction_document(call, r, key), "note") for r in rows]
    call.audit.record(
        call.session,
        call.actor,
        "interaction.list",
        now=call.now(),
        resource="interactions",
        subject_id=customer.id,
        purpose=purpose,
        details={"count": len(items)},
    )
    return {"items": items}
