"""Consent receipts: an event, its audit-log leaf and the leaf's RFC 9162 inclusion proof
against a signed checkpoint, so anyone with the log's public key can check offline (``python -m
audit receipt FILE --public-key PEM``) that the event is in the log as it was recorded.

The receipt of an event whose entry is queued but not integrated yet answers 409 with
``Retry-After``; once integrated, a checkpoint covering it is issued if none does yet.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from audit.checkpoint import public_key_pem
from audit.proofs import prove_inclusion
from governance.context import Call
from governance.errors import NotFound
from governance.models import AuditCheckpoint, AuditEntry, ConsentEvent
from governance.models.ids import is_id
from governance.services.auditlog.append import SqlNodeStore, to_checkpoint
from governance.services.auditlog.views import NotYetIntegrated, checkpoint_now
from governance.services.consent.ledger import event_json

FORMAT = "governance-consent-receipt/1"


def receipt(call: Call, event_id: str) -> dict[str, Any]:
    """The receipt of consent event ``event_id`` (404 unknown, 409 not integrated yet)."""
    event = (
        call.session.scalars(select(ConsentEvent).where(ConsentEvent.id == event_id)).first()
        if is_id(event_id)
        else None
    )
    if event is None or event.audit_qid is None:
        raise NotFound("no consent event with that id")
    entry = call.session.scalars(
        select(AuditEntry).where(AuditEntry.qid == event.audit_qid)
    ).first()
    if entry is None:
        raise NotYetIntegrated(
            "the event's audit entry is committed but not integrated into the log yet; retry"
        )
    row = call.session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= entry.seq)
        .order_by(AuditCheckpoint.tree_size)
        .limit(1)
    ).first()
    checkpoint = to_checkpoint(row) if row is not None else checkpoint_now(call)
    proof = prove_inclusion(SqlNodeStore(call.session), entry.seq - 1, checkpoint.tree_size)
    return {
        "format": FORMAT,
        "event": event_json(event),
        "leaf": entry.leaf,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "inclusion": {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "proof": [h.hex() for h in proof.proof],
        },
        "checkpoint": checkpoint.to_json(),
        "public_key": public_key_pem(call.audit.signing_key).decode("ascii"),
    }


def receipt_text(data: dict[str, Any]) -> str:
    """The receipt as the JSON file a person keeps (sorted keys, indented)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
