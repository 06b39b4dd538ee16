"""``governance backup restore``: erasures made after a backup stay erased after restoring it
(ARCHITECTURE invariant 3), in the SQLite file and in the PostgreSQL tables; the audit log is
brought forward or its gap is explained by a signed restore record; pg_dump missing or failing."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from backup_helpers import (
    create,
    directory,
    invoke,
    person,
    pg_database,
    restore_raw,
    wipe,
)
from conftest import PG_URL, make_app
from sqlalchemy import create_engine, select, text

from governance.bootstrap import deps
from governance.extensions import db
from governance.models import AuditEntry, Customer, DataKey, Tombstone
from governance.services.customers import store as customers
from governance.services.keys.vault import SubjectErased


@contextmanager
def served(url: str, instance: Path) -> Iterator[Any]:
    """The server on another database (the restored one), same keys."""
    app = make_app(url, instance)
    try:
        with app.app_context():
            yield app, deps(app).call(db.session)
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


@contextmanager
def target_database(tmp_path: Path) -> Iterator[str]:
    if PG_URL is None:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with pg_database() as url:
        yield url


def raw_bytes(url: str, table: str) -> bytes:
    """Every byte the database holds on disk for the customer store and the data keys."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    found = b""
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        path = conn.execute(text("SELECT pg_relation_filepath(:t)"), {"t": table}).scalar()
        found += bytes(conn.execute(text("SELECT pg_read_binary_file(:p)"), {"p": path})
                       .scalar() or b"")  # fmt: skip
    engine.dispose()
    return found


def test_an_erasure_after_the_backup_stays_erased_after_restoring_it(
    app: Any, runner: Any, tmp_path: Path
) -> None:
    """THE test of the issue: erase a customer after a backup, restore that backup, and the
    customer's data is gone and undecryptable, in the restored file / tables."""
    with app.app_context():
        call = deps(app).call(db.session)
        kept, erased = person(call, 1), person(call, 2)
        row = db.session.get(Customer, erased)
        secrets = [bytes(row.full_name_ct), bytes(db.session.get(DataKey, erased).wrapped)]
        db.session.remove()
    backup_id = create(runner)
    with app.app_context():
        call = deps(app).call(db.session)
        customers.erase_customer(call, erased, "DSR-42")
        db.session.commit()
        db.session.remove()
    with target_database(tmp_path) as target:
        result = invoke(runner, "backup", "restore", backup_id, "--target", target, "--yes")
        assert result.exit_code == 0, result.output
        assert "1 erasures replayed (live database)" in result.output
        assert "audit log brought forward" in result.output
        with served(target, tmp_path / "instance") as (restored, call):
            session = call.session
            assert session.get(Customer, erased) is None
            assert session.get(DataKey, erased) is None
            assert session.get(Tombstone, erased) is not None
            with pytest.raises(SubjectErased):
                call.vault.subject_key(session, erased)
            assert call.vault.subject_key(session, kept) is not None
            actions = session.scalars(select(AuditEntry.action)).all()
            assert "customer.erase" in actions  # brought forward from the live log
            assert "customer.erase.replayed" in actions  # applied again to the restored rows
            verified = invoke(restored.test_cli_runner(), "audit", "verify")
            assert verified.exit_code == 0, verified.output
        for table in ("customers", "orders", "interactions", "data_keys"):
            disk = raw_bytes(target, table)
            for secret in secrets:
                assert secret not in disk, table


def test_restoring_over_a_lost_live_database_replays_the_exported_tombstones(
    app: Any, runner: Any, database_url: str, tmp_path: Path
) -> None:
    """The live database is gone: the erasures come from the signed tombstone file beside the
    backups, the log cannot be brought forward, and a signed restore record explains the gap."""
    with app.app_context():
        call = deps(app).call(db.session)
        erased = person(call, 1)
        db.session.remove()
    backup_id = create(runner)
    with app.app_context():
        customers.erase_customer(deps(app).call(db.session), erased)
        db.session.commit()
        db.session.remove()
    create(runner)  # a later backup exports the tombstones (and signs a newer checkpoint)
    wipe(database_url)
    result = invoke(runner, "backup", "restore", backup_id, "--target", database_url, "--yes")
    assert result.exit_code == 0, result.output
    assert "1 erasures replayed (tombstones.json exported" in result.output
    assert "signed restore record" in result.output
    with served(database_url, tmp_path / "instance") as (restored, call):
        assert call.session.get(Customer, erased) is None
        assert call.session.get(Tombstone, erased) is not None
        actions = call.session.scalars(select(AuditEntry.action)).all()
        assert "customer.erase.replayed" in actions and "backup.restore" in actions
        # the log is shorter than the checkpoint kept outside the database: accepted, reported
        verified = invoke(restored.test_cli_runner(), "audit", "verify")
        assert verified.exit_code == 0, verified.output
        gap = call.session.scalars(select(AuditEntry.leaf).where(AuditEntry.action ==
                                                                 "audit.verify")).all()  # fmt: skip
        assert any("explained_gap" in leaf for leaf in gap)


