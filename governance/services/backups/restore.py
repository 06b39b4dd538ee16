"""Restoring a backup so that nobody erased comes back (ARCHITECTURE invariant 3).

Order of work:

1. The manifest's signature and the file's SHA-256 are checked.
2. The erasures to replay are gathered *before* anything is overwritten: every tombstone of the
   live database (the server's own, even when it is also the target), else the signed tombstone
   file exported beside the backups. If neither can be had the restore is refused, unless the
   operator passes ``without_tombstones`` (audited, and said loudly).
3. The dump is restored into the target (SQLite backup API; ``pg_restore --clean``).
4. The audit log is brought forward: when the live log is another database that extends the
   backup's head (consistency proof), its entries, nodes, checkpoints and tree state after the
   backup are copied verbatim, so the restored log *is* the live log. Otherwise a signed restore
   record (``restore_records.py``) states the tree size restored from and the checkpoint it
   supersedes.
5. Every erasure is applied again in the target (rows, data key; the tombstone kept), each one
   audited in the target's log, deleted pages scrubbed (SQLite WAL checkpoint with
   ``secure_delete``; PostgreSQL ``VACUUM FULL``) before the target can serve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from audit.proofs import prove_consistency
from governance.context import Actor, Call
from governance.crypto.backupfile import BackupFileError, decrypt_chunks
from governance.database import configure_engine, release_deleted_pages
from governance.errors import GovernanceError
from governance.models import AuditCheckpoint, AuditEntry, AuditNode, AuditState, Tombstone
from governance.services.auditlog.append import AuditLog, SqlNodeStore, tree_size
from governance.services.backups import dumps, files, restore_records
from governance.services.backups.verify import _file_digest, dumps_url

Progress = Callable[[int, int | None], None]
CUSTOMER_TABLES = ("orders", "interactions")


class RestoreRefused(GovernanceError):
    """The restore cannot be done safely (bad backup, erasures unknown)."""

    status = 409
    slug = "restore-refused"
    title = "Restore refused"


def same_database(a: str, b: str) -> bool:
    ua, ub = make_url(dumps_url(a)), make_url(dumps_url(b))
    if ua.get_backend_name() == "sqlite" and ub.get_backend_name() == "sqlite":
        return Path(str(ua.database)).resolve() == Path(str(ub.database)).resolve()
    return (ua.host, ua.port, ua.database) == (ub.host, ub.port, ub.database)


def restore_backup(
    call: Call, backup_id: str, target: str, *, without_tombstones: bool = False
) -> dict[str, Any]:
    """Restore ``backup_id`` into ``target`` and replay erasures; return what was done."""
    directory = files.backup_dir(call.settings)
    manifest = files.load_manifest(directory, backup_id)
    try:
        files.check_signature(manifest, call.audit.signing_key.public_key())
    except files.ManifestError as exc:
        raise RestoreRefused(f"backup {backup_id}: {exc.detail}") from None
    path = files.backup_path(directory, backup_id)
    size, digest = _file_digest(path)
    if (size, digest) != (manifest["file"]["size"], manifest["file"]["sha256"]):
        raise RestoreRefused(f"backup {backup_id}: the file does not match its manifest")
    kind = manifest["database"]["kind"]
    if dumps.kind(target) != kind:
        raise RestoreRefused(f"backup {backup_id} is a {kind} backup; the target is not")
    live_url = call.session.get_bind().url.render_as_string(hide_password=False)  # type: ignore[union-attr]
    same = same_database(live_url, target)
    erasures, source = gather_erasures(call, directory)
    if erasures is None and not without_tombstones:
        raise RestoreRefused(
            f"the erasures recorded after backup {backup_id} cannot be had ({source}); restoring "
            "would bring erased people back. Pass --without-tombstones to restore anyway "
            "(audited)"
        )
    forward = None if same else live_forward(call, manifest)
    _restore_into(call, manifest, path, target)
    outcome = _finish_target(call, manifest, target, erasures or [], forward, without_tombstones)
    outcome.update(backup_id=backup_id, erasure_source=source,
                   without_tombstones=without_tombstones and erasures is None)  # fmt: skip
    if not same:
        call.audit.record(call.session, call.actor, "backup.restore", now=call.now(),
                          resource="backup", details=_public(outcome))  # fmt: skip
        call.session.commit()
    return outcome


def _public(outcome: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outcome.items() if k != "replayed_ids"}


def gather_erasures(call: Call, directory: Path) -> tuple[list[dict[str, Any]] | None, str]:
    """Every known erasure ``[{subject_id, erased_at}]`` and where it came from; None if none
    can be had (the live database lacks its tombstones and no valid tombstone file exists)."""
    try:
        rows = call.session.execute(
            text("SELECT subject_id, erased_at FROM tombstones ORDER BY erased_at")
        ).all()
        call.session.commit()
        return [{"subject_id": r[0], "erased_at": str(r[1])} for r in rows], "live database"
    except Exception:  # the live database is gone or empty: fall back to the exported file
        call.session.rollback()
    path = directory / files.TOMBSTONE_FILE
    try:
        doc = json.loads(path.read_bytes())
        files.check_signature(doc, call.audit.signing_key.public_key())
    except FileNotFoundError:
        return None, f"no live tombstones and no {path.name} in {directory}"
    except (OSError, ValueError, files.ManifestError) as exc:
        return None, f"{path.name} is not usable: {exc}"
    return list(doc["tombstones"]), f"{path.name} exported {doc.get('exported_at')}"


def live_forward(call: Call, manifest: dict[str, Any]) -> int | None:
    """The live tree size to bring the restored log forward to, if the live log extends the
    backup's head; None when it does not (a restore record is written instead)."""
    first = int(manifest["audit"]["tree_size"])
    try:
        live = tree_size(call.session)
        if live < first or first == 0:
            return None if live < first else live
        proof = prove_consistency(SqlNodeStore(call.session), first, live)
        proof.verify()
    except Exception:
        call.session.rollback()
        return None
    return live if proof.first_root.hex() == manifest["audit"]["root_hash"] else None


