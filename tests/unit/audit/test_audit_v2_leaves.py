"""v2 leaves (no ``seq``: the position is the sequence number) beside v1 leaves, and pending
entries in a v2 export, through the library and ``python -m audit verify``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import public_key_pem, sign_checkpoint
from audit.entry import Entry, EntryError, leaf_seq
from audit.export import verify_export, write_export
from audit.hashing import leaf_hash
from audit.tree import Frontier
from audit.verify import VerifyError, verify_log, verify_pending
from tests.unit.audit.test_audit_cli import run

NOW = datetime(2024, 5, 3, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TS = "2024-05-01T12:00:00.000000Z"


def leaf(seq: int | None, i: int = 0) -> bytes:
    return Entry(seq=seq, timestamp=TS, actor_type="system", action="test.event",
                 outcome="allowed", details={"i": i}).leaf()  # fmt: skip


def mixed_log(v1: int = 5, v2: int = 7) -> list[tuple[int, bytes, bytes]]:
    """v1 entries first (as a log written before queued appends), then v2 entries."""
    leaves = [leaf(s, s) for s in range(1, v1 + 1)] + [leaf(None, i) for i in range(v2)]
    return [(i + 1, data, leaf_hash(data)) for i, data in enumerate(leaves)]


def signed(records: list[tuple[int, bytes, bytes]]) -> list:
    frontier = Frontier()
    for _, _, digest in records:
        frontier.append(digest)
    return [sign_checkpoint(KEY, len(records), frontier.root(), TS)]


def test_a_v2_leaf_has_no_seq_and_parses_back() -> None:
    data = leaf(None)
    assert b'"seq"' not in data and leaf_seq(data) is None
    assert Entry.from_leaf(data).leaf() == data
    assert leaf_seq(leaf(3)) == 3
    with pytest.raises(EntryError, match="leaf index"):
        _ = Entry.from_leaf(data).leaf_index


def test_mixed_v1_and_v2_log_verifies_and_v1_seq_is_still_checked() -> None:
    records = mixed_log()
    report = verify_log(records, signed(records), KEY.public_key(), total=len(records))
    assert report.tree_size == 12
    swapped = [records[1], records[0], *records[2:]]  # two v1 leaves out of place
    renumbered = [(i + 1, d, h) for i, (_, d, h) in enumerate(swapped)]
    with pytest.raises(VerifyError, match="entry 1: its leaf records seq 2"):
        verify_log(renumbered, [], KEY.public_key())


def test_pending_entries_must_be_v2_with_a_matching_hash() -> None:
    good = leaf(None, 1)
    assert verify_pending([(9, good, leaf_hash(good))]) == 1
    with pytest.raises(VerifyError, match="pending entry 9: stored leaf_hash"):
        verify_pending([(9, good, leaf_hash(leaf(None, 2)))])
    with pytest.raises(VerifyError, match="pending entry 4: a queued entry must be a v2 leaf"):
        verify_pending([(4, leaf(7), leaf_hash(leaf(7)))])
    bad = b'{"action":"x"}'
    with pytest.raises(VerifyError, match="pending entry 5: leaf keys are wrong"):
        verify_pending([(5, bad, leaf_hash(bad))])


def write(path: Path, pending: list[tuple[int, bytes, bytes]]) -> Path:
    records = mixed_log()
    with path.open("w", encoding="utf-8") as fp:
        write_export(fp, public_key_pem(KEY), records, signed(records), tree_size=len(records),
                     now=NOW, pending=pending)  # fmt: skip
    return path


def test_v2_export_with_pending_lines_verifies_offline(tmp_path: Path) -> None:
    pending = [(40 + i, leaf(None, 100 + i), leaf_hash(leaf(None, 100 + i))) for i in range(3)]
    path = write(tmp_path / "export.jsonl", pending)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "governance-audit-export/v2"
    assert json.loads(lines[-1])["type"] == "pending"
    report = verify_export(path)
    assert report.tree_size == 12 and report.pending_entries == 3
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert "pending: 3 committed entries not yet integrated" in result.stdout


def test_a_tampered_pending_line_fails_offline(tmp_path: Path) -> None:
    forged = leaf(None, 1)
    path = write(tmp_path / "export.jsonl", [(41, forged, leaf_hash(leaf(None, 2)))])
    result = run(path)
    assert result.returncode == 1
    assert "pending entry 41: stored leaf_hash does not match" in result.stderr


def test_a_v1_export_may_not_carry_pending_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "export.jsonl", [(41, leaf(None), leaf_hash(leaf(None)))])
    text = path.read_text().replace("governance-audit-export/v2", "governance-audit-export/v1")
    path.write_text(text)
    assert run(path).returncode == 2  # v1 files end with their entries
