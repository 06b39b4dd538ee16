"""Consistent snapshots with the database's own tools, and restores from them.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the live file page by page
while the server keeps writing, into a private temporary file. PostgreSQL: a ``REPEATABLE READ``
transaction exports its snapshot (``pg_export_snapshot``); ``pg_dump --format=custom
--snapshot=…`` dumps exactly that snapshot while the same transaction computes the manifest's
figures, so the figures describe the dump byte for byte. Restores go the other way:
``pg_restore`` from a stream (no plaintext dump on disk), or the backup API into the target file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from governance.errors import GovernanceError

log = logging.getLogger(__name__)


class ToolMissing(GovernanceError):
    """A database tool (pg_dump, pg_restore) is not installed or not configured: an
    environment error."""

    status = 503
    slug = "backup-tool-missing"
    title = "Backup tool missing"


class DumpFailed(GovernanceError):
    """The database tool ran and failed."""

    status = 500
    slug = "backup-dump-failed"
    title = "Database dump failed"


def kind(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DumpFailed("an in-memory SQLite database cannot be backed up")
    return database


def pg_tool(name: str, configured: str | None) -> str:
    """Path of ``pg_dump``/``pg_restore``: beside the configured pg_dump, else on PATH."""
    if configured:
        candidate = Path(configured)
        if name != "pg_dump":
            candidate = candidate.with_name(name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        if name == "pg_dump":
            raise ToolMissing(f"GOVERNANCE_PG_DUMP: {configured} is not an executable")
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} not found on PATH (install the PostgreSQL client tools, or "
                          "set GOVERNANCE_PG_DUMP)")  # fmt: skip
    return found


def libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL client tools, password in the environment only."""
    u = make_url(url)
    args = ["--no-password"]
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def tool_version(tool: str) -> str:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or tool


# -- figures ------------------------------------------------------------------------------
_PLAIN = frozenset({str, int, float, bool, type(None)})
_encode = json.JSONEncoder(
    default=str
).encode  # one encoder for every row (json.dumps makes one per call)