def _restore_into(call: Call, manifest: dict[str, Any], path: Path, target: str) -> None:
    try:
        if manifest["database"]["kind"] == "sqlite":
            with dumps.private_dir() as work, path.open("rb") as src:
                image = work / "restored.db"
                dumps.restore_sqlite(decrypt_chunks(src, call.vault.keys), image)
                dumps.install_sqlite(image, target)
            return
        tool = dumps.pg_tool("pg_restore", call.settings.get("PG_DUMP"))
        with path.open("rb") as src:
            dumps.restore_postgresql(decrypt_chunks(src, call.vault.keys), target, tool, True)
    except BackupFileError as exc:
        raise RestoreRefused(f"backup {manifest['id']}: {exc}") from None


def _finish_target(
    call: Call,
    manifest: dict[str, Any],
    target: str,
    erasures: list[dict[str, Any]],
    forward: int | None,
    without_tombstones: bool,
) -> dict[str, Any]:
    engine = create_engine(dumps_url(target))
    configure_engine(engine)
    log = AuditLog(
        call.audit.signing_key, call.audit.checkpoint_every, call.audit.checkpoint_seconds
    )
    actor = call.actor
    try:
        with Session(engine) as session:
            restored = int(manifest["audit"]["tree_size"])
            if forward is not None:
                _copy_log(call.session, session, restored)
                call.session.commit()
            replayed = _replay(session, log, actor, call.now(), erasures, manifest["id"])
            details = {"backup_id": manifest["id"], "restored_tree_size": restored,
                       "log_brought_forward_to": forward, "erasures_replayed": len(replayed),
                       "without_tombstones": without_tombstones}  # fmt: skip
            log.record(session, actor, "backup.restore", now=call.now(), resource="backup",
                       details=details)  # fmt: skip
            log.checkpoint(session, call.now())
            session.commit()
        _scrub(engine, bool(replayed))
    finally:
        engine.dispose()
    record = None
    if forward is None:
        record = _write_record(call, manifest)
    return {"restored_tree_size": restored, "log_brought_forward_to": forward,
            "erasures_replayed": len(replayed), "replayed_ids": replayed,
            "restore_record": str(record) if record else None}  # fmt: skip


def _copy_log(live: Session, target: Session, first: int) -> None:
    """Copy the live log after tree size ``first`` into the target, row for row."""
    conn = target.connection()
    for start in range(first, 1 << 62, 5000):
        rows = live.execute(
            select(AuditEntry.__table__)
            .where(AuditEntry.seq > start, AuditEntry.seq <= start + 5000)
            .order_by(AuditEntry.seq)
        ).mappings().all()  # fmt: skip
        if not rows:
            break
        conn.execute(insert(AuditEntry.__table__), [dict(r) for r in rows])
    for level in range(64):
        nodes = live.execute(
            select(AuditNode.__table__).where(AuditNode.level == level,
                                              AuditNode.idx >= first >> level)
        ).mappings().all()  # fmt: skip
        if nodes:
            conn.execute(insert(AuditNode.__table__), [dict(n) for n in nodes])
    cps = live.execute(
        select(AuditCheckpoint.__table__).where(AuditCheckpoint.tree_size > first)
    ).mappings().all()  # fmt: skip
    if cps:
        conn.execute(insert(AuditCheckpoint.__table__), [dict(c) for c in cps])
    state = live.execute(select(AuditState.__table__).where(AuditState.id == 1)).mappings().one()
    conn.execute(AuditState.__table__.update().where(AuditState.id == 1).values(**dict(state)))
    _advance_queue_ids(conn)


