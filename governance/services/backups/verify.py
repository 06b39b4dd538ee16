"""Verification by restore: a backup counts as good only once it has been restored and checked.

Checks, in order; the first that fails names the result (``failed_check``):

``manifest``          the manifest is signed by the audit signing key (Ed25519)
``file``              the backup file's size and SHA-256 are the manifest's
``decrypt``           every chunk authenticates, in order, up to the final one (backupfile.py)
``restore``           the dump restores into a scratch database (temporary SQLite file, or a
                      temporary PostgreSQL database made and dropped here, via ``pg_restore``)
``schema-revision``   the restored ``alembic_version`` is the manifest's
``tables``            every table of the manifest is there with the same row count and digest
``audit-log``         the restored log verifies (RFC 9162 leaves, tree, checkpoints) and its head
                      is the manifest's tree size and root, which its signed checkpoint covers
``audit-consistency`` the live log extends that head (an RFC 9162 consistency proof)
``sample-decrypt``    a sample of customers decrypts with the restored data keys

The attempt is a ``backup_verifications`` row committed as ``running`` before any work; only the
end sets ``passed`` or ``failed``, together with its audit entry. A verification killed halfway
stays ``running``: it never reads as passed.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, CheckpointError, verify_checkpoint
from audit.errors import AuditError
from audit.proofs import prove_consistency
from audit.verify import VerifyError
from governance import crypto
from governance.context import Call
from governance.crypto.backupfile import BackupFileError, decrypt_chunks
from governance.errors import GovernanceError
from governance.models import BackupVerification, Customer, DataKey
from governance.services.auditlog.append import SqlNodeStore
from governance.services.auditlog.snapshot import snapshot
from governance.services.backups import dumps, files, restore_records
from governance.services.backups.create import describe

SAMPLE = 25
Progress = Callable[[int, int | None], None]
STEPS = ("manifest", "file", "decrypt", "restore", "schema-revision", "tables", "audit-log",
         "audit-consistency", "sample-decrypt")  # fmt: skip


class CheckFailed(GovernanceError):
    """One check failed; ``check`` names it (reported in the result, not raised to callers)."""

    status = 422
    slug = "backup-check-failed"
    title = "Backup verification failed"

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


class Checks:
    """The checks run so far and their outcome, in order."""

    def __init__(self, progress: Progress | None) -> None:
        self.done: list[dict[str, Any]] = []
        self.progress = progress

    @contextlib.contextmanager
    def run(self, name: str) -> Iterator[dict[str, Any]]:
        entry: dict[str, Any] = {"name": name, "status": "passed"}
        try:
            yield entry
        except CheckFailed:
            raise
        except (AuditError, BackupFileError, crypto.CryptoError, dumps.DumpFailed) as exc:
            raise CheckFailed(name, str(exc)) from None
        self.done.append(entry)
        if self.progress is not None:
            self.progress(len(self.done), len(STEPS))


def verify_backup(
    call: Call,
    backup_id: str,
    *,
    database: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Verify ``backup_id`` by restoring it (or check ``database``, restored by someone else,
    against it); record and return the result. Commits.

    Raises NotFound for an unknown id and ToolMissing without ``pg_restore`` (environment
    errors, nothing recorded); every other problem is a failed check in the result.
    """
    directory = files.backup_dir(call.settings)
    manifest = files.load_manifest(directory, backup_id)
    if manifest.get("database", {}).get("kind") == "postgresql" and database is None:
        dumps.pg_tool("pg_restore", call.settings.get("PG_DUMP"))
    row = BackupVerification(
        backup_id=backup_id, target="external" if database else "scratch", status="running",
        checks=[], actor_id=call.actor.id, started_at=call.now(),
    )  # fmt: skip
    call.session.add(row)
    call.session.commit()
    checks = Checks(progress)
    try:
        tree_size = _run(call, directory, manifest, database, checks)
        row.status, row.tree_size = "passed", tree_size
    except CheckFailed as failed:
        checks.done.append({"name": failed.check, "status": "failed", "detail": failed.detail})
        row.status, row.failed_check, row.detail = "failed", failed.check, failed.detail[:1000]
    except files.ManifestError as exc:
        checks.done.append({"name": "manifest", "status": "failed", "detail": exc.detail})
        row.status, row.failed_check, row.detail = "failed", "manifest", exc.detail
    row.checks, row.finished_at = checks.done, call.now()
    call.audit.record(
        call.session, call.actor, "backup.verify", now=call.now(), resource="backup",
        outcome="allowed" if row.status == "passed" else "failed",
        details={"backup_id": backup_id, "status": row.status, "failed_check": row.failed_check,
                 "target": row.target},
    )  # fmt: skip
    call.session.commit()
    return result_json(row)


