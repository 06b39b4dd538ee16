"""Who read my data: every audit entry naming a customer, found through the entry -> subject
index (``audit_subjects``, written with each entry), never by scanning the log.

A list read records its subjects inside its entry; the index has a row for each, so a customer
listed on a page someone read is found like one read alone. Entries still waiting for
integration are included (from the queue, by their queue id).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from governance.models import AuditEntry, AuditQueued, AuditSubject

COLUMNS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "purpose",
    "outcome", "leaf",
)  # fmt: skip


def entries_query(customer_id: str) -> Select[Any]:
    """Integrated entries naming ``customer_id``, in log order (two index lookups)."""
    by_qid = select(AuditSubject.qid).where(
        AuditSubject.customer_id == customer_id, AuditSubject.qid.is_not(None)
    )
    by_seq = select(AuditSubject.seq).where(
        AuditSubject.customer_id == customer_id, AuditSubject.seq.is_not(None)
    )
    cols = [AuditEntry.seq, *(getattr(AuditEntry, c) for c in COLUMNS)]
    return (
        select(*cols)
        .where(AuditEntry.qid.in_(by_qid) | AuditEntry.seq.in_(by_seq))
        .order_by(AuditEntry.seq)
    )


def _shape(seq: int | None, row: Any) -> dict[str, Any]:
    values = dict(zip(COLUMNS, row, strict=True))
    try:
        details = json.loads(values.pop("leaf")).get("details") or {}
    except (ValueError, AttributeError):
        details = {}
    fields = details.get("fields") if isinstance(details, dict) else None
    return {
        "seq": seq,
        "when": values["timestamp"],
        "who": values["actor_id"],
        "who_type": values["actor_type"],
        "role": values["actor_role"],
        "action": values["action"],
        "resource": values["resource"],
        "purpose": values["purpose"],
        "outcome": values["outcome"],
        "fields": sorted(fields) if isinstance(fields, dict | list) else [],
    }


def accesses(session: Session, customer_id: str) -> Iterator[dict[str, Any]]:
    """Every entry naming the customer: who, which role, which purpose, when, which fields."""
    for row in session.execute(entries_query(customer_id).execution_options(yield_per=1000)):
        yield _shape(row[0], row[1:])
    pending = select(*(getattr(AuditQueued, c) for c in COLUMNS)).where(
        AuditQueued.id.in_(select(AuditSubject.qid).where(AuditSubject.customer_id == customer_id))
    )
    for row in session.execute(pending.order_by(AuditQueued.id)):
        yield _shape(None, row)
