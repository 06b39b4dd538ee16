"""Who read my data: every audit entry naming a customer, found through the entry -> subject
index (``audit_subjects``), never by scanning the log.

A list read records its subjects inside its entry; the index has a row for each, so a customer
listed on a page someone read is found like one read alone. The integrator writes an entry's
index rows in the transaction that integrates it (off the request path: one batch indexes
many entries at once); entries still waiting in the queue, which integration empties within
about a second, are read from the queue itself and included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from governance.models import AuditEntry, AuditQueued, AuditSubject
from governance.services.auditlog.append import leaf_subjects

COLUMNS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "purpose",
    "outcome", "leaf",
)  # fmt: skip


def entries_query(customer_id: str) -> Select[Any]:
    """Integrated entries naming ``customer_id``, in log order: one index range of the subject
    index joined to the entries by sequence number, never a scan of ``audit_entries``."""
    cols = [AuditEntry.seq.label("entry_seq"), *(getattr(AuditEntry, c) for c in COLUMNS)]
    return (
        select(*cols)
        .join(AuditSubject, AuditSubject.seq == AuditEntry.seq)
        .where(AuditSubject.customer_id == customer_id)
        .order_by(AuditSubject.seq)
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
    pending = select(AuditQueued.subject_id, *(getattr(AuditQueued, c) for c in COLUMNS))
    for row in session.execute(pending.order_by(AuditQueued.id)):
        if customer_id in leaf_subjects(row[0], row[-1]):
            yield _shape(None, row[1:])
