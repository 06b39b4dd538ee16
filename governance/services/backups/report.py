"""The backup verification report (``reports/backup_verification.py``) from a recorded
verification and the backup's signed manifest; audited like every report."""

from __future__ import annotations

from sqlalchemy import select

from governance.context import Call
from governance.errors import NotFound
from governance.models import BackupVerification
from governance.services.backups import files
from governance.services.backups.status import verification_status
from reports.backup_verification import (
    BackupVerificationReport,
    CheckLine,
    TableLine,
    build_backup_verification_report,
)


def latest_verification(call: Call, backup_id: str | None = None) -> BackupVerification:
    """The newest verification (of ``backup_id`` when given); NotFound when there is none."""
    query = select(BackupVerification).order_by(BackupVerification.started_at.desc()).limit(1)
    if backup_id is not None:
        query = query.where(BackupVerification.backup_id == backup_id)
    row = call.session.scalars(query).first()
    if row is None:
        raise NotFound("no backup verification yet" + (f" of {backup_id}" if backup_id else ""))
    return row


def verification_pdf(call: Call, backup_id: str | None = None) -> bytes:
    """The report of the newest verification (of ``backup_id``), audited ``backup.report``."""
    row = latest_verification(call, backup_id)
    try:
        manifest = files.load_manifest(files.backup_dir(call.settings), str(row.backup_id))
    except (NotFound, files.ManifestError):
        manifest = {}  # pruned since: the report still states what was checked
    audit = manifest.get("audit", {})
    cp = audit.get("checkpoint")
    anchor = (f"tree size {cp['tree_size']}, root {cp['root_hash'][:16]}..., signed "
              f"{cp['timestamp']} by key {cp['key_id']}") if cp else "none"  # fmt: skip
    pdf = build_backup_verification_report(
        BackupVerificationReport(
            generated_at=call.now(),
            backup_id=str(row.backup_id),
            database_kind=manifest.get("database", {}).get("kind", "?"),
            schema_revision=str(manifest.get("database", {}).get("schema_revision", "?")),
            backup_size=int(manifest.get("file", {}).get("size", 0)),
            backup_sha256=str(manifest.get("file", {}).get("sha256", "")),
            status=verification_status(row, call.now()),
            failed_check=row.failed_check,
            detail=row.detail,
            started_at=row.started_at.isoformat()[:19].replace("T", " "),
            finished_at=row.finished_at.isoformat()[:19].replace("T", " ")
            if row.finished_at
            else None,
            target="a scratch database, dropped afterwards"
            if row.target == "scratch"
            else "a database restored by another tool (--database)",
            tree_size=int(audit.get("tree_size", 0)),
            root_hash=str(audit.get("root_hash", "")),
            checkpoint=anchor,
            checks=[CheckLine(c["name"], c["status"], str(c.get("detail", "")))
                    for c in row.checks or []],
            tables=[TableLine(name, int(t["rows"]), str(t["sha256"]))
                    for name, t in sorted(manifest.get("tables", {}).items())],
        )
    )  # fmt: skip
    call.audit.record(call.session, call.actor, "backup.report", now=call.now(),
                      resource="backup", details={"backup_id": row.backup_id,
                                                  "verification": row.id})  # fmt: skip
    return pdf
