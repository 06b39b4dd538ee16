"""RFC 9162 test vectors (transparency-dev/merkle) against audit.hashing, tree, proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from audit.hashing import EMPTY_ROOT, leaf_hash, node_hash
from audit.proofcheck import ProofError, verify_consistency, verify_inclusion
from audit.proofs import consistency_proof, inclusion_proof
from audit.store import MemoryNodeStore
from audit.tree import Frontier, root_hash

VECTORS = Path(__file__).parent.parent.parent / "vectors" / "rfc9162"
INCLUSION_FILES = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((VECTORS / "consistency").rglob("*.json"))

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAF_HASHES = [leaf_hash(data) for data in LEAF_INPUTS]
STORE, _ = MemoryNodeStore.from_leaf_hashes(LEAF_HASHES)


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    case["proof"] = [base64.b64decode(h) for h in case["proof"] or []]
    return case


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(VECTORS)) for p in paths]


def test_vector_files_are_present() -> None:
    assert len(INCLUSION_FILES) > 50
    assert len(CONSISTENCY_FILES) > 50


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_ids(INCLUSION_FILES))
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], case["proof"])
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, _b64(case["root"]))
        return
    verify_inclusion(*args, _b64(case["root"]))
    size = case["treeSize"]
    if size <= 8 and _b64(case["root"]).hex() == ROOTS[size]:
        assert inclusion_proof(STORE, case["leafIdx"], size) == case["proof"]


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_ids(CONSISTENCY_FILES))
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    first, second = case["size1"], case["size2"]
    args = (first, second, _b64(case["root1"]), _b64(case["root2"]), case["proof"])
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
        return
    verify_consistency(*args)
    if second <= 8 and _b64(case["root2"]).hex() == ROOTS[second]:
        assert consistency_proof(STORE, first, second) == case["proof"]


@pytest.mark.parametrize("size", range(9))
def test_root_table(size: int) -> None:
    assert root_hash(LEAF_HASHES[:size]).hex() == ROOTS[size]
    frontier = Frontier()
    for digest in LEAF_HASHES[:size]:
        frontier.append(digest)
    assert frontier.root().hex() == ROOTS[size]


def test_single_hash_checks() -> None:
    expected_leaf = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    expected_node = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert leaf_hash(b"L123456").hex() == expected_leaf
    assert node_hash(b"N123", b"N456").hex() == expected_node
    assert EMPTY_ROOT.hex() == ROOTS[0]
