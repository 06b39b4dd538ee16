"""Orders (purchase history) and interactions (contact notes) of a customer.

Free text (order comments, interaction notes) and order items are encrypted with the customer's
data key, and the associated data binds them to the customer *and* the record, so they cannot be
moved between rows.

Personal data inside free text is shown like the customer field it corresponds to: a role that
sees ``phone`` masked sees a phone number in a note masked the same way (``pii.textmask``). The
PII spans (types and offsets) found by the write-time check are sealed beside the text
(``<field>_spans``), so a read decrypts one small blob per record instead of analysing the text;
records written before spans were stored are analysed on read.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Interaction, Order
from governance.models.ids import new_id
from governance.security.masking import CLEAR, HIDDEN, TEXT_MASK, default_visibility
from governance.services.consent.lawful_basis import require_purpose, states_of
from governance.services.customers import normalise as norm
from governance.services.customers import reads
from governance.services.customers import store as customers
from governance.services.pii.detection.results import Finding
from governance.services.pii.detection.textmask import (
    decode_spans,
    encode_spans,
    entity_fields,
    mask_text,
    maskers_for,
)

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


def _run(
    steps: Mapping[str, Callable[[Any], object]],
    data: dict[str, Any],
    errors: list[Any],
    title: str,
) -> dict[str, Any]:
    clean = {}
    for name, step in steps.items():
        try:
            clean[name] = step(data.get(name))
        except norm.FieldError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise ValidationError(title, errors)
    return clean


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def order_document(call: Call, order: Order, key: Any, shown: Container[str]) -> dict[str, Any]:
    """An order in clear; only the ``shown`` encrypted fields are decrypted (others None)."""
    vault, subject = call.vault, order.customer_id
    comment = items = None
    if "comment" in shown:
        comment = vault.open(key, "orders", "comment", subject, order.comment_ct, row_id=order.id)
    if "items" in shown:
        items = vault.open(key, "orders", "items", subject, order.items_ct, True, row_id=order.id)
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "ordered_at": _iso(order.ordered_at),
        "amount": f"{order.amount:.2f}",
        "currency": order.currency,
        "items": items or [],
        "comment": comment,
        "created_at": _iso(order.created_at),
    }


def interaction_document(
    call: Call, row: Interaction, key: Any, shown: Container[str]
) -> dict[str, Any]:
    """An interaction in clear; the note is decrypted only when ``shown``."""
    note = None
    if "note" in shown:
        vault = call.vault
        note = vault.open(key, "interactions", "note", row.customer_id, row.note_ct, row_id=row.id)
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "channel": row.channel,
        "occurred_at": _iso(row.occurred_at),
        "note": note,
        "created_at": _iso(row.created_at),
    }


@dataclass(frozen=True)
class RecordKind:
    """How one kind of customer record (orders, interactions) is stored and audited."""

    model: type[Order] | type[Interaction]
    table: str
    text_field: str
    action: str
    validate: Callable[[Any], dict[str, Any]]
    document: Callable[[Call, Any, Any, Container[str]], dict[str, Any]]
    newest_first: Any
    fields: tuple[str, ...]  # every key of a document, for the field levels
    structured: tuple[str, ...] = ()  # JSON fields sealed beside the text field


ORDERS = RecordKind(
    Order,
    "orders",
    "comment",
    "order",
    validate_order,
    order_document,
    Order.ordered_at.desc(),
    ("id", "customer_id", *ORDER_FIELDS, "created_at"),
    structured=("items",),
)
INTERACTIONS = RecordKind(
    Interaction,
    "interactions",
    "note",
    "interaction",
    validate_interaction,
    interaction_document,
    Interaction.occurred_at.desc(),
    ("id", "customer_id", *INTERACTION_FIELDS, "created_at"),
)

# A customer's records of each kind, newest first: built once, the customer id bound per read.
_OF_CUSTOMER = {
    kind.table: select(kind.model)
    .where(kind.model.customer_id == bindparam("customer_id"))
    .order_by(kind.newest_first)
    for kind in (ORDERS, INTERACTIONS)
}


def _add(call: Call, kind: RecordKind, customer_id: str, data: Any) -> dict[str, Any]:
    clean = kind.validate(data)
    customer = customers.load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    now = call.now()
    text, screening, spans = _screen(call, kind, customer.id, clean.pop(kind.text_field))
    sealed_json = {name: clean.pop(name) for name in kind.structured}
    row = kind.model(id=new_id(), customer_id=customer.id, created_at=now, updated_at=now, **clean)
    sealed = call.vault.seal(key, kind.table, kind.text_field, customer.id, text, row_id=row.id)
    setattr(row, f"{kind.text_field}_ct", sealed)
    for name, value in sealed_json.items():
        blob = call.vault.seal(key, kind.table, name, customer.id, value or None, row_id=row.id)
        setattr(row, f"{name}_ct", blob)
    spans_column = f"{kind.text_field}_spans"
    spans_json = None if spans is None else encode_spans(spans)
    setattr(
        row,
        spans_column,
        call.vault.seal(key, kind.table, spans_column, customer.id, spans_json, row_id=row.id),
    )
    call.session.add(row)
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        f"{kind.action}.create",
        now=now,
        resource=kind.table,
        subject_id=customer.id,
        details={f"{kind.action}_id": row.id, kind.text_field: text is not None, "pii": screening},
    )
    return _present(call, kind, row, key, _text_maskers(call, kind), spans)


def _text_maskers(call: Call, kind: RecordKind) -> dict[str, str]:
    """Mask kind per entity type the actor may not read in clear inside ``kind``'s free text.

    Empty when the actor sees the text field masked or hidden (all of it goes) or sees every
    corresponding customer field in clear (none of it goes).
    """
    policy = default_visibility()
    if policy.level(call.actor.roles, kind.text_field) != CLEAR:
        return {}
    return maskers_for(policy, call.actor.roles, entity_fields(call.vault.rules))


def _present(
    call: Call,
    kind: RecordKind,
    row: Any,
    key: Any,
    maskers: dict[str, str],
    spans: list[Finding] | None = None,
) -> dict[str, Any]:
    """A record just written, as the actor may see it: free text span-masked, then masked."""
    doc = kind.document(call, row, key, kind.fields)
    doc = _span_masked(call, kind, doc, row, key, maskers, spans)
    return customers.present(call, doc, False)[0]


def _span_masked(
    call: Call,
    kind: RecordKind,
    doc: dict[str, Any],
    row: Any,
    key: Any,
    maskers: dict[str, str],
    spans: list[Finding] | None = None,
) -> dict[str, Any]:
    """``doc`` with the personal data inside its free text masked like the matching fields."""
    text = doc.get(kind.text_field)
    if text and maskers:
        found = spans if spans is not None else _stored_spans(call, kind, row, key, text)
        doc[kind.text_field] = TEXT_MASK if found is None else mask_text(text, found, maskers)
    return doc


def _stored_spans(
    call: Call, kind: RecordKind, row: Any, key: Any, text: str
) -> list[Finding] | None:
    """The sealed spans of a record's text; a record without them is analysed now.

    None when the analysis fails: the caller then masks the whole text (fail closed).
    """
    column = f"{kind.text_field}_spans"
    blob = getattr(row, column)
    if blob is not None:
        data = call.vault.open(key, kind.table, column, row.customer_id, blob, row_id=row.id)
        return decode_spans(data)
    from governance.services.pii import detection as pii

    try:
        return pii.analyze(text, None)
    except (pii.PiiAnalysisError, pii.NerModelRefused):
        return None


def _screen(
    call: Call, kind: RecordKind, subject_id: str, text: str | None
) -> tuple[str | None, dict[str, Any] | None, list[Finding] | None]:
    """Write-time PII check of free text (policies/pii.yaml write_policy): the text to store,
    the audit details and the spans of personal data left in the stored text.

    A rejection is audited on its own (entity types and counts only) and raised as a 422.
    """
    if not text:
        return text, None, None
    from governance.services.pii import detection as pii

    decision = pii.decide_write(f"{kind.table}.{kind.text_field}", text)
    if decision.action == "reject":
        call.audit.record_alone(
            call.session,
            call.actor,
            "pii.write_check",
            now=call.now(),
            resource=kind.table,
            subject_id=subject_id,
            outcome="denied",
            details=decision.audit_details(),
        )
        decision.raise_for_reject()
    return decision.text_to_store, decision.audit_details(), decision.stored_findings


def _list(call: Call, kind: RecordKind, customer_id: str) -> dict[str, Any]:
    """A customer's records of ``kind`` through the governed read (``reads.govern``)."""
    spec = require_purpose(call)  # 400 / 403 before the customer is even looked up
    loaded = [reads.load_one(call, customer_id, check=spec)]  # with its consent check (403)
    states_of(spec, [row for row, _ in loaded], marketing=False)
    maskers = _text_maskers(call, kind)

    def render(customer: Any, key: Any, levels: Mapping[str, str]) -> list[dict[str, Any]]:
        shown = {name for name, level in levels.items() if level != HIDDEN}
        rows = call.session.scalars(_OF_CUSTOMER[kind.table], {"customer_id": customer.id})
        return [
            _span_masked(call, kind, kind.document(call, row, key, shown), row, key, maskers)
            for row in rows
        ]

    items, _ = reads.govern(call, loaded, kind.fields, render, table=kind.table, checked=True)
    reads.audit_read(
        call,
        f"{kind.action}.list",
        resource=kind.table,
        subject_id=loaded[0][0].id,
        details={"count": len(items)},
    )
    return {"items": items}


def add_order(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """Record a purchase for a customer."""
    return _add(call, ORDERS, customer_id, data)


def add_interaction(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """Record a contact with a customer and its free-text note."""
    return _add(call, INTERACTIONS, customer_id, data)


def list_orders(call: Call, customer_id: str) -> dict[str, Any]:
    """A customer's orders, newest first; audited as a read."""
    return _list(call, ORDERS, customer_id)


def list_interactions(call: Call, customer_id: str) -> dict[str, Any]:
    """A customer's interactions, newest first; audited as a read."""
    return _list(call, INTERACTIONS, customer_id)
