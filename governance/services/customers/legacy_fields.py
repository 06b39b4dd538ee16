"""Encrypting values stored in clear before revision 0003: customers.external_ref, orders.items.

Alembic never sees the master key, so revision 0003 only renames the clear columns to
``*_legacy`` and adds the ciphertext (and blind-index) columns. This step seals each legacy value
under its subject's data key, sets the ``external_ref`` blind index and empties the legacy
column. The server runs it at start (``bootstrap.init_dependencies``, and ``governance up`` after
its migrations). It is idempotent: a moved row is never selected again, so a crash midway resumes
where it stopped. Each batch commits with one audit entry naming the subjects (ids only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, inspect, select

from governance.context import Call
from governance.models import Customer, Order
from governance.services.customers import reads

BATCH = 500
PURPOSE = "legacy_sealing"  # the system purpose of these internal reads (policies/purposes.yaml)
EMPTY_ITEMS = ("[]", "null")  # how an empty legacy items column reads as text


def _legacy_items() -> Any:
    return select(Order).where(
        Order.items_ct.is_(None), cast(Order.items_legacy, Text).not_in(EMPTY_ITEMS)
    )


def schema_has_legacy_columns(call: Call) -> bool:
    """True once revision 0003 is applied (before it, there is nothing to move yet)."""
    inspector = inspect(call.session.connection())
    if "customers" not in inspector.get_table_names():
        return False
    return "external_ref_legacy" in {c["name"] for c in inspector.get_columns("customers")}


def pending(call: Call) -> bool:
    """Whether any clear legacy value is still stored."""
    session = call.session
    ref = select(Customer.id).where(Customer.external_ref_legacy.is_not(None)).limit(1)
    return (
        session.scalar(ref) is not None
        or session.scalar(_legacy_items().with_only_columns(Order.id).limit(1)) is not None
    )


def encrypt_legacy_fields(call: Call) -> dict[str, int]:
    """Seal every legacy clear value, batch by batch (each batch committed); counts per field."""
    moved = {"customers.external_ref": 0, "orders.items": 0}
    if not schema_has_legacy_columns(call):
        return moved
    while rows := _next(call, select(Customer).where(Customer.external_ref_legacy.is_not(None))):
        moved["customers.external_ref"] += _seal_refs(call, rows)
    while rows := _next(call, _legacy_items()):
        moved["orders.items"] += _seal_items(call, rows)
    return moved


def _next(call: Call, query: Any) -> list[Any]:
    # SKIP LOCKED (PostgreSQL): two processes starting together share the work, not repeat it.
    return list(call.session.scalars(query.limit(BATCH).with_for_update(skip_locked=True)))


def _seal_refs(call: Call, rows: list[Customer]) -> int:
    vault = call.vault
    keys = reads.subject_keys(reads.internal(call, PURPOSE), [c.id for c in rows])
    for customer in rows:
        ref, customer.external_ref_legacy = customer.external_ref_legacy, None
        key = keys.get(customer.id)
        if key is not None:  # without its data key the record is unreadable: nothing to keep
            place = ("customers", "external_ref", customer.id)
            customer.external_ref_ct = vault.seal(key, *place, ref)
            customer.external_ref_bidx = vault.blind_index("external_ref", ref)
    _commit(call, "customers", "external_ref", [c.id for c in rows])
    return len(rows)


def _seal_items(call: Call, rows: list[Order]) -> int:
    vault = call.vault
    keys = reads.subject_keys(reads.internal(call, PURPOSE), [o.customer_id for o in rows])
    for order in rows:
        items, order.items_legacy = order.items_legacy, []
        key = keys.get(order.customer_id)
        if key is not None and items:
            order.items_ct = vault.seal(
                key, "orders", "items", order.customer_id, items, row_id=order.id
            )
    _commit(call, "orders", "items", sorted({o.customer_id for o in rows}))
    return len(rows)


def _commit(call: Call, table: str, field: str, subjects: list[str]) -> None:
    call.session.flush()
    call.audit.record(
        call.session,
        call.actor,
        "data.encrypt_legacy",
        now=call.now(),
        resource=table,
        purpose=PURPOSE,
        details={"field": field, "subjects": subjects},
    )
    call.session.commit()  # start-up job: each column sealed, then kept
