"""Audit log storage: entries, Merkle nodes, the persisted frontier and signed checkpoints.

Rows are append-only: database triggers (created by the migration) refuse UPDATE and DELETE on
entries, queued entries, nodes and checkpoints (a queued entry may only be deleted by its
integration, once the integrated entry holds the same leaf). Writers only INSERT into
``audit_queue``; the single ``audit_state`` row is the integrator's serialisation point.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    # "Everything this actor read in this window" (breach analysis) walks one index range.
    __table_args__ = (Index("ix_audit_entries_actor_time", "actor_id", "timestamp"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    timestamp: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_role: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    leaf: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    qid: Mapped[int | None] = mapped_column(BigInteger, unique=True, index=True)
    """The queue id it was integrated from (None for entries appended before queued appends)."""


class AuditQueued(Base):
    """A committed entry waiting for integration: a v2 leaf, its hash and the filter columns."""

    __tablename__ = "audit_queue"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    timestamp: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_role: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    leaf: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditNode(Base):
    """Root of a perfect subtree: level 0 are leaf hashes."""

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditState(Base):
    """One row (id 1): tree size and right-edge frontier, locked by every append."""

    __tablename__ = "audit_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[str] = mapped_column(Text, default='{"size":0,"hashes":[]}')
    last_checkpoint_size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_checkpoint_at: Mapped[str | None] = mapped_column(String(32))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditSubject(Base):
    """Entry -> subject index: one row per customer an entry names (its ``subject_id`` and the
    ``subjects`` of a list read), so "who read my data" is an index lookup. Written by the
    integrator in the transaction that integrates the entry (``seq``; ``qid`` is its queue id,
    None for entries appended before queued appends). Entries still in the queue are found
    there (``services/requests/accesses.py``)."""

    __tablename__ = "audit_subjects"
    __table_args__ = (Index("ix_audit_subjects_customer_seq", "customer_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    qid: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[str] = mapped_column(String(64))
