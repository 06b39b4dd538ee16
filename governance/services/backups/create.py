"""Taking a backup: snapshot, figures, encryption, the signed manifest, the tombstone export.

The backup is anchored to the audit log: before the snapshot a checkpoint is signed, and the
manifest records the tree size and root the snapshot holds plus the newest signed checkpoint in
it. Verification later proves the restored log reaches exactly that head and that the live log
extends it (RFC 9162 consistency proof).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Connection, Engine, text

from audit.checkpoint import Checkpoint
from audit.tree import Frontier
from governance.context import Call
from governance.crypto.backupfile import CHUNK_SIZE, encrypt_stream
from governance.services.backups import dumps, files

log = logging.getLogger(__name__)
FORMAT = 1
Progress = Callable[[int, int | None], None]


class _Counting:
    """A write-through file wrapper that counts and hashes what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.size = 0
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.size += len(data)
        self.sha.update(data)
        return len(data)


def describe(conn: Connection) -> dict[str, Any]:
    """What a database holds, for the manifest: schema revision, tables, audit head, tombstones."""
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    size, frontier = conn.execute(text("SELECT size, frontier FROM audit_state WHERE id = 1")).one()
    root = Frontier.from_json(json.loads(frontier)).root()
    cp_row = conn.execute(
        text("SELECT tree_size, root_hash, timestamp, key_id, signature FROM audit_checkpoints "
             "WHERE tree_size <= :s ORDER BY tree_size DESC LIMIT 1"),
        {"s": size},
    ).first()  # fmt: skip
    checkpoint = (
        Checkpoint(int(cp_row[0]), bytes(cp_row[1]), cp_row[2], cp_row[3], bytes(cp_row[4]))
        if cp_row
        else None
    )
    count = conn.execute(text("SELECT count(*) FROM tombstones")).scalar_one()
    last = conn.execute(
        text("SELECT subject_id, erased_at FROM tombstones ORDER BY erased_at DESC, subject_id "
             "DESC LIMIT 1")
    ).first()  # fmt: skip
    return {
        "schema_revision": revision,
        "tables": dumps.table_figures(conn),
        "audit": {
            "tree_size": int(size),
            "root_hash": root.hex(),
            "checkpoint": checkpoint.to_json() if checkpoint else None,
        },
        "tombstones": {
            "count": int(count),
            "last": {"subject_id": last[0], "erased_at": str(last[1])} if last else None,
        },
    }


def create_backup(call: Call, progress: Progress | None = None) -> dict[str, Any]:
    """Take, encrypt and sign one backup; return its manifest. Commits (a long job).

    Raises BackupDirError, ToolMissing or DumpFailed; nothing is left marked good then.
    """
    directory = files.ensure_dir(files.backup_dir(call.settings))
    now = call.now()
    backup_id = files.new_id(now)
    call.audit.record(call.session, call.actor, "backup.start", now=now, resource="backup",
                      details={"backup_id": backup_id})  # fmt: skip
    call.audit.checkpoint(call.session, now)
    call.session.commit()
    target = files.backup_path(directory, backup_id)
    try:
        try:
            manifest = _write(call, directory, backup_id, target, progress)
        except (OSError, sqlite3.Error) as exc:
            raise files.BackupDirError(f"backup directory {directory}: {exc}") from None
    except Exception as exc:
        target.unlink(missing_ok=True)
        call.session.rollback()
        call.audit.record_alone(
            call.session, call.actor, "backup.create", now=call.now(), resource="backup",
            outcome="failed", details={"backup_id": backup_id, "error": str(exc)[:300]},
        )  # fmt: skip
        raise
    call.audit.record(call.session, call.actor, "backup.create", now=call.now(), resource="backup",
                      details={"backup_id": backup_id, "size": manifest["file"]["size"],
                               "tree_size": manifest["audit"]["tree_size"]})  # fmt: skip
    call.session.commit()
    export_tombstones(call, directory)
    keep, rule = retention_days(call)
    removed = files.prune(directory, call.now(), keep)
    if removed:
        details = {"removed": removed, "keep_days": keep, "rule": rule}
        call.audit.record(call.session, call.actor, "backup.prune", now=call.now(),
                          resource="backup", details=details)  # fmt: skip
        call.session.commit()
    return manifest