def test_a_restore_is_refused_when_the_erasures_cannot_be_had(
    app: Any, runner: Any, database_url: str, tmp_path: Path
) -> None:
    backup_id = create(runner)
    (directory(app) / "tombstones.json").unlink()
    wipe(database_url)
    refused = invoke(runner, "backup", "restore", backup_id, "--target", database_url, "--yes")
    assert refused.exit_code == 1
    assert "cannot be had" in refused.output and "--without-tombstones" in refused.output
    forced = invoke(runner, "backup", "restore", backup_id, "--target", database_url, "--yes",
                    "--without-tombstones")  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert "WARNING: restored WITHOUT replaying erasures" in forced.output
    with served(database_url, tmp_path / "instance") as (_restored, call):
        leaf = call.session.scalars(select(AuditEntry.leaf).where(
            AuditEntry.action == "backup.restore")).one()  # fmt: skip
        assert json.loads(leaf)["details"]["without_tombstones"] is True


def test_restore_needs_confirmation_and_a_known_backup(runner: Any, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'x.db'}"
    assert invoke(runner, "backup", "restore", "20990101T000000Z-abcdef", "--target", target,
                  "--yes").exit_code == 2  # fmt: skip
    backup_id = create(runner)
    assert invoke(runner, "backup", "restore", backup_id, "--target", target).exit_code == 2


@pytest.mark.skipif(PG_URL is None, reason="pg_dump is the PostgreSQL backup tool")
def test_pg_dump_missing_is_an_environment_error(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path / "instance", PG_DUMP=str(tmp_path / "no-pg_dump"))
    try:
        result = invoke(app.test_cli_runner(), "backup", "create")
        assert result.exit_code == 2
        assert "no-pg_dump is not an executable" in result.output
        assert not list(directory(app).glob("*.manifest.json"))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.skipif(PG_URL is None, reason="pg_dump is the PostgreSQL backup tool")
def test_pg_dump_failing_leaves_nothing_marked_good(database_url: str, tmp_path: Path) -> None:
    failing = tmp_path / "bin" / "pg_dump"
    failing.parent.mkdir()
    real = shutil.which("pg_dump")
    # the real pg_dump, killed after part of the dump: a partial stream, exit status non-zero
    failing.write_text(f"#!/bin/sh\n{real} \"$@\" | head -c 2000\necho 'pg_dump: error: "
                       "connection lost' >&2\nexit 1\n")  # fmt: skip
    os.chmod(failing, 0o755)
    app = make_app(database_url, tmp_path / "instance", PG_DUMP=str(failing))
    try:
        result = invoke(app.test_cli_runner(), "backup", "create")
        assert result.exit_code == 1
        assert "pg_dump failed (exit 1): pg_dump: error: connection lost" in result.output
        folder = directory(app)
        assert not list(folder.glob("*.manifest.json")) and not list(folder.glob("*.backup"))
        assert not list(folder.glob("*.tmp"))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_verify_checks_a_database_restored_by_another_tool(
    app: Any, runner: Any, tmp_path: Path
) -> None:
    """``verify --database URL``: a restore made by someone else (the dump put back as is,
    standing in for pgBackRest or WAL-G) is checked and recorded as an external verification."""
    with app.app_context():
        person(deps(app).call(db.session), 1)
        db.session.remove()
    backup_id = create(runner)
    with target_database(tmp_path) as target:
        restore_raw(app, backup_id, target)
        result = invoke(runner, "backup", "verify", "--latest", "--database", target)
        assert result.exit_code == 0, result.output
        assert "audit-consistency: passed" in result.output
        assert "sample-decrypt: passed  1 customers decrypted" in result.output
        with served(target, tmp_path / "instance") as (_restored, call):
            call.session.execute(text("DELETE FROM alembic_version"))
            call.session.commit()
        broken = invoke(runner, "backup", "verify", "--latest", "--database", target)
        assert broken.exit_code == 1
        assert "failed verification at" in broken.output


def test_an_erasure_after_the_last_backup_reaches_the_tombstone_file_at_commit(
    app: Any, runner: Any, database_url: str, tmp_path: Path
) -> None:
    """The live database is lost after an erasure that no backup saw: tombstones.json, kept
    current at every commit that writes a tombstone, still brings the erasure to the restore."""
    with app.app_context():
        erased = person(deps(app).call(db.session), 1)
        db.session.remove()
    backup_id = create(runner)
    with app.app_context():
        customers.erase_customer(deps(app).call(db.session), erased)
        db.session.commit()
        db.session.remove()
    listed = json.loads((directory(app) / "tombstones.json").read_text())
    assert erased in [t["subject_id"] for t in listed["tombstones"]]
    wipe(database_url)
    result = invoke(runner, "backup", "restore", backup_id, "--target", database_url, "--yes")
    assert result.exit_code == 0, result.output
    assert "1 erasures replayed (tombstones.json" in result.output
    with served(database_url, tmp_path / "instance") as (_restored, call):
        assert call.session.get(Customer, erased) is None
        assert call.session.get(Tombstone, erased) is not None
