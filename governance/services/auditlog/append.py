"""Appending to the tamper-evident audit log: queued appends, integrated in batches.

``AuditLog.record`` is the one function every other service calls. It builds the entry's
canonical v2 leaf (no ``seq``: its position in the tree is its sequence number), hashes it as an
RFC 9162 leaf and INSERTs it into ``audit_queue`` in the caller's transaction, with no shared
lock: the caller's commit makes the action and its entry durable together, or neither, and
writers never wait for each other on the tree (the Trillian/Tessera model).

``AuditLog.integrate`` is the sequencer. Under the single ``audit_state`` row lock (``SELECT …
FOR UPDATE`` on PostgreSQL; SQLite's writer lock) it takes the committed queued entries in queue
order, assigns the next gapless sequence numbers, extends the tree from the stored frontier,
stores the perfect-subtree nodes each leaf completes, the entries, their rows of the entry ->
subject index (``audit_subjects``: one batch shares the index pages) and the new frontier, deletes
the queued rows (the trigger allows that only once the integrated entry holds the same leaf) and
signs checkpoints every N entries or T seconds, all in one transaction: a crash at any point
leaves either the whole batch integrated or none of it. ``integrator.py`` runs it in the
background of every server and worker process; with ``inline`` (the default for processes with
no integrator: tests, one-shot CLI commands) ``record`` integrates at once in the caller's
transaction. Each signed checkpoint is also handed to the log's witness (``audit_witness``: a file
beside the signing key) once that commit succeeds, so a log later cut back is caught.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, bindparam, delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.entry import Entry, Outcome
from audit.hashing import leaf_hash
from audit.tree import Frontier
from governance.context import Actor
from governance.database import begin_writing
from governance.models import (
    AuditCheckpoint,
    AuditEntry,
    AuditNode,
    AuditQueued,
    AuditState,
    AuditSubject,
)
from governance.services.auditlog.witness import CheckpointWitness, publish_after_commit

OUTCOMES = ("allowed", "denied", "failed")


@dataclass
class LogState:
    """The locked ``audit_state`` row: tree size, frontier, last checkpoint."""

    size: int
    frontier: str
    last_checkpoint_size: int
    last_checkpoint_at: str | None


STATE = AuditState.__table__
INSERT_ENTRY = AuditEntry.__table__.insert()
INSERT_NODE = AuditNode.__table__.insert()
QUEUE = AuditQueued.__table__
INSERT_QUEUED = QUEUE.insert()
INSERT_SUBJECTS = AuditSubject.__table__.insert()
QUEUED_COLUMNS = (
    "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource", "subject_id",
    "purpose", "outcome", "leaf", "leaf_hash",
)  # fmt: skip
PENDING = (
    select(QUEUE.c.id, *(QUEUE.c[name] for name in QUEUED_COLUMNS))
    .order_by(QUEUE.c.id)
    .limit(bindparam("batch"))
)
DEQUEUE = delete(QUEUE).where(QUEUE.c.id.in_(bindparam("ids", expanding=True)))
LOCK_STATE = (
    select(STATE.c.size, STATE.c.frontier, STATE.c.last_checkpoint_size,
           STATE.c.last_checkpoint_at)
    .where(STATE.c.id == 1)
    .with_for_update()
)  # fmt: skip
SAVE_STATE = (
    update(STATE)
    .where(STATE.c.id == 1)
    .values(size=bindparam("size"), frontier=bindparam("frontier"),
            last_checkpoint_size=bindparam("last_checkpoint_size"),
            last_checkpoint_at=bindparam("last_checkpoint_at"))
)  # fmt: skip
EMPTY_FRONTIER = '{"size":0,"hashes":[]}'


def rfc3339(moment: datetime) -> str:
    """UTC timestamp with microseconds and a Z suffix (four-digit year, so strings sort)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


