"""``governance backup create`` and ``verify``: the contract, and every fault of the issue's list
detected and named, never passed (SQLite, or PostgreSQL with GOVERNANCE_TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import os
import shutil
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backup_helpers import (
    create,
    directory,
    execute,
    invoke,
    manifest,
    person,
    resign,
    rewrite,
)
from conftest import PG_URL, make_app, make_customer
from sqlalchemy import select

from governance.bootstrap import deps
from governance.crypto import LocalKeySource
from governance.crypto.backupfile import decrypt_chunks, encrypt_stream
from governance.extensions import db
from governance.models import BackupVerification
from governance.services.backups import files
from governance.services.backups import verify as verifier


def failed_at(runner: Any, backup_id: str, check: str) -> Any:
    result = invoke(runner, "backup", "verify", backup_id)
    assert result.exit_code == 1, result.output
    assert f"failed verification at {check}" in result.output, result.output
    return result


def test_create_prints_the_id_last_and_verify_passes_every_check(
    runner: Any, call: Any, app: Any
) -> None:
    make_customer(call)
    backup_id = create(runner)
    folder = directory(app)
    assert files.ID.match(backup_id)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{backup_id}.backup", f"{backup_id}.manifest.json", "tombstones.json"]
    )
    doc = manifest(app, backup_id)
    assert doc["database"]["kind"] == ("postgresql" if PG_URL else "sqlite")
    assert doc["tables"]["customers"]["rows"] == 1
    assert doc["audit"]["checkpoint"]["tree_size"] <= doc["audit"]["tree_size"]
    assert doc["signature"]["alg"] == "Ed25519"
    # no plaintext personal data in the backup file
    assert b"Alice" not in files.backup_path(folder, backup_id).read_bytes()
    result = invoke(runner, "backup", "verify", backup_id)
    assert result.exit_code == 0, result.output
    for check in verifier.STEPS:
        assert f"{check}: passed" in result.output
    latest = invoke(runner, "backup", "verify", "--latest")
    assert latest.exit_code == 0, latest.output
    rows = call.session.scalars(select(BackupVerification)).all()
    assert [r.status for r in rows] == ["passed", "passed"]
    actions = [e.action for e in call.session.execute(
        select(db.metadata.tables["audit_entries"].c.action)).all()]  # fmt: skip
    assert "backup.create" in actions and "backup.verify" in actions


def test_usage_and_environment_errors_exit_2(runner: Any) -> None:
    assert invoke(runner, "backup", "verify").exit_code == 2
    assert invoke(runner, "backup", "verify", "20990101T000000Z-abcdef").exit_code == 2
    assert invoke(runner, "backup", "verify", "--latest").exit_code == 2  # no backups yet
    assert invoke(runner, "backup", "verify", "../../etc/passwd").exit_code == 2


def test_a_flipped_byte_fails(runner: Any, app: Any) -> None:
    backup_id = create(runner)
    path = files.backup_path(directory(app), backup_id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    failed_at(runner, backup_id, "file")
    resign(app, backup_id)  # even with a manifest that matches the damaged file
    failed_at(runner, backup_id, "decrypt")


def test_a_truncated_file_fails(runner: Any, app: Any) -> None:
    backup_id = create(runner)
    path = files.backup_path(directory(app), backup_id)
    path.write_bytes(path.read_bytes()[:-100])
    failed_at(runner, backup_id, "file")
    resign(app, backup_id)
    result = failed_at(runner, backup_id, "decrypt")
    assert "truncated" in result.output


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    (n,) = struct.unpack(">I", blob[8:12])
    head, rest, parts = blob[: 12 + n], blob[12 + n :], []
    while rest:
        (size,) = struct.unpack(">I", rest[:4])
        parts.append(rest[: 4 + size])
        rest = rest[4 + size :]
    return head, parts


def test_a_reordered_chunk_fails(runner: Any, app: Any, call: Any) -> None:
    for n in range(3):
        person(call, n)
    backup_id = create(runner)
    path = files.backup_path(directory(app), backup_id)
    keys = deps(app).keys
    with path.open("rb") as src:  # re-frame in small chunks, so there are several to swap
        plain = b"".join(decrypt_chunks(src, keys))
    with path.open("wb") as out:
        encrypt_stream(_Reader(plain), out, keys, backup_id, chunk_size=4096)
    head, parts = _chunks(path.read_bytes())
    assert len(parts) > 3
    path.write_bytes(head + b"".join([parts[0], parts[2], parts[1], *parts[3:]]))
    resign(app, backup_id)
    result = failed_at(runner, backup_id, "decrypt")
    assert "chunk 1" in result.output


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> bytes:
        part = self.data[self.at : self.at + n]
        self.at += n
        return part


def test_a_file_encrypted_with_another_key_fails(runner: Any, app: Any) -> None:
    backup_id = create(runner)
    path = files.backup_path(directory(app), backup_id)
    with path.open("rb") as src:
        plain = b"".join(decrypt_chunks(src, deps(app).keys))
    other = LocalKeySource({1: os.urandom(32)})
    with path.open("wb") as out:
        encrypt_stream(_Reader(plain), out, other, backup_id)
    resign(app, backup_id)
    result = failed_at(runner, backup_id, "decrypt")
    assert "cannot be unwrapped" in result.output


def test_a_manifest_whose_signature_fails(runner: Any, app: Any) -> None:
    backup_id = create(runner)
    path = files.manifest_path(directory(app), backup_id)
    doc = json.loads(path.read_text())
    doc["tables"]["customers"]["rows"] += 1  # claims more than was signed
    path.write_text(json.dumps(doc))
    result = failed_at(runner, backup_id, "manifest")
    assert "signature does not verify" in result.output


def test_a_manifest_that_does_not_match_its_backup(runner: Any, app: Any) -> None:
    first = create(runner)
    second = create(runner)
    folder = directory(app)
    shutil.copyfile(files.backup_path(folder, first), files.backup_path(folder, second))
    failed_at(runner, second, "file")


def test_a_missing_table_fails(runner: Any, app: Any, tmp_path: Path) -> None:
    backup_id = create(runner)
    rewrite(app, backup_id, lambda url: execute(url, "DROP TABLE pii_findings"), tmp_path)
    result = failed_at(runner, backup_id, "tables")
    assert "missing table pii_findings" in result.output


def test_a_changed_row_fails(runner: Any, app: Any, call: Any, tmp_path: Path) -> None:
    make_customer(call)
    backup_id = create(runner)
    rewrite(app, backup_id, lambda url: execute(url, "UPDATE customers SET country = 'GB'"),
            tmp_path)  # fmt: skip
    result = failed_at(runner, backup_id, "tables")
    assert "table customers: content digest differs" in result.output


def test_a_backup_whose_audit_log_forks_from_the_live_one(
    runner: Any, app: Any, template_db: str, tmp_path: Path
) -> None:
    """A backup of another database signed with the same key: its log and the live one share
    no history, and the consistency proof says so."""
    other = make_app(_copy_of_template(template_db, tmp_path), tmp_path / "instance")
    try:
        backup_id = create(other.test_cli_runner())
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    with app.app_context():  # the live log grows on its own, past the other one
        call = deps(app).call(db.session)
        for n in range(3):
            person(call, n)
        db.session.remove()
    result = failed_at(runner, backup_id, "audit-consistency")
    assert "fork" in result.output


def _copy_of_template(template_db: str, tmp_path: Path) -> str:
    if PG_URL is None:
        target = tmp_path / "other.db"
        shutil.copyfile(template_db, target)
        return f"sqlite:///{target}"
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"gov_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    admin.dispose()
    return make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)).set(
        database=name).render_as_string(hide_password=False)  # fmt: skip


def test_a_verification_killed_halfway_never_reads_as_passed(
    runner: Any, app: Any, call: Any
) -> None:
    backup_id = create(runner)

    def killed(done: int, total: int | None) -> None:
        if done == 5:  # after the restore, in the middle of the checks
            raise SystemExit(137)

    with pytest.raises(SystemExit):
        verifier.verify_backup(call, backup_id, progress=killed)
    call.session.rollback()
    from governance.services.backups import status

    row = call.session.scalars(select(BackupVerification)).one()
    assert row.status == "running"
    listed = status.list_backups(call)[0]["verification"]
    assert listed["status"] == "running"
    later = call.as_actor(call.actor)
    later.clock = lambda: row.started_at + status.INTERRUPTED_AFTER * 2
    assert status.list_backups(later)[0]["verification"]["status"] == "interrupted"
    assert status.health(later)["state"] == "failing"


def test_an_unwritable_backup_directory_is_a_clear_error(database_url: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    app = make_app(database_url, tmp_path / "instance", BACKUP_DIR=str(blocker / "backups"))
    try:
        result = invoke(app.test_cli_runner(), "backup", "create")
        assert result.exit_code == 1
        assert "backup directory" in result.output
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_a_full_backup_directory_leaves_nothing_marked_good(
    database_url: str, tmp_path: Path
) -> None:
    """A real full file system: a small tmpfs mounted in a private mount namespace (an
    unprivileged user namespace), big enough for the snapshot copy but not the backup too."""
    import subprocess
    import sys

    full_dir = tmp_path / "full"
    full_dir.mkdir()
    size = 16 * 1024
    if PG_URL is None:
        size = int(Path(database_url.removeprefix("sqlite:///")).stat().st_size * 1.5)
    env = {**os.environ, "GOVERNANCE_DATABASE_URL": database_url,
           "GOVERNANCE_INSTANCE_PATH": str(tmp_path / "instance"),
           "GOVERNANCE_BACKUP_DIR": str(full_dir), "GOVERNANCE_DEV": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # fmt: skip
    script = (
        f"mount -t tmpfs -o size={size} tmpfs {full_dir} || exit 77; "
        f'"{sys.executable}" -c "from governance.cli import main; main()" backup create; '
        f"code=$?; ls -A {full_dir}; exit $code"
    )
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if proc.returncode == 77:
        pytest.skip("unprivileged mount namespaces are not allowed here")
    assert proc.returncode == 1, proc.stderr
    assert "backup failed, nothing was kept" in proc.stderr
    assert "No space left on device" in proc.stderr or "full" in proc.stderr, proc.stderr
    left = proc.stdout.split()
    assert not [name for name in left if name != "tombstones.json"], left


def test_health_shows_failed_and_overdue_verification_on_the_dashboard_and_readyz(
    runner: Any, app: Any, client: Any
) -> None:
    from conftest import login_as

    from governance.services.backups import status

    def health(**settings: Any) -> dict[str, Any]:
        with app.app_context():
            call = deps(app).call(db.session)
            found = status.health_of(call.session, {**call.settings, **settings},
                                     settings.pop("now", call.now()))  # fmt: skip
            db.session.remove()
            return found

    assert client.get("/readyz").json["backups"]["state"] == "off"
    backup_id = create(runner)
    assert health()["state"] == "unverified"
    assert invoke(runner, "backup", "verify", backup_id).exit_code == 0
    assert client.get("/readyz").json["backups"] == {
        "state": "ok", "backup_id": backup_id, "detail": "newest backup verified"}  # fmt: skip
    # overdue: scheduled daily, and the last good verification is three days old
    later = datetime.now(UTC) + timedelta(days=3)
    assert health(BACKUP_EVERY_HOURS=24, now=later)["state"] == "overdue"
    path = files.backup_path(directory(app), backup_id)
    path.write_bytes(path.read_bytes()[:-1])
    assert invoke(runner, "backup", "verify", "--latest").exit_code == 1
    ready = client.get("/readyz")
    assert ready.status_code == 200  # serving goes on; the detail says what is wrong
    assert ready.json["backups"]["state"] == "failing"
    assert ready.json["backups"]["detail"] == "verification failed: file"
    login_as(app, client, "admin")
    page = client.get("/").get_data(as_text=True)
    assert "Last backup" in page and "verification: failing" in page


def test_the_schedule_backs_up_then_verifies_the_new_backup(app: Any) -> None:
    from governance.services.jobs import queue as jobs
    from governance.services.jobs import schedule

    schedule.forget_seen()
    with app.app_context():
        call = deps(app).call(db.session)
        call.settings = {**call.settings, "SCHEDULES": True, "BACKUP_EVERY_HOURS": 24}
        due = schedule.enqueue_due(call, "test-worker")
        assert "backup.create" in [j.kind for j in due]
        db.session.commit()
        for job in due:
            if job.kind != "backup.create":
                continue
            done = jobs.run(call, job)
            assert done.state == "succeeded", done.error
            verify = jobs.get(db.session, done.result["verification_job"])
            assert verify.params == {"backup_id": done.result["backup_id"]}
            assert jobs.run(call, verify).state == "succeeded"
        rows = db.session.scalars(select(BackupVerification)).all()
        assert [r.status for r in rows] == ["passed"]
        db.session.remove()
    schedule.forget_seen()


@pytest.mark.skipif(PG_URL is None, reason="scratch databases are PostgreSQL's")
def test_a_verification_drops_scratch_databases_left_by_killed_ones_and_only_those(
    runner: Any, app: Any
) -> None:
    import uuid

    from sqlalchemy import create_engine, text

    from governance.services.backups import dumps

    backup_id = create(runner)
    with app.app_context():
        live = db.engine.url
    admin = create_engine(live, isolation_level="AUTOCOMMIT")  # where the verifier's locks are
    prefix = dumps.scratch_prefix(str(live.database))
    orphan = f"{prefix}{uuid.uuid4().hex[:12]}"  # its verification was killed
    running = f"{prefix}{uuid.uuid4().hex[:12]}"  # its verification still runs
    other = f"{dumps.scratch_prefix('another_server')}{uuid.uuid4().hex[:12]}"  # not this one's
    present = text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)")
    try:
        with admin.connect() as holder:
            holder.execute(text(f'CREATE DATABASE "{orphan}"'))
            holder.execute(text(f'CREATE DATABASE "{running}"'))
            holder.execute(text(f'CREATE DATABASE "{other}"'))
            holder.execute(
                text("SELECT pg_advisory_lock(:s, hashtext(:n))"),
                {"s": dumps.SCRATCH_LOCK, "n": running},
            )
            result = invoke(runner, "backup", "verify", backup_id)
            assert result.exit_code == 0, result.output
            left = set(holder.scalars(present, {"p": dumps.SCRATCH_PREFIX}))
            assert orphan not in left
            assert running in left  # held by its verification: kept
            assert other in left  # another server's (its locks are in its own database)
            # and the verification's own scratch database is gone
            assert not {name for name in left if name.startswith(prefix)} - {running}
    finally:
        with admin.connect() as conn:
            for name in (orphan, running, other):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
