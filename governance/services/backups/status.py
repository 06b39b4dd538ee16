"""What the console, the dashboard and ``/readyz`` say about backups: the list and the health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.models import BackupVerification
from governance.services.backups import files
from governance.services.backups.verify import result_json

INTERRUPTED_AFTER = timedelta(hours=2)


def verification_status(row: BackupVerification, now: datetime) -> str:
    """``passed``, ``failed``, ``running``, or ``interrupted`` (running for too long: killed)."""
    if row.status == "running" and now - row.started_at > INTERRUPTED_AFTER:
        return "interrupted"
    return row.status


def list_backups(call: Call) -> list[dict[str, Any]]:
    """Backups in the directory, newest first, each with its latest verification."""
    directory = files.backup_dir(call.settings)
    rows = []
    latest = _latest_by_backup(call)
    for backup_id in reversed(files.backup_ids(directory)):
        try:
            manifest = files.load_manifest(directory, backup_id)
        except Exception:
            manifest = {}
        last = latest.get(backup_id)
        rows.append({
            "id": backup_id,
            "created_at": manifest.get("created_at"),
            "size": manifest.get("file", {}).get("size", 0),
            "database": manifest.get("database", {}).get("kind", "?"),
            "tree_size": manifest.get("audit", {}).get("tree_size"),
            "verification": None if last is None else {
                **result_json(last), "status": verification_status(last, call.now())},
        })  # fmt: skip
    return rows


def _latest_by_backup(call: Call) -> dict[str, BackupVerification]:
    found: dict[str, BackupVerification] = {}
    for row in call.session.scalars(
        select(BackupVerification).order_by(BackupVerification.started_at)
    ):
        if row.backup_id:
            found[row.backup_id] = row
    return found


def history(call: Call, limit: int = 100) -> list[dict[str, Any]]:
    """Verification attempts, newest first."""
    rows = call.session.scalars(
        select(BackupVerification).order_by(BackupVerification.started_at.desc()).limit(limit)
    )
    return [{**result_json(r), "status": verification_status(r, call.now())} for r in rows]


def health(call: Call) -> dict[str, Any]:
    """Backup health: ``ok`` when the newest backup passed a verification within the schedule
    (plus a day's grace); ``failing`` when its latest verification failed or was interrupted;
    ``overdue`` when nothing recent was verified; ``off`` when backups are not scheduled and
    none exist."""
    every = int(call.settings.get("BACKUP_EVERY_HOURS") or 0)
    directory = files.backup_dir(call.settings)
    ids = files.backup_ids(directory)
    now = call.now()
    if not ids:
        return {"state": "off" if every == 0 else "overdue", "detail": "no backups yet"}
    newest = ids[-1]
    last = _latest_by_backup(call).get(newest)
    if last is None:
        age = now - files.created_at(newest)
        state = "overdue" if every and age > timedelta(hours=every + 24) else "unverified"
        return {"state": state, "backup_id": newest, "detail": "newest backup never verified"}
    status = verification_status(last, now)
    if status in ("failed", "interrupted"):
        return {"state": "failing", "backup_id": newest,
                "detail": f"verification {status}: {last.failed_check or ''}".strip()}  # fmt: skip
    if status == "running":
        return {"state": "ok", "backup_id": newest, "detail": "verification running"}
    limit = timedelta(hours=(every or 24) + 24)
    if last.finished_at and now - last.finished_at > limit:
        return {"state": "overdue", "backup_id": newest, "detail": "last verification too old"}
    return {"state": "ok", "backup_id": newest, "detail": "newest backup verified"}
