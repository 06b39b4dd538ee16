"""Offline verification of a consent receipt (``governance-consent-receipt/1``).

A receipt holds an event, the audit-log leaf that recorded it (canonical JSON), the leaf's
RFC 9162 inclusion proof and the signed checkpoint (tree head) the proof leads to. Verifying
checks, with nothing but this file and a public key the verifier trusts: the leaf hash is
``SHA-256(0x00 || leaf)``; the leaf records this event (its id, purpose, customer, action); the
inclusion proof leads from the leaf hash to the checkpoint's root (RFC 9162 2.1.3.2); and the
checkpoint is signed by the trusted key (Ed25519).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.errors import AuditError
from audit.inclusion import InclusionDocumentError, verify_document

FORMAT = "governance-consent-receipt/1"


class ReceiptError(AuditError, ValueError):
    """The receipt does not verify, or is not a receipt; the message says which check failed."""


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a verified receipt proves."""

    event_id: str
    action: str
    purpose: str
    subject_id: str
    timestamp: str
    tree_size: int
    key_id: str


def verify_receipt(data: Any, public_key: Ed25519PublicKey) -> VerifiedReceipt:
    """Check a parsed receipt against a trusted key; raise ReceiptError naming the failed check.

    The leaf hash, inclusion proof and checkpoint signature are checked by
    ``audit.inclusion.verify_document`` (shared with erasure certificates); this adds that the
    leaf records the receipt's event.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReceiptError(f"not a consent receipt (format {FORMAT} expected)")
    try:
        proven = verify_document(data, public_key)
    except InclusionDocumentError as exc:
        raise ReceiptError(str(exc)) from None
    entry, checkpoint = proven.entry, proven.checkpoint
    event = data.get("event") or {}
    details = entry.get("details") or {}
    expected = (event.get("id"), f"consent.{event.get('action')}", event.get("purpose"),
                event.get("customer_id"))  # fmt: skip
    found = (details.get("event"), entry.get("action"), entry.get("purpose"),
             entry.get("subject_id"))  # fmt: skip
    if expected != found:
        raise ReceiptError("the leaf does not record this event (id, action, purpose, customer)")
    return VerifiedReceipt(
        str(found[0]), str(event.get("action")), str(found[2]), str(found[3]),
        str(entry.get("timestamp")), checkpoint.tree_size, checkpoint.key_id,
    )  # fmt: skip
