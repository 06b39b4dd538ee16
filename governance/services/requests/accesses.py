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

from sqlalchemy import CompoundSelect, select, union_all
from sqlalchemy.orm import Session

from governance.models import AuditEntry, AuditQueued, AuditSubject

COLUMNS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "purpose",
    "outcome", "leaf",
)  # fmt: skip


def entries_query(customer_id: str) -> CompoundSelect[Any]:
    """Integrated entries naming ``customer_id``, in log order: two index joins from the
    subject index (by queue id, and by ``seq`` for entries older than the index), never a scan
    of ``audit_entries`` (an ``OR`` of two ``IN`` lists makes PostgreSQL scan it)."""
    cols = [AuditEntry.seq.label("entry_seq"), *(getattr(AuditEntry, c) for c in COLUMNS)]
    by_qid = (
        select(*cols)
        .join(AuditSubject, AuditSubject.qid == AuditEntry.qid)
        .where(AuditSubject.customer_id == customer_id, AuditSubject.qid.is_not(None))
    )
    by_seq = (
        select(*cols)
        .join(AuditSubject, AuditSubject.seq == AuditEntry.seq)
        .where(AuditSubject.customer_id == customer_id, AuditSubject.seq.is_not(None))
    )
    return union_all(by_qid, by_seq).order_by("entry_seq")


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