def _value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is bytes or isinstance(value, bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def table_figures(conn: Connection) -> dict[str, dict[str, Any]]:
    """``{table: {"rows": n, "sha256": hex}}`` over every table, rows in primary-key order."""
    inspector = inspect(conn)
    figures: dict[str, dict[str, Any]] = {}
    for table in sorted(inspector.get_table_names()):
        columns = [c["name"] for c in inspector.get_columns(table)]
        keys = inspector.get_pk_constraint(table).get("constrained_columns") or columns
        quoted = ", ".join(f'"{c}"' for c in columns)
        order = ", ".join(f'"{c}"' for c in keys)
        digest = hashlib.sha256()
        rows = 0
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(
            text(f'SELECT {quoted} FROM "{table}" ORDER BY {order}')  # noqa: S608 (reflected names)
        )
        for row in result:
            digest.update(_encode([_value(v) for v in row]).encode("utf-8"))
            digest.update(b"\n")
            rows += 1
        figures[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return figures


# -- snapshots ----------------------------------------------------------------------------
@contextlib.contextmanager
def private_dir(base: Path | None = None) -> Iterator[Path]:
    """A temporary directory only this user can read, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=".snapshot-", suffix=".tmp", dir=base))
    try:
        os.chmod(path, 0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


Snapshot = Callable[[Connection, IO[bytes]], None]
"""Given a connection on the snapshot and the dump's byte stream, read both."""


def snapshot_sqlite(url: str, work: Path, use: Snapshot, pages: Callable[[int, int], None]) -> str:
    """Copy the live SQLite file with the online backup API; call ``use`` on the copy."""
    copy = work / "snapshot.db"
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    target = sqlite3.connect(copy)
    try:
        source.backup(
            target, pages=4096, progress=lambda _s, rest, total: pages(total - rest, total)
        )
    finally:
        target.close()
        source.close()
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as conn, copy.open("rb") as stream:
            use(conn, stream)
    finally:
        engine.dispose()
    return f"sqlite3 online backup API (SQLite {sqlite3.sqlite_version})"


def snapshot_postgresql(engine: Engine, tool: str, use: Snapshot) -> str:
    """``pg_dump --format=custom`` of an exported snapshot, read by ``use`` in that snapshot."""
    url = engine.url.render_as_string(hide_password=False)
    args, env = libpq_args(url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snap = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            command = [tool, "--format=custom", f"--snapshot={snap}", *args,
                       "--dbname", str(engine.url.database)]  # fmt: skip
            try:
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env)  # fmt: skip
            except OSError as exc:
                raise ToolMissing(f"{tool} cannot run: {exc.strerror}") from None
            assert proc.stdout is not None and proc.stderr is not None
            try:
                use(conn, proc.stdout)
            finally:
                proc.stdout.close()
                err = proc.stderr.read().decode("utf-8", "replace").strip()
                proc.stderr.close()
                code = proc.wait()
            if code != 0:
                raise DumpFailed(
                    f"pg_dump failed (exit {code}): {err.splitlines()[-1] if err else ''}"
                )
    return tool_version(tool)


# -- scratch and target databases ---------------------------------------------------------
def restore_sqlite(chunks: Iterator[bytes], target_file: Path) -> None:
    """Write the decrypted SQLite image to ``target_file`` (a new file)."""
    with target_file.open("xb") as out:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def install_sqlite(image: Path, target_url: str) -> None:
    """Copy a restored SQLite image into the target database with the backup API."""
    source = sqlite3.connect(image)
    target = sqlite3.connect(sqlite_path(target_url), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def restore_postgresql(chunks: Iterator[bytes], target_url: str, tool: str, clean: bool) -> None:
    """Feed the decrypted custom-format dump to ``pg_restore`` on its standard input."""
    args, env = libpq_args(target_url)
    command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", *args,
               "--dbname", str(make_url(target_url).database)]  # fmt: skip
    if clean:
        command[1:1] = ["--clean", "--if-exists"]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)  # fmt: skip
    except OSError as exc:
        raise ToolMissing(f"{tool} cannot run: {exc.strerror}") from None
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
    except BrokenPipeError:
        pass
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    proc.stderr.close()
    if proc.wait() != 0:
        raise DumpFailed(f"pg_restore failed: {err.splitlines()[-1] if err else 'no message'}")


SCRATCH_PREFIX = "gov_verify_"
# Advisory lock space of scratch databases (two-key form: apart from the integrator's lease).
# A verification holds (SCRATCH_LOCK, hashtext(name)) on a session of its own, in the live
# database, while its scratch database exists; a database whose lock nobody holds was left by
# a killed verification. Advisory locks belong to one database, so a scratch database's name
# carries a tag of the live database's (``scratch_prefix``): another server sharing the
# PostgreSQL instance never takes this one's scratch databases for orphans.
SCRATCH_LOCK = 0x67767266  # "gvrf"


def scratch_prefix(live_database: str) -> str:
    """The name prefix of the scratch databases made from the live database ``live_database``."""
    return f"{SCRATCH_PREFIX}{hashlib.sha256(live_database.encode()).hexdigest()[:8]}_"


@contextlib.contextmanager
def scratch_postgresql(live: Engine) -> Iterator[str]:
    """A temporary database on the live server, dropped afterwards; yields its URL.

    A verification killed outright (SIGKILL, a lost machine) cannot drop its database; the next
    one drops every scratch database whose verification is gone (``drop_orphan_scratch``).
    """
    prefix = scratch_prefix(str(live.url.database))
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(live.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as owner:
            owner.execute(_SCRATCH_LOCK, {"name": name})  # released when this session ends
            drop_orphan_scratch(admin, prefix)
            owner.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield live.url.set(database=name).render_as_string(hide_password=False)
            finally:
                owner.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


_SCRATCH_LOCK = text("SELECT pg_advisory_lock(:space, hashtext(:name))").bindparams(
    space=SCRATCH_LOCK
)
_SCRATCH_TRY = text("SELECT pg_try_advisory_lock(:space, hashtext(:name))").bindparams(
    space=SCRATCH_LOCK
)
_SCRATCH_UNLOCK = text("SELECT pg_advisory_unlock(:space, hashtext(:name))").bindparams(
    space=SCRATCH_LOCK
)


def drop_orphan_scratch(admin: Engine, prefix: str) -> list[str]:
    """Drop the scratch databases named ``prefix``… that no running verification holds (the
    engine is on the live database, where the locks are); return their names."""
    dropped = []
    with admin.connect() as conn:
        names = conn.scalars(
            text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
            {"prefix": prefix},
        ).all()
        for name in names:
            if not conn.scalar(_SCRATCH_TRY, {"name": name}):
                continue  # its verification is running
            try:
                quoted = name.replace('"', '""')
                conn.execute(text(f'DROP DATABASE IF EXISTS "{quoted}" WITH (FORCE)'))
                dropped.append(name)
                log.warning("dropped %s, left by a verification that was killed", name)
            finally:
                conn.execute(_SCRATCH_UNLOCK, {"name": name})
    return dropped