def result_json(row: BackupVerification) -> dict[str, Any]:
    return {
        "id": row.id,
        "backup_id": row.backup_id,
        "target": row.target,
        "status": row.status,
        "failed_check": row.failed_check,
        "detail": row.detail,
        "checks": list(row.checks or []),
        "tree_size": row.tree_size,
        "started_at": row.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": row.finished_at.isoformat().replace("+00:00", "Z")
        if row.finished_at
        else None,
    }


def _run(
    call: Call, directory: Path, manifest: dict[str, Any], database: str | None, checks: Checks
) -> int:
    key = call.audit.signing_key.public_key()
    with checks.run("manifest"):
        try:
            files.check_signature(manifest, key)
        except files.ManifestError as exc:
            raise CheckFailed("manifest", exc.detail) from None
    if database is not None:
        return _check_database(call, manifest, database, checks, external=True)
    path = files.backup_path(directory, manifest["id"])
    with checks.run("file") as entry:
        size, digest = _file_digest(path)
        want = manifest.get("file", {})
        if size != want.get("size") or digest != want.get("sha256"):
            raise CheckFailed("file", f"{path.name} is {size} bytes with SHA-256 {digest[:16]}…; "
                              f"the manifest says {want.get('size')} bytes, "
                              f"{str(want.get('sha256'))[:16]}…")  # fmt: skip
        entry["detail"] = f"{size} bytes, SHA-256 matches"
    kind = manifest["database"]["kind"]
    if kind == "sqlite":
        with dumps.private_dir() as work:
            image = work / "restored.db"
            with checks.run("decrypt"), path.open("rb") as src:
                dumps.restore_sqlite(decrypt_chunks(src, call.vault.keys), image)
            with checks.run("restore"):
                _check_sqlite(image)
            return _check_database(call, manifest, f"sqlite:///{image}", checks)
    live = call.session.get_bind()
    if live.dialect.name != "postgresql":
        raise CheckFailed("restore", "a PostgreSQL backup is restored on the server's own "
                          "PostgreSQL; this server runs on SQLite")  # fmt: skip
    tool = dumps.pg_tool("pg_restore", call.settings.get("PG_DUMP"))
    with dumps.scratch_postgresql(live) as url:  # type: ignore[arg-type]
        failure: list[str] = []

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as src:
                try:
                    yield from decrypt_chunks(src, call.vault.keys)
                except BackupFileError as exc:
                    failure.append(str(exc))

        try:
            dumps.restore_postgresql(chunks(), url, tool, clean=False)
        except dumps.DumpFailed as exc:
            if not failure:
                checks.done.append({"name": "decrypt", "status": "passed"})
                raise CheckFailed("restore", exc.detail) from None
        if failure:
            raise CheckFailed("decrypt", failure[0])
        checks.done += [{"name": "decrypt", "status": "passed"},
                        {"name": "restore", "status": "passed"}]  # fmt: skip
        return _check_database(call, manifest, url, checks)


