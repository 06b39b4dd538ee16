"""The Merkle tree of the audit log, shaped exactly as RFC 9162 section 2.1.1.

``root_hash`` is the RFC's recursive definition of MTH, kept as the reference. ``Frontier`` is the
incremental appender: it holds only the right edge of the tree (the roots of the perfect subtrees
that make up a tree of ``size`` leaves, one per set bit of ``size``), so an append costs O(log n)
and the tree head is always at hand without rehashing the log.

Nodes are named ``(level, index)``: level 0 holds the leaf hashes and node ``(level, index)`` is
the root of the perfect subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.errors import AuditError
from audit.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect subtree."""


class TreeStateError(AuditError, ValueError):
    """A persisted frontier or a leaf hash is malformed."""


def largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2), the RFC's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) for the given leaf hashes by the RFC 9162 recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = largest_power_of_two_below(n)
    return node_hash(root_hash(leaf_hashes[:k]), root_hash(leaf_hashes[k:]))


def frontier_keys(size: int) -> list[NodeKey]:
    """Return the keys of the perfect subtrees on the right edge of a tree of size leaves."""
    levels = reversed(range(size.bit_length()))
    return [(level, (size >> level) - 1) for level in levels if size >> level & 1]


class Frontier:
    """The right edge of an RFC 9162 tree: append leaf hashes, read the root, persist as JSON."""

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []  # perfect-subtree roots, largest (leftmost) first
        self._size = 0

    @property
    def size(self) -> int:
        """Return the number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Return the right-edge subtree roots, leftmost first (keys from ``frontier_keys``)."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the ``(level, index, hash)`` nodes this append completed."""
        if len(leaf) != HASH_SIZE:
            raise TreeStateError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        index = self._size
        completed = [(0, index, leaf)]
        hashes = self._hashes
        current = leaf
        level = 0
        # Each trailing 1 bit of the old size is a same-sized subtree waiting for a right sibling.
        while index & 1:
            current = node_hash(hashes.pop(), current)
            level += 1
            index >>= 1
            completed.append((level, index, current))
        hashes.append(current)
        self._size += 1
        return completed

    def push(self, leaf: bytes) -> None:
        """Append one leaf hash without reporting completed nodes (the verifier's fast path)."""
        if len(leaf) != HASH_SIZE:
            raise TreeStateError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        hashes = self._hashes
        index = self._size
        while index & 1:
            leaf = node_hash(hashes.pop(), leaf)
            index >>= 1
        hashes.append(leaf)
        self._size += 1

    def root(self) -> bytes:
        """Return the tree head MTH(D[size]); the empty tree's root is SHA-256("")."""
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        current = hashes[-1]
        for left in reversed(hashes[:-1]):
            current = node_hash(left, current)
        return current

    def copy(self) -> Frontier:
        """Return an independent copy of this frontier."""
        return Frontier.from_nodes(self._size, self._hashes)

    def to_json(self) -> dict[str, Any]:
        """Return ``{"size": n, "hashes": [hex, ...]}`` for persistence."""
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_json(cls, data: object) -> Frontier:
        """Rebuild a frontier from ``to_json`` output; raise TreeStateError if malformed."""
        if not isinstance(data, dict) or set(data) != {"size", "hashes"}:
            raise TreeStateError('frontier must be an object with keys "size" and "hashes"')
        size, hexes = data["size"], data["hashes"]
        if not isinstance(hexes, list) or not all(isinstance(h, str) for h in hexes):
            raise TreeStateError("frontier hashes must be a list of hex strings")
        try:
            hashes = [bytes.fromhex(h) for h in hexes]
        except ValueError:
            raise TreeStateError("frontier hashes must be hex") from None
        return cls.from_nodes(size, hashes)

    @classmethod
    def from_nodes(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """Build a frontier from a size and the hashes of the nodes ``frontier_keys(size)``."""
        if type(size) is not int or size < 0:
            raise TreeStateError("frontier size must be a non-negative integer")
        if len(hashes) != size.bit_count():
            raise TreeStateError(f"a tree of size {size} has {size.bit_count()} frontier nodes")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise TreeStateError(f"frontier hashes must be {HASH_SIZE} bytes")
        frontier = cls()
        frontier._hashes = [bytes(h) for h in hashes]
        frontier._size = size
        return frontier
