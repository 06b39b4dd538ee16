"""Offline verification of a document that proves one audit entry: an erasure certificate (or a
consent receipt, which has the same shape).

The document carries ``leaf`` (the entry's canonical JSON, RFC 9162 leaf), ``leaf_hash``
(lowercase hex of SHA-256(0x00 || leaf)), ``inclusion`` (``{"leaf_index", "tree_size",
"proof"}``, hashes lowercase hex) and ``checkpoint`` (``{"tree_size", "root_hash", "timestamp",
"signature", "key_id"}``, the signature base64). Verification needs the log's public key and
nothing else: no server, no database.
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


class InclusionDocumentError(AuditError, ValueError):
    """The document does not prove its entry: the message says which check failed."""


@dataclass(frozen=True)
class ProvenEntry:
    """What a verified document proves: this entry is leaf ``leaf_index`` of the signed tree."""

    entry: dict[str, Any]
    leaf_index: int
    checkpoint: Checkpoint


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise InclusionDocumentError(f"{what} must be 64 lowercase hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InclusionDocumentError(f"{what} is not hex") from None


def verify_document(doc: Any, public_key: Ed25519PublicKey) -> ProvenEntry:
    """Check the leaf hash, the inclusion proof against the checkpoint's root, and the
    checkpoint's signature; InclusionDocumentError naming the first check that fails."""
    if not isinstance(doc, dict):
        raise InclusionDocumentError("the document must be a JSON object")
    for name in ("leaf", "leaf_hash", "inclusion", "checkpoint"):
        if name not in doc:
            raise InclusionDocumentError(f"the document has no {name!r}")
    leaf = doc["leaf"]
    if not isinstance(leaf, str):
        raise InclusionDocumentError("leaf must be the entry's canonical JSON text")
    digest = _hex(doc["leaf_hash"], "leaf_hash")
    if leaf_hash(leaf.encode("utf-8")) != digest:
        raise InclusionDocumentError("leaf_hash is not the RFC 9162 hash of the leaf")
    try:
        checkpoint = Checkpoint.from_json(doc["checkpoint"])
        verify_checkpoint(public_key, checkpoint)
    except CheckpointError as exc:
        raise InclusionDocumentError(f"checkpoint: {exc}") from None
    proof = doc["inclusion"]
    if not isinstance(proof, dict):
        raise InclusionDocumentError("inclusion must be an object")
    index, size = proof.get("leaf_index"), proof.get("tree_size")
    if type(index) is not int or type(size) is not int:
        raise InclusionDocumentError("inclusion leaf_index and tree_size must be integers")
    if size != checkpoint.tree_size:
        raise InclusionDocumentError(
            f"the proof is for tree size {size}, the checkpoint for {checkpoint.tree_size}"
        )
    path = proof.get("proof")
    if not isinstance(path, list):
        raise InclusionDocumentError("inclusion proof must be a list of hashes")
    hashes = [_hex(h, "an inclusion proof hash") for h in path]
    try:
        verify_inclusion(digest, index, size, hashes, checkpoint.root_hash)
    except ProofError as exc:
        raise InclusionDocumentError(f"inclusion: {exc}") from None
    try:
        entry = json.loads(leaf)
    except ValueError:
        raise InclusionDocumentError("leaf is not JSON") from None
    return ProvenEntry(entry if isinstance(entry, dict) else {}, index, checkpoint)
