"""Full verification of an audit log against its signed checkpoints (RFC 9162 tree heads).

``verify_log`` is the one verifier behind both ``python -m audit verify EXPORT`` and the server's
live-database check. It streams ``(seq, leaf, stored leaf hash)`` records in seq order and checks:

1. every checkpoint's Ed25519 signature (and key id) against the given public key;
2. seq numbers run 1, 2, 3, ... with no gap, duplicate or reordering;
3. each stored leaf hash equals ``SHA-256(0x00 || leaf)``;
4. each leaf is a canonical entry: a v2 leaf (no ``seq``, its position is its sequence number)
   or a v1 leaf whose own ``seq`` matches its position;
5. the tree rebuilt from the leaves (O(log n) memory) has, at every checkpoint's tree size, exactly
   that checkpoint's root hash. Since every root is recomputed from the same leaves, checkpoints
   that all match are consistent with each other;
6. no checkpoint covers more entries than the log holds (a truncated log).

The first failure raises ``VerifyError`` naming the entry (seq) or checkpoint (tree size).

``verify_pending`` checks entries that are committed but not yet integrated into the tree (queued
appends): each stored leaf hash and canonical v2 form. They are reported as pending: no
checkpoint covers them yet, so nothing signed vouches for their order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import Checkpoint, CheckpointError, key_id, verify_checkpoint
from audit.entry import EntryError, leaf_seq
from audit.errors import AuditError
from audit.hashing import EMPTY_ROOT, LEAF_PREFIX
from audit.tree import Frontier

_sha256 = hashlib.sha256

LogRecord = tuple[int, bytes, bytes]
"""``(seq, leaf bytes, stored leaf hash)`` of one entry."""

Progress = Callable[[int, int | None], None]
"""Called with (entries verified so far, total entries if known)."""


class VerifyError(AuditError):
    """The log or a checkpoint failed verification; ``seq`` or ``tree_size`` says which."""

    def __init__(self, message: str, *, seq: int | None = None, tree_size: int | None = None):
        super().__init__(message)
        self.seq = seq
        self.tree_size = tree_size


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification established."""

    tree_size: int
    root_hash: bytes
    checkpoints_verified: int
    latest_checkpoint: Checkpoint | None
    key_id: str
    pending_entries: int = 0
    """Committed entries not yet integrated into the tree (checked for hash and form only)."""

    @property
    def unsigned_entries(self) -> int:
        """Return how many trailing entries no verified checkpoint covers yet."""
        covered = self.latest_checkpoint.tree_size if self.latest_checkpoint else 0
        return self.tree_size - covered


def _entry_error(seq: int, reason: str) -> VerifyError:
    return VerifyError(f"entry {seq}: {reason}", seq=seq)


def _checkpoint_error(tree_size: int, reason: str) -> VerifyError:
    return VerifyError(f"checkpoint at tree size {tree_size}: {reason}", tree_size=tree_size)


def verify_checkpoints(
    checkpoints: Iterable[Checkpoint], public_key: Ed25519PublicKey
) -> list[Checkpoint]:
    """Check every signature; return the checkpoints sorted by tree size or raise VerifyError."""
    ordered = sorted(checkpoints, key=lambda cp: cp.tree_size)
    for checkpoint in ordered:
        try:
            verify_checkpoint(public_key, checkpoint)
        except CheckpointError as exc:
            raise VerifyError(str(exc), tree_size=checkpoint.tree_size) from None
    return ordered


def _check_roots(pending: list[Checkpoint], position: int, size: int, root: bytes) -> int:
    """Compare every checkpoint of this size from position on; return the next position."""
    while position < len(pending) and pending[position].tree_size == size:
        if pending[position].root_hash != root:
            raise _checkpoint_error(
                size,
                f"signed root {pending[position].root_hash.hex()} differs from the root "
                f"{root.hex()} recomputed from entries 1..{size}",
            )
        position += 1
    return position


