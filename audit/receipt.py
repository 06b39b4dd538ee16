"""Offline verification of a consent receipt (``governance-consent-receipt/1``).

A receipt holds an event, the audit-log leaf that recorded it (canonical JSON), the leaf's
RFC 9162 inclusion proof and the signed checkpoint (tree head) the proof leads to. Verifying
checks, with nothing but this file and a public key the verifier trusts: the leaf hash is
``SHA-256(0x00 || leaf)``; the leaf records this event (its id, purpose, customer, action); the
inclusion proof leads from the leaf hash to the checkpoint's root (RFC 9162 2.1.3.2); and the
checkpoint is signed by the trusted key (Ed25519).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import Checkpoint, CheckpointError, verify_checkpoint
from audit.errors import AuditError
from audit.hashing import leaf_hash
from audit.proofcheck import ProofError, verify_inclusion

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


def _hex(value: Any, what: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        return bytes.fromhex(value)
    except ValueError:
        raise ReceiptError(f"{what} is not hex") from None


def verify_receipt(data: Any, public_key: Ed25519PublicKey) -> VerifiedReceipt:
    """Check a parsed receipt against a trusted key; raise ReceiptError naming the failed check."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReceiptError(f"not a consent receipt (format {FORMAT} expected)")
    leaf = data.get("leaf")
    if not isinstance(leaf, str):
        raise ReceiptError("the receipt has no leaf")
    digest = leaf_hash(leaf.encode("utf-8"))
    if digest != _hex(data.get("leaf_hash"), "leaf_hash"):
        raise ReceiptError("leaf hash mismatch: the leaf is not the one that was logged")
    try:
        entry = json.loads(leaf)
    except ValueError:
        raise ReceiptError("the leaf is not JSON") from None
    event = data.get("event") or {}
    details = entry.get("details") or {}
    expected = (event.get("id"), f"consent.{event.get('action')}", event.get("purpose"),
                event.get("customer_id"))  # fmt: skip
    found = (details.get("event"), entry.get("action"), entry.get("purpose"),
             entry.get("subject_id"))  # fmt: skip
    if expected != found:
        raise ReceiptError("the leaf does not record this event (id, action, purpose, customer)")
    inclusion = data.get("inclusion") or {}
    try:
        checkpoint = Checkpoint.from_json(data.get("checkpoint"))
        verify_checkpoint(public_key, checkpoint)
    except CheckpointError as exc:
        raise ReceiptError(f"checkpoint: {exc}") from None
    proof = [_hex(h, "proof hash") for h in inclusion.get("proof") or []]
    index, size = inclusion.get("leaf_index"), inclusion.get("tree_size")
    if not isinstance(index, int) or size != checkpoint.tree_size:
        raise ReceiptError("the inclusion proof is not for the checkpoint's tree size")
    try:
        verify_inclusion(digest, index, checkpoint.tree_size, proof, checkpoint.root_hash)
    except ProofError as exc:
        raise ReceiptError(f"inclusion proof: {exc}") from None
    return VerifiedReceipt(
        str(found[0]), str(event.get("action")), str(found[2]), str(found[3]),
        str(entry.get("timestamp")), checkpoint.tree_size, checkpoint.key_id,
    )  # fmt: skip
