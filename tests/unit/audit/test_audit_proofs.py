"""Store-based proof generation against a naive RFC 9162 reference, and proof verification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from audit.hashing import EMPTY_ROOT, leaf_hash
from audit.proofcheck import (
    ProofError,
    consistency_proof_length,
    inclusion_proof_length,
    verify_consistency,
    verify_inclusion,
)
from audit.proofs import (
    ProofRequestError,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    needed_nodes_for_consistency,
    needed_nodes_for_inclusion,
    prove_consistency,
    prove_inclusion,
    range_node_keys,
    subtree_hash,
    tree_root,
)
from audit.store import MemoryNodeStore, MissingNodeError
from audit.tree import NodeKey, largest_power_of_two_below, root_hash

N = 64
LEAVES = [leaf_hash(b"entry %d" % i) for i in range(N)]
STORE, FRONTIER = MemoryNodeStore.from_leaf_hashes(LEAVES)


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 PATH(m, D[n]), literally."""
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return ref_path(m, leaves[:k]) + [root_hash(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [root_hash(leaves[:k])]


def ref_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 SUBPROOF(m, D[n], b), literally."""
    n = len(leaves)
    if m == n:
        return [] if whole else [root_hash(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], whole) + [root_hash(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [root_hash(leaves[:k])]


class CountingStore:
    """A store that counts calls, to check one fetch per proof."""

    def __init__(self) -> None:
        self.calls: list[list[NodeKey]] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls.append(list(keys))
        return STORE.get_nodes(keys)


def test_inclusion_proofs_match_reference_and_verify_for_all_pairs_up_to_64() -> None:
    for size in range(1, N + 1):
        root = root_hash(LEAVES[:size])
        assert tree_root(STORE, size) == root
        for index in range(size):
            proof = inclusion_proof(STORE, index, size)
            assert proof == ref_path(index, LEAVES[:size]), (index, size)
            assert len(proof) == inclusion_proof_length(index, size)
            verify_inclusion(LEAVES[index], index, size, proof, root)


def test_consistency_proofs_match_reference_and_verify_for_all_pairs_up_to_64() -> None:
    roots = [root_hash(LEAVES[:size]) for size in range(N + 1)]
    for second in range(1, N + 1):
        for first in range(1, second + 1):
            proof = consistency_proof(STORE, first, second)
            assert proof == ref_subproof(first, LEAVES[:second], True), (first, second)
            if first < second:
                assert len(proof) == consistency_proof_length(first, second)
            verify_consistency(first, second, roots[first], roots[second], proof)


@pytest.mark.parametrize(("index", "size"), [(0, 2), (5, 13), (12, 13), (31, 64), (40, 63)])
def test_every_single_bit_flip_in_an_inclusion_proof_is_rejected(index: int, size: int) -> None:
    proof = inclusion_proof(STORE, index, size)
    root = tree_root(STORE, size)
    for position in range(len(proof)):
        for bit in (0, 77, 255):
            bad = list(proof)
            flipped = bytearray(bad[position])
            flipped[bit // 8] ^= 1 << (bit % 8)
            bad[position] = bytes(flipped)
            with pytest.raises(ProofError, match="does not lead to the given root"):
                verify_inclusion(LEAVES[index], index, size, bad, root)
    with pytest.raises(ProofError, match="does not lead to the given root"):
        verify_inclusion(LEAVES[index], index, size, proof, tree_root(STORE, size - 1))


@pytest.mark.parametrize(("first", "second"), [(1, 2), (3, 7), (4, 9), (13, 64), (37, 63)])
def test_tampered_consistency_proofs_are_rejected(first: int, second: int) -> None:
    proof = consistency_proof(STORE, first, second)
    r1, r2 = tree_root(STORE, first), tree_root(STORE, second)
    for position in range(len(proof)):
        bad = list(proof)
        bad[position] = leaf_hash(b"forged")
        with pytest.raises(ProofError, match="does not reproduce the root"):
            verify_consistency(first, second, r1, r2, bad)
    with pytest.raises(ProofError, match=f"sizes {first} to {second} need"):
        verify_consistency(first, second, r1, r2, proof + [proof[0]])
    with pytest.raises(ProofError, match="does not reproduce the root"):
        verify_consistency(first, second, r2, r1, proof)


def test_verification_messages_name_the_problem() -> None:
    root = tree_root(STORE, 8)
    proof = inclusion_proof(STORE, 3, 8)
    with pytest.raises(ProofError, match="leaf index 8 is not below tree size 8"):
        verify_inclusion(LEAVES[3], 8, 8, proof, root)
    with pytest.raises(ProofError, match="has 2 hashes, leaf 3 of tree size 8 needs 3"):
        verify_inclusion(LEAVES[3], 3, 8, proof[:2], root)
    with pytest.raises(ProofError, match="proof hash 1 is 31 bytes"):
        verify_inclusion(LEAVES[3], 3, 8, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofError, match="leaf hash is 0 bytes"):
        verify_inclusion(b"", 3, 8, proof, root)
    with pytest.raises(ProofError, match="first tree size 9 is larger"):
        verify_consistency(9, 8, root, root, [])
    with pytest.raises(ProofError, match="empty tree proves nothing"):
        verify_consistency(0, 8, EMPTY_ROOT, root, [])
    with pytest.raises(ProofError, match="need an empty consistency proof"):
        verify_consistency(8, 8, root, root, [root])


def test_generation_plans_keys_and_fetches_once() -> None:
    store = CountingStore()
    proof = prove_inclusion(store, 37, 61)
    assert len(store.calls) == 1
    assert set(store.calls[0]) == set(needed_nodes_for_inclusion(37, 61))
    assert proof.leaf_hash == LEAVES[37] and proof.root_hash == root_hash(LEAVES[:61])
    proof.verify()
    json_form = proof.to_json()
    assert json_form["leaf_index"] == 37 and json_form["tree_size"] == 61
    assert json_form["proof"] == [h.hex() for h in inclusion_proof(STORE, 37, 61)]

    store.calls.clear()
    consistency = prove_consistency(store, 13, 61)
    assert len(store.calls) == 1
    assert set(store.calls[0]) == set(needed_nodes_for_consistency(13, 61))
    consistency.verify()
    assert consistency.to_json()["first_root"] == root_hash(LEAVES[:13]).hex()
    assert consistency.to_json()["second_root"] == root_hash(LEAVES[:61]).hex()


def test_range_keys_are_at_most_logarithmic_and_reject_unaligned_ranges() -> None:
    assert range_node_keys(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert range_node_keys(16, 22) == [(2, 4), (1, 10)]
    assert len(range_node_keys(0, 2**20 - 1)) == 20
    assert len(needed_nodes_for_consistency(123_457, 999_999)) < 100
    assert subtree_hash(STORE, 16, 22) == root_hash(LEAVES[16:22])
    with pytest.raises(ProofRequestError, match="not a subtree"):
        range_node_keys(3, 6)


def test_bad_requests_and_missing_nodes() -> None:
    with pytest.raises(ProofRequestError):
        inclusion_proof(STORE, 5, 5)
    with pytest.raises(ProofRequestError):
        consistency_ranges(0, 5)
    with pytest.raises(ProofRequestError):
        consistency_ranges(6, 5)
    with pytest.raises(MissingNodeError, match="beyond the log"):
        inclusion_proof(STORE, 3, N + 1)
    with pytest.raises(MissingNodeError):
        STORE.get_node(0, N)
    assert consistency_proof(STORE, 7, 7) == []
    assert tree_root(STORE, 0) == EMPTY_ROOT


def test_memory_store_accepts_nodes_only_in_order() -> None:
    store = MemoryNodeStore()
    store.add(0, 0, LEAVES[0])
    with pytest.raises(ValueError, match="out of order"):
        store.add(0, 2, LEAVES[2])
    assert store.size == 1
    assert STORE.size == N