def retention_days(call: Call) -> tuple[int, str | None]:
    """How many days backups are kept, and the rule that says so.

    The ``backups`` rule of ``policies/retention.yaml`` decides when it expires backups; without
    one, ``GOVERNANCE_BACKUP_RETENTION_DAYS`` does (rule None).
    """
    from governance.services.retention import rules

    for rule in rules.current().for_category("backups"):
        if rule.expires and rule.period_days:
            return rule.period_days, rule.id
    return int(call.settings.get("BACKUP_RETENTION_DAYS") or 30), None


def _write(
    call: Call, directory: Path, backup_id: str, target: Path, progress: Progress | None
) -> dict[str, Any]:
    engine = call.session.get_bind()
    url = engine.url.render_as_string(hide_password=False)  # type: ignore[union-attr]
    facts: dict[str, Any] = {}
    done = [0]

    def chunk(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], facts.get("dump_size"))

    def use(conn: Connection, stream: IO[bytes]) -> None:
        facts.update(describe(conn))
        with files.atomic_file(target) as out:
            counting = _Counting(out)
            facts["encryption"] = encrypt_stream(
                stream,
                counting,
                call.vault.keys,
                backup_id,
                on_chunk=chunk,
            )
        facts["file"] = {"name": target.name, "size": counting.size,
                         "sha256": counting.sha.hexdigest()}  # fmt: skip

    kind = dumps.kind(url)
    if kind == "sqlite":
        # The snapshot copy is made inside the backup directory: a directory that is full
        # fails here already, and no copy of the database lands on another disk.
        with dumps.private_dir(directory) as work:
            facts["dump_size"] = Path(dumps.sqlite_path(url)).stat().st_size
            tool = dumps.snapshot_sqlite(url, work, use, lambda _d, _t: None)
    else:
        tool = dumps.snapshot_postgresql(
            cast(Engine, engine), dumps.pg_tool("pg_dump", call.settings.get("PG_DUMP")), use
        )
    enc = facts["encryption"]
    manifest = {
        "format": FORMAT,
        "id": backup_id,
        "created_at": call.now().isoformat().replace("+00:00", "Z"),
        "database": {"kind": kind, "schema_revision": facts["schema_revision"], "tool": tool},
        "tables": facts["tables"],
        "audit": facts["audit"],
        "tombstones": facts["tombstones"],
        "encryption": {"cipher": "AES-256-GCM", "chunk_size": enc.get("chunk_size", CHUNK_SIZE),
                       "chunks": enc["chunks"], "kek_version": enc["kek_version"],
                       "format": "docs/backup-format.md"},
        "file": facts["file"],
    }  # fmt: skip
    signed = files.sign_manifest(manifest, call.audit.signing_key)
    files.write_json(files.manifest_path(directory, backup_id), signed)
    return signed


def export_tombstones(call: Call, directory: Path) -> Path | None:
    """Write every tombstone (ids and times only) beside the backups, signed: the erasures a
    restore must replay when the live database is gone. Failure here is logged, not fatal."""
    rows = call.session.execute(
        text("SELECT subject_id, erased_at FROM tombstones ORDER BY erased_at, subject_id")
    ).all()
    size = call.session.execute(text("SELECT size FROM audit_state WHERE id = 1")).scalar() or 0
    doc = {
        "exported_at": call.now().isoformat().replace("+00:00", "Z"),
        "audit_tree_size": int(size),
        "tombstones": [{"subject_id": r[0], "erased_at": str(r[1])} for r in rows],
    }
    path = directory / files.TOMBSTONE_FILE
    try:
        files.write_json(path, files.sign_manifest(doc, call.audit.signing_key))
    except files.BackupDirError as exc:
        log.error("could not export tombstones beside the backups: %s", exc)
        return None
    return path
