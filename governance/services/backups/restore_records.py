"""Signed restore records: the one explained exception to "a log shorter than a checkpoint ever
issued fails".

When a backup is restored and the live log is not there to bring the restored log forward, the
restored log is legitimately shorter than the newest checkpoint kept outside the database
(``auditlog/witness.py``). The restore then writes a record, signed with the audit signing key
(Ed25519), beside the kept checkpoint (``<key stem>.restore.json``): the backup, the tree size
and root restored from, and the kept checkpoint it supersedes. Live verification accepts exactly
that gap (the kept checkpoint named by a valid record) and reports it; any other shortfall fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint
from governance.context import Call
from governance.services.backups import files


def record_path(call: Call) -> Path | None:
    witness = call.audit.witness
    path = getattr(witness, "path", None)
    if not isinstance(path, Path):
        return None
    return path.with_name(path.name.replace(".checkpoint.json", "") + ".restore.json")


def load(call: Call) -> list[dict[str, Any]]:
    """Restore records whose signature verifies (others are ignored: they explain nothing)."""
    path = record_path(call)
    if path is None or not path.exists():
        return []
    try:
        docs = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return []
    key = call.audit.signing_key.public_key()
    good = []
    for doc in docs if isinstance(docs, list) else []:
        try:
            files.check_signature(doc, key)
        except files.ManifestError:
            continue
        good.append(doc)
    return good


def write(call: Call, record: dict[str, Any]) -> Path | None:
    """Append a signed record; return the file."""
    path = record_path(call)
    if path is None:
        return None
    existing = load(call)
    signed = files.sign_manifest(record, call.audit.signing_key)
    files.write_json(path, [*existing, signed])
    return path


def explainer(call: Call) -> Any:
    """``(kept checkpoint, tree size) -> reason or None`` for live verification."""
    records = load(call)

    def explain(kept: Checkpoint, tree_size: int) -> str | None:
        for doc in reversed(records):
            superseded = doc.get("superseded_checkpoint") or {}
            if (
                superseded.get("tree_size") == kept.tree_size
                and superseded.get("root_hash") == kept.root_hash.hex()
                and int(doc.get("restored_tree_size", -1)) <= tree_size
            ):
                return (
                    f"restored from backup {doc.get('backup_id')} at tree size "
                    f"{doc.get('restored_tree_size')} on {doc.get('at')}; the kept checkpoint at "
                    f"tree size {kept.tree_size} belongs to the log before the restore"
                )
        return None

    return explain


def explains(call: Call, first: int) -> str | None:
    """Whether the live log was restored from a point before tree size ``first``."""
    for doc in reversed(load(call)):
        if int(doc.get("restored_tree_size", -1)) < first:
            return f"restore record of backup {doc.get('backup_id')} ({doc.get('at')})"
    return None
