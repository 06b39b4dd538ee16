"""What the console, the dashboard and ``/readyz`` say about backups: the list and the health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.context import Call
from governance.models import BackupVerification
from governance.services.backups import files
from governance.services.backups.verify import result_json
from governance.services.evidence.dashboard import N_, State, Tile, provider

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
    return _latest_in(call.session)


def _latest_in(session: Session) -> dict[str, BackupVerification]:
    found: dict[str, BackupVerification] = {}
    for row in session.scalars(select(BackupVerification).order_by(BackupVerification.started_at)):
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
    """Backup health for the caller's session (see ``health_of``)."""
    return health_of(call.session, call.settings, call.now())


def health_of(session: Session, settings: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``ok`` when the newest backup passed a verification within the schedule (plus a day's
    grace); ``failing`` when its latest verification failed or was interrupted; ``overdue`` when
    nothing recent was verified; ``unverified`` for a new backup not checked yet; ``off`` when
    backups are not scheduled and none exist."""
    every = int(settings.get("BACKUP_EVERY_HOURS") or 0)
    ids = files.backup_ids(files.backup_dir(settings))
    if not ids:
        return {"state": "off" if every == 0 else "overdue", "detail": "no backups yet"}
    newest = ids[-1]
    last = _latest_in(session).get(newest)
    if last is None:
        age = now - files.created_at(newest)
        state = "overdue" if every and age > timedelta(hours=every + 24) else "unverified"
        return {"state": state, "backup_id": newest, "detail": "newest backup never verified"}
    status = verification_status(last, now)
    if status in ("failed", "interrupted"):
        detail = f"verification {status}: {last.failed_check or ''}".strip(" :")
        return {"state": "failing", "backup_id": newest, "detail": detail}
    if status == "running":
        return {"state": "ok", "backup_id": newest, "detail": "verification running"}
    limit = timedelta(hours=(every or 24) + 24)
    if every and last.finished_at and now - last.finished_at > limit:
        return {"state": "overdue", "backup_id": newest, "detail": "last verification too old"}
    return {"state": "ok", "backup_id": newest, "detail": "newest backup verified"}


@provider("backups", pages=("console.backups",), order=50)
def _tile(call: Call) -> Tile:
    """The newest backup and whether it was proven by a restore."""
    found = health(call)
    states: dict[str, State] = {"ok": "good", "failing": "bad", "overdue": "bad"}
    state: State = states.get(found["state"], "warn")
    value = found.get("backup_id", "—")[:15].replace("T", " ")
    return Tile("backups", N_("Last backup"), value, N_("verification: %(state)s"),
                "console.backups", state=state, detail_args={"state": found["state"]})  # fmt: skip
