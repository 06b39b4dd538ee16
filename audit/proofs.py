"""Inclusion and consistency proofs from a node store: RFC 9162 sections 2.1.3.1 and 2.1.4.1.

Every element of a proof is a node of the RFC tree: either a perfect subtree, stored as one node,
or a subtree on the right edge of a smaller tree, the fold of at most log2(n) stored perfect
subtrees (``range_node_keys``). Generation therefore plans every key it needs first, fetches them
with one ``NodeStore.get_nodes`` call, then assembles: O(log^2 n) keys at most, never a rehash.

Proofs list hashes in RFC 9162 order (from the leaf or the first tree's subtree upwards).
Verification lives in ``audit.proofcheck``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.errors import AuditError
from audit.hashing import EMPTY_ROOT, node_hash
from audit.proofcheck import verify_consistency, verify_inclusion
from audit.store import MissingNodeError, NodeStore
from audit.tree import NodeKey, largest_power_of_two_below

Range = tuple[int, int]
"""A half-open leaf range ``[start, end)``."""


class ProofRequestError(AuditError, ValueError):
    """A proof was asked for impossible indices or sizes."""


def range_node_keys(start: int, end: int) -> list[NodeKey]:
    """Return the stored nodes whose right fold is MTH(D[start:end]), for a node of an RFC tree.

    ``[start, end)`` must be a subtree of some RFC 9162 tree: ``start`` a multiple of the smallest
    power of two not below ``end - start``. Raises ProofRequestError otherwise.
    """
    width = end - start
    if start < 0 or width < 1:
        raise ProofRequestError(f"[{start}, {end}) is not a non-empty leaf range")
    if start & ((1 << (width - 1).bit_length()) - 1):
        raise ProofRequestError(f"[{start}, {end}) is not a subtree of an RFC 9162 tree")
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Return the leaf ranges of the inclusion proof PATH(index, D[size]), in RFC order."""
    if not 0 <= index < size:
        raise ProofRequestError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Return the leaf ranges of the consistency proof PROOF(first, D[second]), in RFC order."""
    if not 0 < first <= second:
        raise ProofRequestError(
            f"no consistency proof from tree size {first} to {second}: need 0 < first <= second"
        )
    ranges: list[Range] = []
    lo, hi = 0, second
    whole = True  # the RFC's flag b: still on the left edge, where D[first] is known
    while first != hi:
        k = largest_power_of_two_below(hi - lo)
        if first <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _plan(ranges: Iterable[Range]) -> list[NodeKey]:
    """Return the distinct stored keys needed to compute the given ranges, in first-use order."""
    keys: dict[NodeKey, None] = {}
    for start, end in ranges:
        keys.update(dict.fromkeys(range_node_keys(start, end)))
    return list(keys)


def needed_nodes_for_inclusion(index: int, size: int) -> list[NodeKey]:
    """Return every node key ``prove_inclusion(store, index, size)`` fetches."""
    return _plan([(index, index + 1), (0, size), *inclusion_ranges(index, size)])


def needed_nodes_for_consistency(first: int, second: int) -> list[NodeKey]:
    """Return every node key ``prove_consistency(store, first, second)`` fetches."""
    return _plan([(0, first), (0, second), *consistency_ranges(first, second)])


def _fetch(store: NodeStore, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
    """Fetch keys in one store call; raise MissingNodeError naming the first absent node."""
    nodes = store.get_nodes(keys)
    for key in keys:
        if key not in nodes:
            raise MissingNodeError(f"node {key} is not stored: is the tree size beyond the log?")
    return nodes


def _fold(nodes: Mapping[NodeKey, bytes], start: int, end: int) -> bytes:
    """Compute MTH(D[start:end]) from fetched nodes."""
    hashes = [nodes[key] for key in range_node_keys(start, end)]
    current = hashes[-1]
    for left in reversed(hashes[:-1]):
        current = node_hash(left, current)
    return current


def subtree_hash(store: NodeStore, start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) for a subtree of an RFC tree (see ``range_node_keys``)."""
    keys = range_node_keys(start, end)
    return _fold(_fetch(store, keys), start, end)


def tree_root(store: NodeStore, size: int) -> bytes:
    """Return the tree head MTH(D[size]) of the first size leaves."""
    if size < 0:
        raise ProofRequestError("tree size must not be negative")
    return EMPTY_ROOT if size == 0 else subtree_hash(store, 0, size)


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf index in the tree of size leaves."""
    ranges = inclusion_ranges(index, size)
    nodes = _fetch(store, _plan(ranges))
    return [_fold(nodes, start, end) for start, end in ranges]


def consistency_proof(store: NodeStore, first: int, second: int) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes first and second."""
    ranges = consistency_ranges(first, second)
    nodes = _fetch(store, _plan(ranges))
    return [_fold(nodes, start, end) for start, end in ranges]


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof with everything a verifier needs; JSON shape of the audit API."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"leaf_index", "tree_size", "leaf_hash", "root_hash", "proof"}``, hex hashes."""
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root_hash.hex(),
            "proof": [h.hex() for h in self.proof],
        }

    def verify(self) -> None:
        """Raise ProofError unless the proof links leaf_hash to root_hash."""
        verify_inclusion(
            self.leaf_hash, self.leaf_index, self.tree_size, self.proof, self.root_hash
        )


@dataclass(frozen=True)
class ConsistencyProof:
    """A consistency proof between two tree heads; JSON shape of the audit API."""

    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """Return ``{"first", "second", "first_root", "second_root", "proof"}``, hex hashes."""
        return {
            "first": self.first,
            "second": self.second,
            "first_root": self.first_root.hex(),
            "second_root": self.second_root.hex(),
            "proof": [h.hex() for h in self.proof],
        }

    def verify(self) -> None:
        """Raise ProofError unless the proof shows second_root extends first_root."""
        verify_consistency(self.first, self.second, self.first_root, self.second_root, self.proof)


def prove_inclusion(store: NodeStore, index: int, size: int) -> InclusionProof:
    """Return leaf hash, root and inclusion proof of leaf index at tree size, in one store call."""
    ranges = inclusion_ranges(index, size)
    nodes = _fetch(store, needed_nodes_for_inclusion(index, size))
    proof = tuple(_fold(nodes, start, end) for start, end in ranges)
    return InclusionProof(index, size, nodes[(0, index)], _fold(nodes, 0, size), proof)


def prove_consistency(store: NodeStore, first: int, second: int) -> ConsistencyProof:
    """Return both roots and the consistency proof between two tree sizes, in one store call."""
    ranges = consistency_ranges(first, second)
    nodes = _fetch(store, needed_nodes_for_consistency(first, second))
    proof = tuple(_fold(nodes, start, end) for start, end in ranges)
    return ConsistencyProof(first, second, _fold(nodes, 0, first), _fold(nodes, 0, second), proof)
