"""Benchmark of the audit package alone (no database): appends, full verification, proofs.

Prints: Frontier appends per second; seconds to write and to verify a 1,000,000-entry export
(``verify_export``, the code behind ``python -m audit verify``); mean inclusion- and
consistency-proof generation time at 1,000,000 entries with ``MemoryNodeStore``.

Usage: ``python bench/audit_merkle.py [--entries N] [--proofs K]``
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, public_key_pem, sign_checkpoint
from audit.entry import Entry
from audit.export import verify_export, write_export
from audit.hashing import leaf_hash
from audit.proofs import consistency_proof, inclusion_proof, prove_consistency, prove_inclusion
from audit.store import MemoryNodeStore
from audit.tree import Frontier

NOW = datetime(2024, 5, 3, tzinfo=UTC)
TS = "2024-05-01T12:00:00.000000Z"


def make_leaf(seq: int) -> bytes:
    return Entry(
        seq=seq,
        timestamp=f"2024-05-01T12:{seq // 60 % 60:02d}:{seq % 60:02d}.{seq % 1_000_000:06d}Z",
        actor_type="service",
        actor_id=f"svc-{seq % 17}",
        actor_role="crm_app",
        action="customer.read",
        resource="customers",
        subject_id=f"{seq % 99_991:08d}-4c1e-9a7b-{seq:012d}",
        purpose="support",
        outcome="allowed",
        request_id=f"req-{seq:016x}",
        client="10.0.0.7",
        details={"fields": ["email", "phone", "name"], "masked": ["phone"]},
    ).leaf()


def bench_appends(hashes: list[bytes]) -> None:
    frontier = Frontier()
    start = time.perf_counter()
    for digest in hashes:
        frontier.append(digest)
    elapsed = time.perf_counter() - start
    print(f"frontier appends:        {len(hashes) / elapsed:12,.0f} /s ({len(hashes):,} appends)")


def write_big_export(path: Path, n: int, key: Ed25519PrivateKey) -> list[bytes]:
    """Write an n-entry export with a checkpoint every n // 10 entries; return the leaf hashes."""
    hashes: list[bytes] = []
    checkpoints: list[Checkpoint] = []
    frontier = Frontier()
    for seq in range(1, n + 1):
        digest = leaf_hash(make_leaf(seq))
        hashes.append(digest)
        frontier.append(digest)
        if seq % max(1, n // 10) == 0 or seq == n:
            checkpoints.append(sign_checkpoint(key, seq, frontier.root(), TS))

    def records() -> Iterator[tuple[int, bytes, bytes]]:
        for seq in range(1, n + 1):
            yield seq, make_leaf(seq), hashes[seq - 1]

    with path.open("w", encoding="utf-8") as fp:
        write_export(fp, public_key_pem(key), records(), checkpoints, tree_size=n, now=NOW)
    return hashes


def bench_proofs(hashes: list[bytes], count: int) -> None:
    store, _ = MemoryNodeStore.from_leaf_hashes(hashes)
    n = len(hashes)
    rng = random.Random(9162)
    cases = [(rng.randrange(n), rng.randrange(1, n)) for _ in range(count)]
    for label, fn in (
        ("inclusion_proof", lambda a, b: inclusion_proof(store, min(a, b - 1), b)),
        ("prove_inclusion", lambda a, b: prove_inclusion(store, min(a, b - 1), b)),
        ("consistency_proof", lambda a, b: consistency_proof(store, min(a + 1, b), n)),
        ("prove_consistency", lambda a, b: prove_consistency(store, min(a + 1, b), n)),
    ):
        start = time.perf_counter()
        for a, b in cases:
            fn(a, b)
        mean_ms = (time.perf_counter() - start) / count * 1000
        print(f"{label + ' at ' + f'{n:,}':30s} {mean_ms:8.3f} ms mean ({count:,} random proofs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    args = parser.parse_args()
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit-export.jsonl"
        start = time.perf_counter()
        hashes = write_big_export(path, args.entries, key)
        size_mb = path.stat().st_size / 1e6
        print(f"write export:            {time.perf_counter() - start:12.1f} s ({size_mb:,.0f} MB)")
        bench_appends(hashes)
        start = time.perf_counter()
        report = verify_export(path, trusted_key=key.public_key())
        elapsed = time.perf_counter() - start
        print(
            f"verify_export:           {elapsed:12.1f} s for {report.tree_size:,} entries "
            f"({report.tree_size / elapsed:,.0f} entries/s, target < 30 s)"
        )
    bench_proofs(hashes, args.proofs)


if __name__ == "__main__":
    main()
