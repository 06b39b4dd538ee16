"""What each retention category means in the store: which rows have expired under a rule, and
how a batch of them is removed (crypto-shredded, deleted or anonymised).

Every category selects ids with one indexed query per batch (keyset on the id), so a sweep's
memory does not grow with the store. Rows of a customer under a legal hold, and whole categories
under a hold, are left alone, and so is a customer whose data-subject request is still open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, select, update
from sqlalchemy.orm import InstrumentedAttribute

from governance.context import Call
from governance.models import (
    Customer,
    DataKey,
    Interaction,
    LegalHold,
    Order,
    PiiFinding,
    RequestExport,
    SubjectRequest,
    Tombstone,
)
from governance.services.retention.holds import active
from governance.services.retention.rules import RetentionRule

Apply = Callable[[Call, Sequence[str], datetime], None]


@dataclass(frozen=True)
class Target:
    """One category as the store holds it: its id column, the expiry condition, the owning
    customer column (for holds) and what each action does to a batch."""

    id_column: InstrumentedAttribute[str]
    expired: Callable[[RetentionRule, datetime], ColumnElement[bool]]
    customer_column: InstrumentedAttribute[Any] | None
    actions: dict[str, Apply]
    note: str = ""


def cutoff(rule: RetentionRule, now: datetime) -> datetime:
    return now - timedelta(days=rule.period_days or 0)


def _held_customers(now: datetime) -> Select[Any]:
    return select(LegalHold.customer_id).where(active(now), LegalHold.customer_id.is_not(None))


def _last_activity(rule: RetentionRule, now: datetime) -> ColumnElement[bool]:
    limit = cutoff(rule, now)
    if rule.event == "creation":
        return Customer.created_at < limit
    if rule.event != "last_activity":
        return false()  # the store records no contract end, closure or withdrawal for customers
    return and_(
        Customer.updated_at < limit,
        ~exists().where(Order.customer_id == Customer.id, Order.ordered_at >= limit),
        ~exists().where(Interaction.customer_id == Customer.id, Interaction.occurred_at >= limit),
    )


def shred_batch(call: Call, ids: Sequence[str], now: datetime) -> None:
    """Crypto-shred customers: records, data keys and rows deleted, tombstones kept."""
    session = call.session
    session.execute(delete(Order).where(Order.customer_id.in_(ids)))
    session.execute(delete(Interaction).where(Interaction.customer_id.in_(ids)))
    session.execute(delete(DataKey).where(DataKey.subject_id.in_(ids)))
    session.execute(delete(Customer).where(Customer.id.in_(ids)))
    session.execute(
        Tombstone.__table__.insert(),
        [{"subject_id": i, "erased_at": now, "request_ref": "retention"} for i in ids],
    )
    session.expire_all()


def _delete(column: InstrumentedAttribute[str]) -> Apply:
    def run(call: Call, ids: Sequence[str], now: datetime) -> None:
        call.session.execute(delete(column.class_).where(column.in_(ids)))

    return run


def _anonymise_orders(call: Call, ids: Sequence[str], now: datetime) -> None:
    # Amount, currency and date stay for the accounts; the items and the comment (what can
    # identify a person or say something about them) are dropped.
    call.session.execute(
        update(Order)
        .where(Order.id.in_(ids))
        .values(items_ct=None, comment_ct=None, comment_spans=None, items_legacy=[], updated_at=now)
    )


def _drop_export(call: Call, ids: Sequence[str], now: datetime) -> None:
    call.session.execute(
        update(RequestExport)
        .where(RequestExport.id.in_(ids))
        .values(content_ct=None, deleted_at=now)
    )


def _orders_expired(rule: RetentionRule, now: datetime) -> ColumnElement[bool]:
    done = and_(Order.items_ct.is_(None), Order.comment_ct.is_(None))
    dated = Order.ordered_at < cutoff(rule, now) if rule.event == "creation" else false()
    return and_(dated, ~done) if rule.action == "anonymise" else dated


TARGETS: dict[str, Target] = {
    "customer_profile": Target(
        Customer.id,
        _last_activity,
        Customer.id,
        {"crypto_shred": shred_batch, "delete": shred_batch, "anonymise": shred_batch},
    ),
    "orders": Target(
        Order.id,
        _orders_expired,
        Order.customer_id,
        {"delete": _delete(Order.id), "anonymise": _anonymise_orders},
    ),
    "interactions": Target(
        Interaction.id,
        lambda rule, now: (
            Interaction.occurred_at < cutoff(rule, now) if rule.event == "creation" else false()
        ),
        Interaction.customer_id,
        {"delete": _delete(Interaction.id), "anonymise": _delete(Interaction.id)},
    ),
    "pii_findings": Target(
        PiiFinding.id,
        lambda rule, now: PiiFinding.last_seen_at < cutoff(rule, now),
        PiiFinding.subject_id,
        {"delete": _delete(PiiFinding.id), "anonymise": _delete(PiiFinding.id)},
    ),
    "exports_reports": Target(
        RequestExport.id,
        lambda rule, now: and_(
            RequestExport.created_at < cutoff(rule, now), RequestExport.content_ct.is_not(None)
        ),
        None,
        {"delete": _drop_export, "anonymise": _drop_export},
    ),
}
NOT_HERE = {
    "consent_evidence": "consent evidence is kept by the consent module; nothing stored here yet",
    "audit_log": "the audit log is kept: entries hold ids, never personal values",
    "backups": "backup files are pruned by the backup schedule, not by this sweep",
}


def expired_ids(
    target: Target, rule: RetentionRule, now: datetime, *, honour_holds: bool = True
) -> Select[Any]:
    """The ids of expired rows in id order (the caller adds keyset and limit)."""
    query = select(target.id_column).where(target.expired(rule, now))
    if honour_holds and target.customer_column is not None:
        held = target.customer_column.in_(_held_customers(now))
        query = query.where(~held | target.customer_column.is_(None))
    if honour_holds and rule.category == "customer_profile":
        # a person whose request is still open is answered before anything expires
        pending = select(SubjectRequest.customer_id).where(
            SubjectRequest.state.in_(("received", "verifying", "in_progress")),
            SubjectRequest.customer_id.is_not(None),
        )
        query = query.where(~Customer.id.in_(pending))
    return query.order_by(target.id_column)