def _file_digest(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as src:
            while block := src.read(1 << 20):
                sha.update(block)
                size += len(block)
    except FileNotFoundError:
        raise CheckFailed("file", f"{path.name} is missing") from None
    return size, sha.hexdigest()


def _check_sqlite(image: Path) -> None:
    with image.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise CheckFailed("restore", "the decrypted image is not a SQLite database")


def _check_database(
    call: Call, manifest: dict[str, Any], url: str, checks: Checks, external: bool = False
) -> int:
    engine = create_engine(dumps_url(url))
    try:
        if external:
            return _check_external(call, manifest, engine, checks)
        return _check_engine(call, manifest, engine, checks)
    finally:
        engine.dispose()


def dumps_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _check_engine(call: Call, manifest: dict[str, Any], engine: Engine, checks: Checks) -> int:
    try:
        with engine.connect() as conn:
            facts = describe(conn)
    except Exception as exc:  # a missing audit or alembic table: the restore is incomplete
        detail = f"the restored database cannot be read: {_first_line(exc)}"
        raise CheckFailed("tables", detail) from None
    with checks.run("schema-revision") as entry:
        want = manifest["database"]["schema_revision"]
        if facts["schema_revision"] != want:
            raise CheckFailed("schema-revision",
                              f"restored {facts['schema_revision']}, manifest {want}")  # fmt: skip
        entry["detail"] = str(want)
    with checks.run("tables") as entry:
        _compare_tables(manifest["tables"], facts["tables"])
        entry["detail"] = f"{len(facts['tables'])} tables, " + ", ".join(
            f"{t} {f['rows']}" for t, f in facts["tables"].items()
            if t in ("customers", "orders", "interactions", "data_keys", "audit_entries")
        )  # fmt: skip
    head = manifest["audit"]
    with checks.run("audit-log") as entry:
        _check_restored_log(call, engine, head)
        entry["detail"] = f"tree size {head['tree_size']}, root {head['root_hash'][:16]}…"
    with checks.run("audit-consistency") as entry:
        entry["detail"] = _check_consistency(call, head)
    with checks.run("sample-decrypt") as entry:
        entry["detail"] = f"{_sample_decrypt(call, engine)} customers decrypted"
    return int(head["tree_size"])


def _check_external(call: Call, manifest: dict[str, Any], engine: Engine, checks: Checks) -> int:
    """A database restored by another tool (pgBackRest, WAL-G: any point in time): the schema is
    the live one, every table of the manifest exists, its audit log verifies and is a prefix of
    the live log, and its customers decrypt. Row figures are reported, not compared."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            facts = describe(conn)
    except Exception as exc:
        raise CheckFailed("tables", f"the database cannot be read: {_first_line(exc)}") from None
    with checks.run("schema-revision") as entry:
        live = call.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if facts["schema_revision"] != live:
            raise CheckFailed("schema-revision",
                              f"database {facts['schema_revision']}, live {live}")  # fmt: skip
        entry["detail"] = str(live)
    with checks.run("tables") as entry:
        missing = sorted(set(manifest["tables"]) - set(facts["tables"]))
        if missing:
            raise CheckFailed("tables", f"missing table {missing[0]}")
        entry["detail"] = ", ".join(f"{t} {f['rows']}" for t, f in facts["tables"].items()
                                    if t in ("customers", "orders", "data_keys"))  # fmt: skip
    head = facts["audit"]
    with checks.run("audit-log") as entry:
        _check_restored_log(call, engine, head)
        entry["detail"] = f"tree size {head['tree_size']}, root {head['root_hash'][:16]}…"
    with checks.run("audit-consistency") as entry:
        entry["detail"] = _check_consistency(call, head)
    with checks.run("sample-decrypt") as entry:
        entry["detail"] = f"{_sample_decrypt(call, engine)} customers decrypted"
    return int(head["tree_size"])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _compare_tables(want: dict[str, Any], got: dict[str, Any]) -> None:
    for table in sorted(want):
        if table not in got:
            raise CheckFailed("tables", f"missing table {table}")
        if want[table]["rows"] != got[table]["rows"]:
            raise CheckFailed("tables", f"table {table}: {got[table]['rows']} rows, manifest "
                              f"{want[table]['rows']}")  # fmt: skip
        if want[table]["sha256"] != got[table]["sha256"]:
            raise CheckFailed("tables", f"table {table}: content digest differs from the "
                              "manifest (a row was changed)")  # fmt: skip
    extra = sorted(set(got) - set(want))
    if extra:
        raise CheckFailed("tables", f"tables not in the manifest: {', '.join(extra)}")


def _check_restored_log(call: Call, engine: Engine, head: dict[str, Any]) -> None:
    key = call.audit.signing_key.public_key()
    with Session(engine) as session, snapshot(session) as snap:
        try:
            report = snap.verify(key)
        except VerifyError as exc:
            raise CheckFailed("audit-log", f"restored log: {exc}") from None
    if report.tree_size != head["tree_size"] or report.root_hash.hex() != head["root_hash"]:
        raise CheckFailed("audit-log", f"restored log ends at tree size {report.tree_size} root "
                          f"{report.root_hash.hex()[:16]}…, manifest {head['tree_size']} "
                          f"{head['root_hash'][:16]}…")  # fmt: skip
    if head.get("checkpoint"):
        try:
            cp = Checkpoint.from_json(head["checkpoint"])
            verify_checkpoint(key, cp)
        except CheckpointError as exc:
            raise CheckFailed("audit-log", f"manifest checkpoint: {exc}") from None
        if cp.tree_size > report.tree_size:
            raise CheckFailed("audit-log", "manifest checkpoint is beyond the restored log")


def _check_consistency(call: Call, head: dict[str, Any]) -> str:
    """Prove the live log extends the backup's head; return what was proven."""
    from governance.services.auditlog.append import tree_size

    first, root = int(head["tree_size"]), bytes.fromhex(head["root_hash"])
    live = tree_size(call.session)
    if first == 0:
        return "the backup's log is empty"
    if live < first:
        explained = restore_records.explains(call, first)
        if explained:
            return f"live log restored from an older backup: {explained}"
        raise CheckFailed("audit-consistency", f"fork: the live log holds {live} entries, fewer "
                          f"than the backup's {first}")  # fmt: skip
    proof = prove_consistency(SqlNodeStore(call.session), first, live)
    if proof.first_root != root:
        raise CheckFailed("audit-consistency", f"fork: the live log's root at tree size {first} "
                          "differs from the backup's")  # fmt: skip
    try:
        proof.verify()
    except AuditError as exc:
        raise CheckFailed("audit-consistency", str(exc)) from None
    return f"live tree size {live} extends the backup's {first} (consistency proof verified)"


def _sample_decrypt(call: Call, engine: Engine) -> int:
    vault = call.vault
    fields = sorted(vault.encrypted_fields("customers"))
    with Session(engine) as session:
        customers = session.scalars(select(Customer).order_by(Customer.id).limit(SAMPLE)).all()
        keys = {
            k.subject_id: k
            for k in session.scalars(
                select(DataKey).where(DataKey.subject_id.in_([c.id for c in customers]))
            )
        }
        for customer in customers:
            row = keys.get(customer.id)
            if row is None:
                raise CheckFailed("sample-decrypt", f"customer {customer.id} has no data key")
            try:
                dek = vault.keys.unwrap(crypto.WrappedKey(row.kek_version, bytes(row.wrapped)))
                cipher = crypto.FieldCipher(dek, bytes(row.key_id))
                for name in fields:
                    blob = getattr(customer, f"{name}_ct", None)
                    if blob is not None:
                        cipher.decrypt(crypto.FieldPlace("customers", name, customer.id, None),
                                       bytes(blob))  # fmt: skip
            except crypto.CryptoError as exc:
                raise CheckFailed("sample-decrypt", f"customer {customer.id}: {exc}") from None
        return len(customers)


def latest_verifications(session: Session, limit: int = 50) -> list[BackupVerification]:
    return list(
        session.scalars(
            select(BackupVerification).order_by(BackupVerification.started_at.desc()).limit(limit)
        )
    )
