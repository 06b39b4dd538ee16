"""Helpers for the backup tests: the CLI, other databases, and rewriting a backup the way an
attacker (or a bad disk) would, with our own keys, so that checks after ``decrypt`` are reached."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import PG_URL
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from governance.bootstrap import deps
from governance.cli import cli
from governance.crypto.backupfile import decrypt_chunks, encrypt_stream
from governance.services.backups import dumps, files


def invoke(runner: Any, *args: str) -> Any:
    return runner.invoke(cli, list(args))


def create(runner: Any) -> str:
    result = invoke(runner, "backup", "create")
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip().splitlines()[-1])


def directory(app: Any) -> Path:
    return files.backup_dir(deps(app).settings)


def manifest(app: Any, backup_id: str) -> dict[str, Any]:
    return json.loads(files.manifest_path(directory(app), backup_id).read_text())


def resign(app: Any, backup_id: str, **changes: Any) -> None:
    """Re-sign the manifest after the file changed (file size and SHA-256 recomputed)."""
    import hashlib

    doc = manifest(app, backup_id)
    data = files.backup_path(directory(app), backup_id).read_bytes()
    doc["file"].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    doc.update(changes)
    signed = files.sign_manifest(doc, deps(app).audit.signing_key)
    files.manifest_path(directory(app), backup_id).write_text(json.dumps(signed))


def pg_url(name: str) -> str:
    assert PG_URL
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def pg_database() -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards."""
    name = f"gov_b16_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url("postgres").replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rewrite(app: Any, backup_id: str, mutate: Callable[[str], None], tmp: Path) -> None:
    """Decrypt a backup, restore it, ``mutate(url)`` the restored database, dump and encrypt it
    again with the server's keys, and re-sign the manifest (figures left as they were)."""
    keys = deps(app).keys
    path = files.backup_path(directory(app), backup_id)
    kind = manifest(app, backup_id)["database"]["kind"]
    with path.open("rb") as src:
        plain = b"".join(decrypt_chunks(src, keys))
    if kind == "sqlite":
        image = tmp / f"rewrite-{uuid.uuid4().hex[:6]}.db"
        image.write_bytes(plain)
        mutate(f"sqlite:///{image}")
        plain = image.read_bytes()
    else:
        with pg_database() as url:
            tool = dumps.pg_tool("pg_restore", None)
            dumps.restore_postgresql(iter([plain]), url, tool, clean=False)
            mutate(url)
            args, env = dumps.libpq_args(url)
            plain = subprocess.run(
                [shutil.which("pg_dump") or "pg_dump", "--format=custom", *args, "--dbname",
                 str(make_url(url).database)],
                capture_output=True, env=env, check=True,
            ).stdout  # fmt: skip
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(plain), out, keys, backup_id)
    path.write_bytes(out.getvalue())
    resign(app, backup_id)


def execute(url: str, *statements: str) -> None:
    """Run SQL on a database, bypassing the server (the audit triggers are dropped first where
    a statement needs that; this is the tampering the tests simulate)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(str(make_url(url).database))
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def wipe(url: str) -> None:
    """Lose a database's contents (the disaster a restore answers)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(str(make_url(url).database))
        try:
            conn.execute("PRAGMA foreign_keys=OFF")
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            names = [r[0] for r in conn.execute(sql)]
            for name in names:
                conn.execute(f'DROP TABLE "{name}"')
            conn.commit()
        finally:
            conn.close()
        return
    execute(url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


def person(call: Any, n: int, prefix: str = "P") -> str:
    """Create another customer, distinct from every other on every duplicate key; its id."""
    from conftest import make_customer
    from sqlalchemy import select

    from governance.models import Customer

    before = set(call.session.scalars(select(Customer.id)))
    make_customer(call, external_ref=f"{prefix}{n}", full_name=f"Person {prefix}{n}",
                  email=f"{prefix.lower()}{n}@example.com", phone=None, national_id=None,
                  date_of_birth=None)  # fmt: skip
    (new,) = set(call.session.scalars(select(Customer.id))) - before
    return str(new)


def restore_raw(app: Any, backup_id: str, url: str) -> None:
    """Put a backup's dump into ``url`` as another tool would (no erasure replay, no audit
    entry): a SQLite file written as is, or ``pg_restore`` into an empty database."""
    path = files.backup_path(directory(app), backup_id)
    with path.open("rb") as src:
        chunks = decrypt_chunks(src, deps(app).keys)
        if url.startswith("sqlite"):
            dumps.restore_sqlite(chunks, Path(str(make_url(url).database)))
        else:
            dumps.restore_postgresql(chunks, url, dumps.pg_tool("pg_restore", None), clean=False)
