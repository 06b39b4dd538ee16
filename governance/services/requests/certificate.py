"""Erasure certificates: what was erased, when, and the audit entry that records it with its
RFC 9162 inclusion proof against a signed checkpoint, so anyone holding the log's public key can
verify it offline (``python -m audit verify-inclusion CERT --key PUB``).

The JSON has the same ``leaf``, ``leaf_hash``, ``inclusion`` and ``checkpoint`` members as a
consent receipt. While the entry waits for integration the answer is 409 with Retry-After; once
integrated, a checkpoint covering it is signed if none does yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from audit.checkpoint import public_key_pem
from audit.proofs import prove_inclusion
from governance.context import Call
from governance.errors import Conflict
from governance.models import AuditCheckpoint, AuditEntry, SubjectRequest
from governance.services.auditlog.append import SqlNodeStore, to_checkpoint
from governance.services.auditlog.views import NotYetIntegrated
from governance.services.requests.workflow import _iso, load

FORMAT = "governance-erasure-certificate/v1"
ERASED = {
    "customer_profile": "crypto-shredded: the data key was destroyed, the row deleted, a "
    "tombstone (the id only) kept, so no copy of the ciphertext, backups included, can be read",
    "orders": "deleted with the customer (their sealed items and comments can no longer be read)",
    "interactions": "deleted with the customer (their sealed notes can no longer be read)",
}
KEPT = {
    "audit_log": "kept: entries name the customer's id, roles, purposes and field names, never "
    "a personal value; erasing them would break the log's proofs (GDPR Art. 5(2), 17(3)(b))",
    "backups": "restoring a backup re-applies every tombstone before data is served",
}


def certificate(call: Call, request_id: str) -> dict[str, Any]:
    """The certificate of a completed erasure; 409 otherwise (or while not yet integrated)."""
    request = load(call, request_id)
    if request.kind != "erasure" or request.state != "completed":
        raise Conflict("only a completed erasure request has a certificate")
    if request.erasure_qid is None:
        raise Conflict("this request erased nothing: the subject was not held")
    entry = call.session.scalars(
        select(AuditEntry).where(AuditEntry.qid == request.erasure_qid)
    ).first()
    if entry is None:
        raise NotYetIntegrated("the erasure's audit entry is not integrated yet; retry shortly")
    cp_row = call.session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= entry.seq)
        .order_by(AuditCheckpoint.tree_size)
        .limit(1)
    ).first()
    checkpoint = (
        to_checkpoint(cp_row) if cp_row else call.audit.checkpoint(call.session, call.now())
    )
    proof = prove_inclusion(SqlNodeStore(call.session), entry.seq - 1, checkpoint.tree_size)
    return {
        "format": FORMAT,
        "request": _request(request),
        "subject_id": request.customer_id,
        "erased_at": entry.timestamp,
        "erased": [{"category": k, "how": v} for k, v in ERASED.items()],
        "exceptions": [{"category": k, "why": v} for k, v in KEPT.items()],
        "entry": {"seq": entry.seq, "action": entry.action},
        "leaf": entry.leaf,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "inclusion": {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "proof": [h.hex() for h in proof.proof],
        },
        "checkpoint": checkpoint.to_json(),
        "public_key": public_key_pem(call.audit.signing_key).decode("ascii"),
        "verify": "python -m audit verify-inclusion CERTIFICATE.json --key audit_public_key.pem",
    }


def _request(request: SubjectRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "jurisdiction": request.jurisdiction,
        "received_at": _iso(request.received_at),
        "due_at": _iso(request.due_at),
        "completed_at": _iso(request.completed_at),
        "verification": request.verification,
    }


def certificate_pdf(call: Call, request_id: str) -> bytes:
    """The certificate as a readable PDF (the JSON's facts and its proof)."""
    from reports.erasure_certificate import build

    return build(certificate(call, request_id))