class SqlNodeStore:
    """``audit.store.NodeStore`` over the ``audit_nodes`` table: one SELECT per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_nodes(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        by_level: dict[int, list[int]] = {}
        for level, index in dict.fromkeys(keys):
            by_level.setdefault(level, []).append(index)
        found: dict[tuple[int, int], bytes] = {}
        # One indexed lookup per level (row-value IN lists do not use the key on SQLite).
        clauses = [
            (AuditNode.level == level) & AuditNode.idx.in_(indexes)
            for level, indexes in by_level.items()
        ]
        if clauses:
            rows = self.session.execute(
                select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(or_(*clauses))
            )
            found.update({(lv, ix): bytes(h) for lv, ix, h in rows})
        return found


@dataclass(frozen=True)
class Appended:
    """What one append stored: its leaf bytes and hash, its queue id, and its sequence number
    once integrated (None while it waits for the integrator)."""

    seq: int | None
    leaf: bytes
    leaf_hash: bytes
    qid: int | None = None


@dataclass
class AuditLog:
    """The server's audit log: signing key, checkpoint cadence, and where checkpoints are kept
    outside the database (None only for logs built by tests and tools)."""

    signing_key: Ed25519PrivateKey
    checkpoint_every: int = 1000
    checkpoint_seconds: int = 3600
    witness: CheckpointWitness | None = None
    inline: bool = True
    """Integrate in ``record`` itself (no integrator thread in this process)."""
    batch: int = 5000
    """Most entries one integration takes (the rest wait for the next)."""
    wake: Callable[[], None] | None = None
    """Set by this process's integrator: called once a transaction that queued entries commits."""

    def _lock_state(self, session: Session) -> LogState:
        return self._lock_on(session, session.connection())

    def _lock_on(self, session: Session, conn: Connection) -> LogState:
        begin_writing(conn)  # SQLite: the writer lock is this row lock; take it before reading
        row = conn.execute(LOCK_STATE).first()
        if row is None:  # the migration creates the row; this only covers a hand-made schema
            session.execute(STATE.insert(), {"id": 1, "size": 0, "frontier": EMPTY_FRONTIER,
                                             "last_checkpoint_size": 0})  # fmt: skip
            return LogState(0, EMPTY_FRONTIER, 0, None)
        return LogState(*row)

    def _save_state(self, session: Session, state: LogState) -> None:
        session.connection().execute(SAVE_STATE, vars(state))

    def record(
        self,
        session: Session,
        actor: Actor,
        action: str,
        *,
        now: datetime,
        resource: str | None = None,
        subject_id: str | None = None,
        purpose: str | None = None,
        outcome: Outcome = "allowed",
        details: dict[str, Any] | None = None,
    ) -> Appended:
        """Queue one entry in the caller's transaction (not committed); return what it stored.

        With ``inline``, also integrate it (and whatever else is committed) at once.
        """
        values, leaf, digest = self._queued(
            actor, action, now, resource, subject_id, purpose, outcome, details
        )
        # One Core INSERT: the ORM unit of work would cost more than the hashing here.
        # The entry -> subject index is written when the entry is integrated (``integrate``).
        result = session.connection().execute(INSERT_QUEUED, values)
        qid = int(tuple(result.inserted_primary_key or (0,))[0])
        if not self.inline:
            if self.wake is not None:
                session.info[WAKE] = self.wake  # on commit (below): integrate soon
            return Appended(None, leaf, digest, qid)
        seqs = self.integrate(session, now)
        return Appended(seqs.get(qid), leaf, digest, qid)

    def _queued(
        self,
        actor: Actor,
        action: str,
        now: datetime,
        resource: str | None,
        subject_id: str | None,
        purpose: str | None,
        outcome: Outcome,
        details: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], bytes, bytes]:
        """The ``audit_queue`` row of one entry, its canonical leaf and the leaf's hash."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        entry = Entry(
            timestamp=rfc3339(now),
            actor_id=actor.id,
            actor_type=actor.type,
            actor_role=actor.role,
            action=action,
            resource=resource,
            subject_id=subject_id,
            purpose=purpose,
            outcome=outcome,
            request_id=actor.request_id,
            client=actor.client,
            details=details or {},
        )
        leaf = entry.leaf()
        digest = leaf_hash(leaf)
        values = {
            "timestamp": entry.timestamp,
            "actor_id": actor.id,
            "actor_type": actor.type,
            "actor_role": actor.role,
            "action": action,
            "resource": resource,
            "subject_id": subject_id,
            "purpose": purpose,
            "outcome": outcome,
            "leaf": leaf.decode("utf-8"),
            "leaf_hash": digest,
        }
        return values, leaf, digest

    def record_many(
        self, session: Session, actor: Actor, entries: Sequence[dict[str, Any]], *, now: datetime
    ) -> list[Appended]:
        """Queue several entries (each a dict of ``record``'s keyword arguments but ``now``) in
        one INSERT, in the caller's transaction; their ``Appended`` in order (queue ids set).

        With ``inline``, integrates them at once, as ``record`` does.
        """
        if not entries:
            return []
        built = [
            self._queued(actor, e["action"], now, e.get("resource"), e.get("subject_id"),
                         e.get("purpose"), e.get("outcome", "allowed"), e.get("details"))
            for e in entries
        ]  # fmt: skip
        insert = INSERT_QUEUED.returning(QUEUE.c.id, sort_by_parameter_order=True)
        qids = [int(row[0]) for row in session.connection().execute(insert, [b[0] for b in built])]
        if not self.inline and self.wake is not None:
            session.info[WAKE] = self.wake  # on commit: integrate soon
        seqs = self.integrate(session, now) if self.inline else {}
        return [
            Appended(seqs.get(qid), leaf, digest, qid)
            for qid, (_, leaf, digest) in zip(qids, built, strict=True)
        ]

    def integrate(self, session: Session, now: datetime) -> dict[int, int]:
        """Integrate up to ``batch`` committed queued entries (and the caller's own) into the
        tree, in the caller's transaction; return their sequence numbers by queue id.

        Takes the ``audit_state`` row lock, so two integrators can never fork the log: the
        second waits and then sees the first one's entries gone from the queue.
        """
        conn = session.connection()
        state = self._lock_on(session, conn)
        rows = conn.execute(PENDING, {"batch": self.batch}).all()
        if not rows:
            return {}
        frontier = Frontier.from_json(json.loads(state.frontier))
        entries: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        subjects: list[dict[str, Any]] = []
        seqs: dict[int, int] = {}
        for row in rows:
            qid, digest = row[0], bytes(row[-1])
            state.size += 1
            seqs[qid] = state.size
            nodes += [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in frontier.append(digest)]
            entry = dict(zip(QUEUED_COLUMNS, row[1:], strict=True))
            entry.update(leaf_hash=digest, seq=state.size, qid=qid)
            entries.append(entry)
            subjects += [
                {"qid": qid, "seq": state.size, "customer_id": subject}
                for subject in leaf_subjects(entry["subject_id"], entry["leaf"])
            ]
            if self._checkpoint_due(state, now):  # the cadence counts entries as before
                self._sign(session, state, frontier.root(), now)
        conn.execute(INSERT_ENTRY, entries)
        conn.execute(INSERT_NODE, nodes)
        if subjects:  # the entry -> subject index, in the transaction that integrates them
            conn.execute(INSERT_SUBJECTS, subjects)
        conn.execute(DEQUEUE, {"ids": list(seqs)})
        state.frontier = json.dumps(frontier.to_json(), separators=(",", ":"))
        conn.execute(SAVE_STATE, vars(state))
        return seqs

    def record_alone(self, session: Session, actor: Actor, action: str, **fields: Any) -> None:
        """Record a refusal on its own: roll back the caller's work, append, commit.

        For actions that are refused (and so leave nothing else to commit) but must still be
        provable afterwards.
        """
        session.rollback()
        self.record(session, actor, action, **fields)
        session.commit()  # record_alone: a transaction of its own

    def _checkpoint_due(self, state: LogState, now: datetime) -> bool:
        if state.size - state.last_checkpoint_size >= self.checkpoint_every:
            return True
        if state.last_checkpoint_at is None:
            return False
        last = _parse_stamp(state.last_checkpoint_at)
        return now - last >= timedelta(seconds=self.checkpoint_seconds)

    def _sign(self, session: Session, state: LogState, root: bytes, now: datetime) -> Checkpoint:
        cp = sign_checkpoint(self.signing_key, state.size, root, rfc3339(now))
        session.add(
            AuditCheckpoint(
                tree_size=cp.tree_size,
                root_hash=cp.root_hash,
                timestamp=cp.timestamp,
                key_id=cp.key_id,
                signature=cp.signature,
            )
        )
        state.last_checkpoint_size = state.size
        state.last_checkpoint_at = cp.timestamp
        if self.witness is not None:
            publish_after_commit(session, self.witness, cp)
        return cp

    def checkpoint(self, session: Session, now: datetime) -> Checkpoint:
        """Integrate what is pending, then issue a checkpoint of the tree now (or return the one
        at this size)."""
        while len(self.integrate(session, now)) >= self.batch:
            pass
        state = self._lock_state(session)
        existing = session.get(AuditCheckpoint, state.size)
        if existing is not None:
            return to_checkpoint(existing)
        cp = self._sign(session, state, Frontier.from_json(json.loads(state.frontier)).root(), now)
        self._save_state(session, state)
        return cp

    def checkpoint_if_stale(self, session: Session, now: datetime) -> Checkpoint | None:
        """Sign a checkpoint when entries are unsigned and the last one is older than T seconds."""
        self.integrate(session, now)
        state = self._lock_state(session)
        if state.size == state.last_checkpoint_size:
            return None
        if state.last_checkpoint_at is not None and not self._checkpoint_due(state, now):
            return None
        return self.checkpoint(session, now)


@functools.lru_cache(maxsize=8)
def _parse_stamp(stamp: str) -> datetime:
    # The last checkpoint's time, asked for every entry an integration takes (strptime was a
    # fifth of an integration's time); it changes only when a checkpoint is signed.
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


WAKE = "governance_audit_wake"


@event.listens_for(Session, "after_commit")
def _wake_integrator(session: Session) -> None:
    wake = session.info.pop(WAKE, None)
    if wake is not None:
        wake()


@event.listens_for(Session, "after_rollback")
def _nothing_queued(session: Session) -> None:
    session.info.pop(WAKE, None)


def entry_subjects(subject_id: str | None, details: Any) -> list[str]:
    """The subject ids an entry names: its ``subject_id`` and a list read's ``subjects``."""
    found = {subject_id} if subject_id else set()
    listed = details.get("subjects") if isinstance(details, dict) else None
    if isinstance(listed, list):
        found.update(s for s in listed if isinstance(s, str) and s and len(s) <= 64)
    return sorted(found)


def leaf_subjects(subject_id: str | None, leaf: str) -> list[str]:
    """``entry_subjects`` of a stored entry, read from its canonical leaf (the leaf is parsed
    only when it can name subjects beyond ``subject_id``)."""
    if '"subjects"' not in leaf:
        return [subject_id] if subject_id else []
    try:
        details = json.loads(leaf).get("details")
    except (ValueError, AttributeError):
        details = None
    return entry_subjects(subject_id, details)


def to_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    """The library object for a stored checkpoint."""
    return Checkpoint(
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        timestamp=row.timestamp,
        key_id=row.key_id,
        signature=bytes(row.signature),
    )


def tree_size(session: Session) -> int:
    """Current number of entries."""
    return session.scalar(select(STATE.c.size).where(STATE.c.id == 1)) or 0


def pending_count(session: Session) -> int:
    """Committed entries waiting for integration (visible to this transaction)."""
    return session.scalar(select(func.count()).select_from(QUEUE)) or 0


def checkpoints(session: Session) -> Sequence[AuditCheckpoint]:
    """All checkpoints, oldest first."""
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
