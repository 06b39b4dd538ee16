"""``audit.inclusion``: a document proving one entry (erasure certificate, consent receipt) is
verified offline from the public key alone; each tampering is named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from audit.checkpoint import generate_signing_key, public_key_pem, sign_checkpoint
from audit.cli import main
from audit.hashing import leaf_hash
from audit.inclusion import InclusionDocumentError, verify_document
from audit.proofs import prove_inclusion
from audit.store import MemoryNodeStore

KEY = generate_signing_key()
LEAVES = [json.dumps({"action": f"a{i}", "subject_id": f"s{i}"}, sort_keys=True) for i in range(7)]


def certificate(index: int = 3) -> dict[str, Any]:
    store, _ = MemoryNodeStore.from_leaf_hashes([leaf_hash(x.encode()) for x in LEAVES])
    proof = prove_inclusion(store, index, len(LEAVES))
    cp = sign_checkpoint(KEY, len(LEAVES), proof.root_hash, "2026-12-06T10:00:00.000000Z")
    return {"leaf": LEAVES[index], "leaf_hash": proof.leaf_hash.hex(),
            "inclusion": {"leaf_index": index, "tree_size": len(LEAVES),
                          "proof": [h.hex() for h in proof.proof]},
            "checkpoint": cp.to_json()}  # fmt: skip


def test_a_good_document_verifies() -> None:
    proven = verify_document(certificate(), KEY.public_key())
    assert proven.entry["subject_id"] == "s3" and proven.leaf_index == 3


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: d.update(leaf=d["leaf"].replace("s3", "s4")), "leaf_hash"),
        (lambda d: d["inclusion"]["proof"].reverse(), "inclusion"),
        (lambda d: d["inclusion"].update(leaf_index=2), "inclusion"),
        (lambda d: d["inclusion"].update(tree_size=6), "tree size"),
        (lambda d: d["checkpoint"].update(timestamp="2026-12-07T10:00:00.000000Z"), "signature"),
        (lambda d: d.pop("checkpoint"), "no 'checkpoint'"),
    ],
)
def test_each_tampering_is_named(tamper: Any, message: str) -> None:
    doc = copy.deepcopy(certificate())
    tamper(doc)
    with pytest.raises(InclusionDocumentError, match=message):
        verify_document(doc, KEY.public_key())


def test_another_key_is_refused() -> None:
    with pytest.raises(InclusionDocumentError, match="checkpoint"):
        verify_document(certificate(), generate_signing_key().public_key())


def test_command_exit_codes(tmp_path: Path, capsys: Any) -> None:
    doc, key = tmp_path / "cert.json", tmp_path / "pub.pem"
    doc.write_text(json.dumps(certificate()), encoding="utf-8")
    key.write_bytes(public_key_pem(KEY))
    assert main(["verify-inclusion", str(doc), "--key", str(key)]) == 0
    assert "OK: entry 4" in capsys.readouterr().out
    doc.write_text(json.dumps(dict(certificate(), leaf_hash="0" * 64)), encoding="utf-8")
    assert main(["verify-inclusion", str(doc), "--key", str(key)]) == 1
    assert main(["verify-inclusion", str(tmp_path / "missing.json"), "--key", str(key)]) == 2
