"""A consistent read of the whole audit log that does not stop the server writing.

Verification and export read every entry, which takes seconds on a long log. Through the request's
own session that would hold SQLite's single write lock (every session transaction begins with
``BEGIN IMMEDIATE``) and stall every audited request for as long. So they read on a separate
connection: a deferred transaction on SQLite (a WAL snapshot, no write lock) and a
``REPEATABLE READ`` transaction on PostgreSQL. Either way checkpoints, the tree state and entries
all come from one snapshot, so an append or checkpoint committed meanwhile can never look like a
truncated log.

``LogSnapshot.verify`` runs the ``audit`` library's one verifier (RFC 9162 tree heads, Ed25519
checkpoints) over the stored rows, and also checks what only the database holds: the filterable
columns beside each leaf and the persisted frontier the next append builds on. Rows can only be
checked against rows, so it also takes the checkpoint kept outside the database
(``audit_witness``): a log cut back together with its checkpoints and tree state fails there.
Entries committed but not yet integrated (``audit_queue``) are checked for hash and canonical v2
form and reported as pending.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, CheckpointError, verify_checkpoint
from audit.hashing import LEAF_PREFIX
from audit.tree import Frontier
from audit.verify import (
    LogRecord,
    PendingRecord,
    Progress,
    VerifyError,
    VerifyReport,
    verify_log,
    verify_pending,
)
from governance.services.auditlog.witness import explained_truncation

Fetch = Callable[[str, dict[str, Any]], list[Any]]
Explain = Callable[[Checkpoint, int], "str | None"]
Stream = Callable[[str, dict[str, Any]], Iterator[Any]]

# Columns stored beside each leaf for filtering; verification proves they say what the leaf says.
COLUMNS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "subject_id",
    "purpose", "outcome",
)  # fmt: skip
BATCH = 5000
ENTRIES_SQL = (
    f"SELECT seq, leaf, leaf_hash, {', '.join(COLUMNS)} FROM audit_entries "
    "WHERE seq <= :upto ORDER BY seq"
)


class LogSnapshot:
    """Reads of one snapshot of the audit tables (SQL with ``:name`` parameters).

    ``fetch`` returns all rows of a small query; ``stream`` yields the rows of a large one in
    batches (one ordered scan on a cursor of its own, not LIMIT pages).
    """

    def __init__(self, fetch: Fetch, stream: Stream) -> None:
        self.fetch = fetch
        self.stream = stream
        self.explained_gap: str | None = None
        """Set by ``verify`` when a signed restore record explains a log shorter than the kept
        checkpoint (services/backups/restore_records.py)."""

    def checkpoints(self, upto: int | None = None) -> list[Checkpoint]:
        """Stored checkpoints, ascending tree size (only those up to ``upto`` when given)."""
        rows = self.fetch(
            "SELECT tree_size, root_hash, timestamp, key_id, signature FROM audit_checkpoints "
            "ORDER BY tree_size",
            {},
        )
        return [
            Checkpoint(size, bytes(root), stamp, kid, bytes(sig))
            for size, root, stamp, kid, sig in rows
            if upto is None or size <= upto
        ]

    def state(self) -> tuple[int, str]:
        """The persisted tree size and frontier (JSON) the next append builds on."""
        rows = self.fetch("SELECT size, frontier FROM audit_state WHERE id = 1", {})
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, '{"size":0,"hashes":[]}')

    def extent(self) -> int:
        """The number of entries the tables claim: the highest seq or the row count."""
        last, count = self.fetch("SELECT max(seq), count(*) FROM audit_entries", {})[0]
        return max(int(last or 0), int(count or 0))

    def records(self, upto: int, *, check_columns: bool = False) -> Iterator[LogRecord]:
        """Stored ``(seq, leaf, leaf hash)`` for seq 1..upto, in seq order."""
        for row in self.stream(ENTRIES_SQL, {"upto": upto}):
            leaf, digest = row[1].encode("utf-8"), bytes(row[2])
            if check_columns:
                _check_columns(row[0], leaf, digest, row[3:])
            yield row[0], leaf, digest

    def pending(self) -> Iterator[PendingRecord]:
        """Committed entries not yet integrated: ``(queue id, leaf, leaf hash)`` in queue order."""
        for row in self.stream("SELECT id, leaf, leaf_hash FROM audit_queue ORDER BY id", {}):
            yield int(row[0]), row[1].encode("utf-8"), bytes(row[2])

    def verify(
        self,
        key: Ed25519PublicKey,
        progress: Progress | None = None,
        kept: Checkpoint | None = None,
        explain: Explain | None = None,
    ) -> VerifyReport:
        """Verify entries, columns, checkpoints, the stored frontier and, when given, the
        checkpoint ``kept`` outside the database; raise VerifyError. ``explain`` may accept a
        kept checkpoint the log legitimately no longer reaches (a restore); the reason is left in
        ``explained_gap``."""
        checkpoints = self.checkpoints()
        size, frontier = self.state()
        total = max(size, self.extent())
        report = verify_log(
            self.records(total, check_columns=True), checkpoints, key, total=total,
            progress=progress, progress_every=20_000,
        )  # fmt: skip
        _check_state(report, size, frontier)
        if kept is not None:
            reason = explain(kept, report.tree_size) if explain is not None else None
            if reason is None:
                _check_kept(kept, key, checkpoints, report.tree_size)
            self.explained_gap = reason
        return dataclasses.replace(report, pending_entries=verify_pending(self.pending()))


def _check_columns(seq: int, leaf: bytes, digest: bytes, columns: tuple[Any, ...]) -> None:
    """The filterable columns must repeat the leaf (a bad leaf is left to ``verify_log``)."""
    try:
        body = json.loads(leaf)
        if tuple(body.get(name) for name in COLUMNS) == tuple(columns):
            return
    except (ValueError, AttributeError):
        return
    if hashlib.sha256(LEAF_PREFIX + leaf).digest() != digest:
        return  # verify_log names this entry with the precise reason
    for name, value in zip(COLUMNS, columns, strict=True):
        if body.get(name) != value:
            raise VerifyError(
                f"entry {seq}: stored column {name} differs from its signed leaf", seq=seq
            )


def _check_kept(
    kept: Checkpoint, key: Ed25519PublicKey, checkpoints: list[Checkpoint], total: int
) -> None:
    """The log must still hold the newest checkpoint the server kept outside the database.

    Checked after ``verify_log``, so every row agrees with every other row: what is left to
    catch is a log cut back (or rewritten) consistently, checkpoints and tree state included.
    The stored checkpoint of the kept size was checked against the recomputed root already.
    """
    where = "the checkpoint kept outside the database"
    try:
        verify_checkpoint(key, kept)
    except CheckpointError as exc:
        raise VerifyError(f"{where}: {exc}", tree_size=kept.tree_size) from None
    if kept.tree_size > total and explained_truncation(kept, total) is None:
        raise VerifyError(
            f"truncated: the log holds {total} entries but the server signed a checkpoint at "
            f"tree size {kept.tree_size} ({kept.timestamp}), kept outside the database",
            tree_size=kept.tree_size,
        )
    stored = next((cp for cp in checkpoints if cp.tree_size == kept.tree_size), None)
    if stored is None:
        raise VerifyError(
            f"checkpoint at tree size {kept.tree_size}: missing from the database, but signed "
            f"({kept.timestamp}) and kept outside it",
            tree_size=kept.tree_size,
        )
    if stored.root_hash != kept.root_hash:
        raise VerifyError(
            f"checkpoint at tree size {kept.tree_size}: stored root {stored.root_hash.hex()} "
            f"differs from the root {kept.root_hash.hex()} of {where}",
            tree_size=kept.tree_size,
        )


def _check_state(report: VerifyReport, size: int, frontier: str) -> None:
    try:
        root = Frontier.from_json(json.loads(frontier)).root()
    except (ValueError, TypeError, KeyError):
        root = b""
    if size != report.tree_size or root != report.root_hash:
        raise VerifyError(
            f"tree state: the stored frontier (tree size {size}) does not match the "
            f"{report.tree_size} verified entries; the next append would fork the log",
            tree_size=size,
        )


@contextmanager
def snapshot(session: Session) -> Iterator[LogSnapshot]:
    """A read-only snapshot of the audit tables on a connection of its own."""
    engine = session.get_bind()
    streams: list[Generator[Any, None, None]] = []

    def tracked(rows: Generator[Any, None, None]) -> Iterator[Any]:
        streams.append(rows)
        return rows

    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # type: ignore[union-attr]
        try:
            raw.cursor().execute("BEGIN")  # deferred: a WAL read snapshot, never the write lock
            yield LogSnapshot(
                lambda sql, params: raw.cursor().execute(sql, params).fetchall(),
                lambda sql, params: tracked(_batches(raw.cursor(), sql, params)),
            )
        finally:
            for rows in streams:  # a verification that failed midway leaves its scan open
                rows.close()
            raw.rollback()
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:  # type: ignore[union-attr]
        streaming = conn.execution_options(stream_results=True, max_row_buffer=BATCH)
        try:
            yield LogSnapshot(
                lambda sql, params: list(conn.execute(text(sql), params).all()),
                lambda sql, params: tracked(_server_side(streaming, sql, params)),
            )
        finally:
            for rows in streams:
                rows.close()
            conn.rollback()


def _batches(cursor: Any, sql: str, params: dict[str, Any]) -> Generator[Any, None, None]:
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BATCH):
            yield from rows
    finally:
        cursor.close()


def _server_side(conn: Connection, sql: str, params: dict[str, Any]) -> Generator[Any, None, None]:
    result = conn.execute(text(sql), params)
    try:
        yield from result
    finally:
        result.close()
