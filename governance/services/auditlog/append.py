"""Appending to the tamper-evident audit log inside the caller's database transaction.

``AuditLog.record`` is the one function every other service calls. It locks the single
``audit_state`` row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every transaction already
began with ``BEGIN IMMEDIATE``), assigns the next gapless sequence number, hashes the canonical
entry as an RFC 9162 leaf, stores the perfect-subtree nodes the append completes and the new
frontier, and issues a signed checkpoint every N entries or T seconds. Nothing is committed here:
the caller's commit makes the action and its entry durable together, or neither. Each signed
checkpoint is also handed to the log's witness (``audit_witness``: a file beside the signing key)
once that commit succeeds, so a log later cut back behind the server's back is caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.entry import Entry, Outcome
from audit.hashing import leaf_hash
from audit.tree import Frontier
from governance.context import Actor
from governance.models import AuditCheckpoint, AuditEntry, AuditNode, AuditState
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
    """What one append stored: its sequence number, leaf bytes and leaf hash."""

    seq: int
    leaf: bytes
    leaf_hash: bytes


@dataclass
class AuditLog:
    """The server's audit log: signing key, checkpoint cadence, and where checkpoints are kept
    outside the database (None only for logs built by tests and tools)."""

    signing_key: Ed25519PrivateKey
    checkpoint_every: int = 1000
    checkpoint_seconds: int = 3600
    witness: CheckpointWitness | None = None

    def _lock_state(self, session: Session) -> LogState:
        return self._lock_on(session, session.connection())

    def _lock_on(self, session: Session, conn: Connection) -> LogState:
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
        """Append one entry in the caller's transaction (not committed); return what it stored."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        # Core statements on one connection: the ORM unit of work would cost more than the
        # hashing on this hot path.
        conn = session.connection()
        state = self._lock_on(session, conn)
        seq = state.size + 1
        entry = Entry(
            seq=seq,
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
        frontier = Frontier.from_json(json.loads(state.frontier))
        completed = frontier.append(digest)
        values = {
            "seq": seq,
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
        conn.execute(INSERT_ENTRY, values)
        conn.execute(INSERT_NODE, [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in completed])
        state.size = seq
        state.frontier = json.dumps(frontier.to_json(), separators=(",", ":"))
        if self._checkpoint_due(state, now):
            self._sign(session, state, frontier.root(), now)
        conn.execute(SAVE_STATE, vars(state))
        return Appended(seq, leaf, digest)

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
        last = datetime.strptime(state.last_checkpoint_at, "%Y-%m-%dT%H:%M:%S.%fZ")
        return now - last.replace(tzinfo=UTC) >= timedelta(seconds=self.checkpoint_seconds)

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
        """Issue a checkpoint of the current tree now (or return the one at this size)."""
        state = self._lock_state(session)
        existing = session.get(AuditCheckpoint, state.size)
        if existing is not None:
            return to_checkpoint(existing)
        cp = self._sign(session, state, Frontier.from_json(json.loads(state.frontier)).root(), now)
        self._save_state(session, state)
        return cp

    def checkpoint_if_stale(self, session: Session, now: datetime) -> Checkpoint | None:
        """Sign a checkpoint when entries are unsigned and the last one is older than T seconds."""
        state = self._lock_state(session)
        if state.size == state.last_checkpoint_size:
            return None
        if state.last_checkpoint_at is not None and not self._checkpoint_due(state, now):
            return None
        return self.checkpoint(session, now)


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


def checkpoints(session: Session) -> Sequence[AuditCheckpoint]:
    """All checkpoints, oldest first."""
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
