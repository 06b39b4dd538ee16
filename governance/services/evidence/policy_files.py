"""The policy files in force (every file under ``policies/``: RBAC model and rules, purposes,
visibility, fields, PII and whatever other domains add) with their change history from the
audit log.

Each file is identified by its SHA-256. When the set of hashes differs from the one the log
last recorded, ``observe`` appends ``policy.files`` with the files that changed (added, changed,
removed), so the log holds a dated history of every policy version the server has run with;
``policy.load`` entries (the enforced Casbin rules reloaded) are part of the history too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.models import AuditEntry
from governance.policyfiles import POLICY_DIR

HISTORY_ACTIONS = ("policy.files", "policy.load")
SHOWN_SUFFIXES = (".csv", ".conf", ".yaml", ".yml", ".json", ".txt", ".md")


@dataclass(frozen=True)
class PolicyFile:
    name: str
    sha256: str
    size: int


def files(directory: Path = POLICY_DIR) -> list[PolicyFile]:
    """Every regular file of the policy directory (listed, so files others add appear)."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            data = path.read_bytes()
            found.append(PolicyFile(path.name, hashlib.sha256(data).hexdigest(), len(data)))
    return found


def read(name: str, directory: Path = POLICY_DIR) -> str | None:
    """A policy file's text, or None if ``name`` is not one of the listed files."""
    if name not in {f.name for f in files(directory)} or not name.endswith(SHOWN_SUFFIXES):
        return None
    return (directory / name).read_text(encoding="utf-8")


def _last_recorded(call: Call) -> dict[str, str]:
    leaf = call.session.scalar(
        select(AuditEntry.leaf)
        .where(AuditEntry.action == "policy.files")
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    if leaf is None:
        return {}
    details = json.loads(leaf).get("details") or {}
    return dict(details.get("files") or {})


def observe(call: Call, directory: Path = POLICY_DIR) -> dict[str, str]:
    """Record ``policy.files`` if the files differ from the last recorded set (caller commits);
    return the current ``{name: sha256}``.

    Only integrated entries are compared, so two observations a moment apart may both record
    the same change; the history reads the same either way.
    """
    current = {f.name: f.sha256 for f in files(directory)}
    before = _last_recorded(call)
    if current != before:
        changed = sorted(n for n in current if n in before and before[n] != current[n])
        call.audit.record(
            call.session, call.actor, "policy.files", now=call.now(), resource="policy",
            details={"files": current, "added": sorted(set(current) - set(before)),
                     "changed": changed, "removed": sorted(set(before) - set(current))},
        )  # fmt: skip
    return current


def history(call: Call, limit: int = 100) -> list[dict[str, Any]]:
    """The newest policy changes in the log: when, who, what (newest first)."""
    rows = call.session.execute(
        select(AuditEntry.seq, AuditEntry.timestamp, AuditEntry.action, AuditEntry.actor_id,
               AuditEntry.leaf)
        .where(AuditEntry.action.in_(HISTORY_ACTIONS))
        .order_by(AuditEntry.seq.desc())
        .limit(limit)
    ).all()  # fmt: skip
    out = []
    for seq, timestamp, action, actor_id, leaf in rows:
        details = json.loads(leaf).get("details") or {}
        if action == "policy.files":
            what = {k: details.get(k, []) for k in ("added", "changed", "removed")}
        else:
            what = {"changed": [details.get("source", "policy.csv")],
                    "rules": details.get("rules")}  # fmt: skip
        out.append({"seq": seq, "timestamp": timestamp, "action": action,
                    "actor_id": actor_id, **what})  # fmt: skip
    return out
