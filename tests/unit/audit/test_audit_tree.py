"""Frontier (incremental RFC 9162 appender) against the reference MTH."""

from __future__ import annotations

import hashlib

import pytest

from audit.hashing import EMPTY_ROOT, leaf_hash
from audit.tree import (
    Frontier,
    TreeStateError,
    frontier_keys,
    largest_power_of_two_below,
    root_hash,
)

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(100)]


def test_largest_power_of_two_below() -> None:
    assert [largest_power_of_two_below(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]


def test_frontier_root_equals_reference_for_every_size_up_to_100() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, 101):
        frontier.append(LEAVES[size - 1])
        assert frontier.size == size
        assert frontier.root() == root_hash(LEAVES[:size]), size


def test_completed_nodes_are_the_reference_perfect_subtrees() -> None:
    frontier = Frontier()
    seen: dict[tuple[int, int], bytes] = {}
    for size in range(1, 101):
        for level, index, digest in frontier.append(LEAVES[size - 1]):
            assert (level, index) not in seen
            start = index << level
            assert start + (1 << level) == size  # completed by exactly this append
            assert digest == root_hash(LEAVES[start:size])
            seen[(level, index)] = digest
    # Every perfect subtree of 100 leaves was reported once: 100 + 50 + 25 + 12 + 6 + 3 + 1.
    assert len(seen) == 197


@pytest.mark.parametrize("size", [0, 1, 2, 5, 8, 63, 64, 100])
def test_frontier_hashes_are_the_frontier_key_subtrees(size: int) -> None:
    frontier = Frontier()
    for digest in LEAVES[:size]:
        frontier.append(digest)
    keys = frontier_keys(size)
    assert len(keys) == len(frontier.hashes) == size.bit_count()
    for (level, index), digest in zip(keys, frontier.hashes, strict=True):
        start = index << level
        assert digest == root_hash(LEAVES[start : start + (1 << level)])


def test_push_is_append_without_the_report() -> None:
    reporting, silent = Frontier(), Frontier()
    for digest in LEAVES:
        reporting.append(digest)
        silent.push(digest)
        assert silent.size == reporting.size and silent.hashes == reporting.hashes


def test_json_round_trip_resumes_appending() -> None:
    frontier = Frontier()
    for digest in LEAVES[:37]:
        frontier.append(digest)
    restored = Frontier.from_json(frontier.to_json())
    assert restored.size == 37 and restored.root() == frontier.root()
    for digest in LEAVES[37:]:
        restored.append(digest)
    assert restored.root() == root_hash(LEAVES)
    assert frontier.copy().root() == frontier.root()


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"size": 3},
        {"size": 3, "hashes": ["00" * 32]},  # size 3 needs two nodes
        {"size": -1, "hashes": []},
        {"size": 1, "hashes": ["zz" * 32]},
        {"size": 1, "hashes": ["00" * 31]},
        {"size": True, "hashes": ["00" * 32]},
    ],
)
def test_from_json_rejects_malformed_state(data: object) -> None:
    with pytest.raises(TreeStateError):
        Frontier.from_json(data)


def test_append_rejects_a_value_that_is_not_a_hash() -> None:
    with pytest.raises(TreeStateError):
        Frontier().append(hashlib.sha1(b"x").digest())
