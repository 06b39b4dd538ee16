"""Verification of inclusion and consistency proofs: RFC 9162 sections 2.1.3.2 and 2.1.4.2.

Both functions return nothing and raise one ``ProofError`` with a precise reason. They follow the
RFC algorithms step by step and add the length checks of the transparency-dev reference
implementation, so a proof with a missing or extra hash is named as such.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.errors import AuditError
from audit.hashing import HASH_SIZE, node_hash


class ProofError(AuditError, ValueError):
    """A proof does not verify; the message says why."""


def _check_sizes(first: int, second: int, what: str) -> None:
    for value in (first, second):
        if type(value) is not int or value < 0:
            raise ProofError(f"{what} must be non-negative integers")


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, digest in enumerate(proof):
        if len(digest) != HASH_SIZE:
            raise ProofError(f"proof hash {position} is {len(digest)} bytes, expected {HASH_SIZE}")


def inclusion_proof_length(index: int, size: int) -> int:
    """Return how many hashes the inclusion proof of leaf index in a tree of size has."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(first: int, second: int) -> int:
    """Return how many hashes the consistency proof between sizes 0 < first < second has."""
    inner = ((first - 1) ^ (second - 1)).bit_length()
    trailing = (first & -first).bit_length() - 1
    length = inner - trailing + ((first - 1) >> inner).bit_count()
    return length if first == 1 << trailing else length + 1


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless proof shows leaf_hash at index in the tree of size with root."""
    _check_sizes(index, size, "leaf index and tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
    _check_hashes(proof)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes, leaf {index} of tree size {size} needs "
            f"{expected}"
        )
    # RFC 9162 section 2.1.3.2.
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofError(
            f"inclusion proof of leaf {index} does not lead to the given root of tree size {size}"
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless proof shows the tree of size second extends that of size first."""
    _check_sizes(first, second, "tree sizes")
    if first > second:
        raise ProofError(f"first tree size {first} is larger than second tree size {second}")
    if first == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing (first size is 0)")
    if first == second:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if first_root != second_root:
            raise ProofError(f"two trees of size {first} have different root hashes")
        return
    _check_hashes(proof)
    expected = consistency_proof_length(first, second)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof has {len(proof)} hashes, sizes {first} to {second} need {expected}"
        )
    fr, sr = _consistency_roots(first, second, first_root, proof)
    if fr != first_root:
        raise ProofError(f"consistency proof does not reproduce the root of tree size {first}")
    if sr != second_root:
        raise ProofError(f"consistency proof does not reproduce the root of tree size {second}")


def _consistency_roots(
    first: int, second: int, first_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Run RFC 9162 section 2.1.4.2 steps 2 to 6; return the computed (first, second) roots."""
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    return fr, sr
