"""``python -m audit verify`` through a real subprocess: exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import public_key_pem, sign_checkpoint
from audit.entry import Entry
from audit.export import write_export
from audit.hashing import leaf_hash
from audit.tree import Frontier

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2024, 5, 3, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
TS = "2024-05-01T12:00:00.000000Z"


def write_log(path: Path, size: int = 12) -> Path:
    frontier, records = Frontier(), []
    for seq in range(1, size + 1):
        leaf = Entry(
            seq=seq, timestamp=TS, actor_type="service", action="customer.read", outcome="allowed"
        ).leaf()
        records.append((seq, leaf, leaf_hash(leaf)))
        frontier.append(leaf_hash(leaf))
    checkpoint = sign_checkpoint(KEY, size, frontier.root(), TS)
    with path.open("w", encoding="utf-8") as fp:
        write_export(fp, public_key_pem(KEY), records, [checkpoint], tree_size=size, now=NOW)
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit", "verify", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_log(tmp_path / "export.jsonl")


def test_valid_export_exits_0_with_summary_and_progress(export: Path) -> None:
    result = run(export)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 12 entries verified, root ")
    assert "checkpoints: 1 verified, latest at tree size 12" in result.stdout
    assert "export header" in result.stdout
    assert "verified 12/12 entries (100%)" in result.stderr


def test_quiet_and_trusted_key(export: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "audit.pub"
    key_file.write_bytes(public_key_pem(KEY))
    result = run(export, "--public-key", key_file, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "trusted key" in result.stdout


def test_tampered_export_exits_1_naming_the_entry(export: Path) -> None:
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace("customer.read", "customer.reae")  # entry 4
    export.write_text("".join(lines), encoding="utf-8")
    result = run(export, "--quiet")
    assert result.returncode == 1
    assert (
        result.stderr == "FAILED: entry 4: stored leaf_hash does not match the hash of its leaf\n"
    )
    assert result.stdout == ""


def test_untrusted_key_exits_1(export: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "other.pub"
    key_file.write_bytes(public_key_pem(OTHER))
    result = run(export, "--public-key", key_file)
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED: export header public key ")
    assert "is not the trusted key" in result.stderr


@pytest.mark.parametrize("content", ["", "garbage\n", json.dumps({"type": "header"}) + "\n"])
def test_malformed_export_exits_2_without_traceback(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = run(path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_missing_file_or_bad_key_exits_2(export: Path, tmp_path: Path) -> None:
    result = run(tmp_path / "nope.jsonl")
    assert result.returncode == 2 and "cannot read the export" in result.stderr
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("not a key")
    result = run(export, "--public-key", bad_key)
    assert result.returncode == 2 and "public key file" in result.stderr
    assert "Traceback" not in result.stderr
