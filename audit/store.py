"""The storage interface proof generation needs, and an in-memory implementation.

A store holds every completed perfect subtree of the RFC 9162 tree, keyed ``(level, index)`` (see
``audit.tree``): level 0 are the leaf hashes, and ``Frontier.append`` returns the nodes each append
completes, so a store grows by O(1) amortised rows per entry (about 2n in total). Any node of the
tree (and so any proof element or tree head) is then the fold of O(log n) stored nodes.

Proof code first plans the keys it needs, then calls ``get_nodes`` once, so a SQL store answers a
whole proof with one ``SELECT ... WHERE (level, idx) IN (...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from audit.errors import AuditError
from audit.hashing import HASH_SIZE
from audit.tree import Frontier, NodeKey


class MissingNodeError(AuditError, LookupError):
    """The store does not hold a node a proof needs (usually: tree size beyond the log)."""


class NodeStore(Protocol):
    """Read access to stored perfect-subtree hashes."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the hashes of the requested ``(level, index)`` nodes; absent ones are left out."""
        ...


class MemoryNodeStore:
    """A NodeStore in memory: one packed bytearray per level, filled from ``Frontier.append``.

    Nodes of one level complete in index order, so each level is an append-only array of 32-byte
    hashes; a million leaves take about 64 MB.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def add(self, level: int, index: int, digest: bytes) -> None:
        """Store node ``(level, index)``; nodes of a level must arrive in index order."""
        if len(digest) != HASH_SIZE:
            raise ValueError(f"node hash must be {HASH_SIZE} bytes")
        while len(self._levels) <= level:
            self._levels.append(bytearray())
        row = self._levels[level]
        if len(row) != index * HASH_SIZE:
            raise ValueError(f"node ({level}, {index}) added out of order")
        row += digest

    def add_all(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        """Store every ``(level, index, hash)`` node, as returned by ``Frontier.append``."""
        for level, index, digest in nodes:
            self.add(level, index, digest)

    @property
    def size(self) -> int:
        """Return the number of leaves stored."""
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def get_node(self, level: int, index: int) -> bytes:
        """Return one node's hash; raise MissingNodeError if it is not stored."""
        start = index * HASH_SIZE
        if level < 0 or index < 0 or level >= len(self._levels):
            raise MissingNodeError(f"node ({level}, {index}) is not stored")
        row = self._levels[level]
        if start + HASH_SIZE > len(row):
            raise MissingNodeError(f"node ({level}, {index}) is not stored")
        return bytes(row[start : start + HASH_SIZE])

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of the requested nodes that are stored."""
        found: dict[NodeKey, bytes] = {}
        for level, index in keys:
            try:
                found[(level, index)] = self.get_node(level, index)
            except MissingNodeError:
                continue
        return found

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> tuple[MemoryNodeStore, Frontier]:
        """Build a store and its frontier from leaf hashes in leaf order."""
        store = cls()
        frontier = Frontier()
        for digest in leaf_hashes:
            store.add_all(frontier.append(digest))
        return store, frontier