def _advance_queue_ids(conn: Any) -> None:
    """New queued entries must not reuse a queue id the copied entries were integrated from."""
    top = conn.execute(text("SELECT max(qid) FROM audit_entries")).scalar()
    if top is None:
        return
    if conn.dialect.name == "sqlite":
        where = "WHERE name = 'audit_queue'"
        conn.execute(text(f"UPDATE sqlite_sequence SET seq = max(seq, :top) {where}"),
                     {"top": top})  # fmt: skip
        conn.execute(text("INSERT INTO sqlite_sequence (name, seq) SELECT 'audit_queue', :top "
                          f"WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence {where})"),
                     {"top": top})  # fmt: skip
        return
    name = conn.execute(text("SELECT pg_get_serial_sequence('audit_queue', 'id')")).scalar()
    if name:
        last = conn.execute(text(f"SELECT last_value FROM {name}")).scalar()  # noqa: S608
        if int(top) > int(last or 0):
            conn.execute(text("SELECT setval(CAST(:name AS regclass), :top)"),
                         {"name": name, "top": top})  # fmt: skip


def _replay(
    session: Session,
    log: AuditLog,
    actor: Actor,
    now: datetime,
    erasures: list[dict[str, Any]],
    backup_id: str,
) -> list[str]:
    """Apply every erasure the target does not hold yet: rows and data key gone, tombstone kept."""
    held = set(session.scalars(select(Tombstone.subject_id)))
    replayed = []
    for item in erasures:
        subject = item["subject_id"]
        if subject in held:
            continue
        for table in CUSTOMER_TABLES:
            session.execute(text(f"DELETE FROM {table} WHERE customer_id = :s"), {"s": subject})  # noqa: S608
        session.execute(text("DELETE FROM customers WHERE id = :s"), {"s": subject})
        session.execute(text("DELETE FROM data_keys WHERE subject_id = :s"), {"s": subject})
        erased_at = _moment(item.get("erased_at"), now)
        ref = f"replayed after restore of backup {backup_id}"
        session.add(Tombstone(subject_id=subject, erased_at=erased_at, request_ref=ref))
        log.record(session, actor, "customer.erase.replayed", now=now, resource="customers",
                   subject_id=subject, details={"backup_id": backup_id})  # fmt: skip
        replayed.append(subject)
    session.flush()
    return replayed


def _moment(value: Any, default: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _scrub(engine: Engine, replayed: bool) -> None:
    """Make the deleted rows unrecoverable from the target's files too.

    SQLite: ``secure_delete`` zeroed the cells; the WAL's older page images are dropped.
    PostgreSQL: a deleted row stays in the table file until no snapshot anywhere on the server
    may need it, which ``VACUUM FULL`` cannot force on a busy server. So the survivors are copied
    aside and the tables truncated and refilled in one transaction: TRUNCATE gives each table a
    new file and the old one is emptied at commit, whatever other sessions are doing.
    """
    if engine.dialect.name == "sqlite":
        release_deleted_pages(engine)
        return
    if not replayed:
        return
    tables = ("customers", "orders", "interactions", "data_keys")  # parents before children
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"CREATE TEMP TABLE keep_{table} ON COMMIT DROP AS "
                              f"SELECT * FROM {table}"))  # fmt: skip  # noqa: S608
        conn.execute(text(f"TRUNCATE {', '.join(tables)}"))
        for table in tables:
            conn.execute(text(f"INSERT INTO {table} SELECT * FROM keep_{table}"))  # noqa: S608


def _write_record(call: Call, manifest: dict[str, Any]) -> Path | None:
    kept = None
    if call.audit.witness is not None:
        try:
            found = call.audit.witness.load()
        except Exception:
            found = None
        kept = found.to_json() if found else None
    return restore_records.write(call, {
        "backup_id": manifest["id"],
        "restored_tree_size": manifest["audit"]["tree_size"],
        "restored_root": manifest["audit"]["root_hash"],
        "superseded_checkpoint": kept,
        "at": call.now().isoformat().replace("+00:00", "Z"),
        "by": call.actor.id,
    })  # fmt: skip