def _sequence_error(seq: object, expected: int) -> VerifyError:
    if type(seq) is int and seq > expected:
        return _entry_error(expected, f"missing (the next entry has seq {seq})")
    return _entry_error(
        expected, f"expected seq {expected}, found seq {seq} (duplicated or out of order)"
    )


def _check_entry(seq: int, leaf: bytes, stored_hash: bytes) -> bytes:
    """Check one entry on its own (hash, canonical form, seq); return its leaf hash."""
    digest = _sha256(LEAF_PREFIX + leaf).digest()
    if digest != stored_hash:
        raise _entry_error(seq, "stored leaf_hash does not match the hash of its leaf")
    try:
        entry_seq = leaf_seq(leaf)
    except EntryError as exc:
        raise _entry_error(seq, str(exc)) from None
    if entry_seq is not None and entry_seq != seq:
        raise _entry_error(seq, f"its leaf records seq {entry_seq}")
    return digest


PendingRecord = tuple[int, bytes, bytes]
"""``(queue id, leaf bytes, stored leaf hash)`` of an entry not yet integrated."""


def verify_pending(records: Iterable[PendingRecord]) -> int:
    """Check each pending entry's leaf hash and canonical v2 form; return how many there are.

    Raises VerifyError naming the pending entry by its queue id.
    """
    count = 0
    for qid, leaf, stored_hash in records:
        where = f"pending entry {qid}"
        if _sha256(LEAF_PREFIX + leaf).digest() != stored_hash:
            raise VerifyError(f"{where}: stored leaf_hash does not match the hash of its leaf")
        try:
            entry_seq = leaf_seq(leaf)
        except EntryError as exc:
            raise VerifyError(f"{where}: {exc}") from None
        if entry_seq is not None:
            raise VerifyError(f"{where}: a queued entry must be a v2 leaf (it records a seq)")
        count += 1
    return count


def _check_end(pending: list[Checkpoint], position: int, count: int, total: int | None) -> None:
    """After the last entry: no checkpoint may lie beyond it, nor may claimed entries be missing."""
    if position < len(pending):
        raise _checkpoint_error(
            pending[position].tree_size, f"the log ends after {count} entries (truncated)"
        )
    if total is not None and count < total:
        raise _entry_error(count + 1, f"missing: the log claims {total} entries but ends here")


def verify_log(
    records: Iterable[LogRecord],
    checkpoints: Iterable[Checkpoint],
    public_key: Ed25519PublicKey,
    *,
    total: int | None = None,
    progress: Progress | None = None,
    progress_every: int = 100_000,
) -> VerifyReport:
    """Verify a whole log and its checkpoints; raise VerifyError naming the first failure.

    ``records`` yields ``(seq, leaf bytes, stored leaf hash)`` in seq order. ``total``, when
    given, is the number of entries the log claims to hold; fewer or more is an error.
    ``progress`` is called every ``progress_every`` entries and once at the end.
    """
    pending = verify_checkpoints(checkpoints, public_key)
    position = _check_roots(pending, 0, 0, EMPTY_ROOT)
    next_size = pending[position].tree_size if position < len(pending) else -1
    frontier = Frontier()
    expected, limit = 1, (total if total is not None else -1)
    for seq, leaf, stored_hash in records:
        if seq != expected:
            raise _sequence_error(seq, expected)
        if seq == limit + 1:
            raise _entry_error(seq, f"beyond the {total} entries the log claims to hold")
        frontier.push(_check_entry(seq, leaf, stored_hash))
        if seq == next_size:
            position = _check_roots(pending, position, seq, frontier.root())
            next_size = pending[position].tree_size if position < len(pending) else -1
        if progress is not None and seq % progress_every == 0:
            progress(seq, total)
        expected += 1
    _check_end(pending, position, expected - 1, total)
    if progress is not None and (frontier.size == 0 or frontier.size % progress_every != 0):
        progress(frontier.size, total)
    return VerifyReport(
        tree_size=frontier.size,
        root_hash=frontier.root(),
        checkpoints_verified=len(pending),
        latest_checkpoint=pending[-1] if pending else None,
        key_id=key_id(public_key),
    )
