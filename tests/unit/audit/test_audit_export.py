"""Export round trip, the shared log verifier, and every tamper case of issue 5 on an export."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.checkpoint import Checkpoint, key_id, public_key_pem, sign_checkpoint
from audit.entry import Entry
from audit.export import ExportFormatError, verify_export, write_export
from audit.hashing import EMPTY_ROOT, leaf_hash
from audit.tree import Frontier
from audit.verify import LogRecord, VerifyError, verify_log

NOW = datetime(2024, 5, 3, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
SIZE = 40
CHECKPOINT_SIZES = (10, 25, 40)


def make_entry(seq: int, action: str = "customer.read") -> Entry:
    return Entry(
        seq=seq,
        timestamp=f"2024-05-01T12:00:{seq % 60:02d}.000000Z",
        actor_type="user",
        actor_id=f"u-{seq % 3}",
        actor_role="dpo",
        action=action,
        subject_id=f"c-{seq}",
        purpose="support",
        outcome="allowed",
        details={"fields": ["email", "phone"]},
    )


def sign_log(
    leaves: Sequence[bytes], key: Ed25519PrivateKey, sizes: Iterable[int]
) -> list[Checkpoint]:
    """Sign checkpoints at the given sizes over the given leaves."""
    wanted, frontier, checkpoints = set(sizes), Frontier(), []
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf_hash(leaf))
        if size in wanted:
            ts = f"2024-05-02T00:00:{size % 60:02d}.000000Z"
            checkpoints.append(sign_checkpoint(key, size, frontier.root(), ts))
    return checkpoints


def records_of(leaves: Sequence[bytes]) -> list[LogRecord]:
    return [(seq, leaf, leaf_hash(leaf)) for seq, leaf in enumerate(leaves, start=1)]


def export_lines(
    key: Ed25519PrivateKey = KEY, size: int = SIZE, sizes: Iterable[int] = CHECKPOINT_SIZES
) -> list[str]:
    leaves = [make_entry(seq).leaf() for seq in range(1, size + 1)]
    buffer = io.StringIO()
    checkpoints = sign_log(leaves, key, sizes)
    written = write_export(
        buffer,
        public_key_pem(key),
        records_of(leaves),
        checkpoints,
        tree_size=size,
        now=NOW,
    )
    assert written == size
    return buffer.getvalue().splitlines(keepends=True)


def save(tmp_path: Path, lines: Sequence[str]) -> Path:
    path = tmp_path / "audit-export.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def entry_line_index(lines: Sequence[str], seq: int) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line).get("seq") == seq)


def edit_entry(lines: list[str], seq: int, change: Callable[[dict[str, object]], object]) -> None:
    i = entry_line_index(lines, seq)
    obj = json.loads(lines[i])
    change(obj)
    lines[i] = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def rehash(obj: dict[str, object]) -> None:
    obj["leaf_hash"] = leaf_hash(str(obj["leaf"]).encode()).hex()


def replace_in_leaf(old: str, new: str, *, rehashed: bool) -> Callable[[dict[str, object]], None]:
    """Return an edit that changes the leaf text, and its stored hash too when rehashed."""

    def change(obj: dict[str, object]) -> None:
        obj["leaf"] = str(obj["leaf"]).replace(old, new, 1)
        if rehashed:
            rehash(obj)

    return change


def entry_with_seq(obj: dict[str, object], seq: int) -> None:
    """Renumber an export entry line self-consistently: line seq, leaf seq and leaf hash."""
    entry = json.loads(str(obj["leaf"]))
    entry["seq"] = seq
    obj["seq"] = seq
    obj["leaf"] = Entry(**entry).leaf().decode()
    rehash(obj)


def expect_failure(
    path: Path, match: str, trusted_key: Ed25519PublicKey | None = None
) -> VerifyError:
    with pytest.raises(VerifyError, match=match) as info:
        verify_export(path, trusted_key=trusted_key)
    return info.value


def test_round_trip_verifies(tmp_path: Path) -> None:
    lines = export_lines()
    header = json.loads(lines[0])
    assert header["format"] == "governance-audit-export/v2" and header["tree_size"] == SIZE
    assert header["exported_at"] == "2024-05-03T00:00:00.000000Z"
    assert [json.loads(line)["type"] for line in lines[1:5]] == ["checkpoint"] * 3 + ["entry"]
    report = verify_export(save(tmp_path, lines), trusted_key=KEY.public_key())
    leaves = [make_entry(seq).leaf() for seq in range(1, SIZE + 1)]
    assert report.tree_size == SIZE
    assert report.root_hash == sign_log(leaves, KEY, [SIZE])[0].root_hash
    assert report.checkpoints_verified == 3 and report.unsigned_entries == 0
    assert report.key_id == key_id(KEY.public_key())


def test_entries_after_the_last_checkpoint_are_reported_unsigned(tmp_path: Path) -> None:
    report = verify_export(save(tmp_path, export_lines(sizes=(10, 25))))
    assert report.unsigned_entries == 15 and report.latest_checkpoint is not None
    assert report.latest_checkpoint.tree_size == 25


def test_empty_export_verifies_and_unsigned_export_fails(tmp_path: Path) -> None:
    assert verify_export(save(tmp_path, export_lines(size=0, sizes=()))).tree_size == 0
    expect_failure(save(tmp_path, export_lines(sizes=())), "no signed checkpoint")


def test_one_byte_changed_in_a_leaf(tmp_path: Path) -> None:
    lines = export_lines()
    edit_entry(lines, 5, replace_in_leaf("c-5", "c-6", rehashed=False))
    error = expect_failure(save(tmp_path, lines), r"^entry 5: stored leaf_hash does not match")
    assert error.seq == 5


def test_one_byte_changed_in_a_leaf_with_its_hash_recomputed(tmp_path: Path) -> None:
    lines = export_lines()
    edit_entry(lines, 5, replace_in_leaf("c-5", "c-6", rehashed=True))
    error = expect_failure(save(tmp_path, lines), r"^checkpoint at tree size 10: signed root")
    assert error.tree_size == 10


def test_a_leaf_that_is_not_a_canonical_entry(tmp_path: Path) -> None:
    lines = export_lines()
    edit_entry(lines, 5, replace_in_leaf(":", ": ", rehashed=True))
    expect_failure(save(tmp_path, lines), r"^entry 5: leaf is not canonical JSON")


def test_entry_deleted(tmp_path: Path) -> None:
    lines = export_lines()
    del lines[entry_line_index(lines, 7)]
    expect_failure(save(tmp_path, lines), r"^entry 7: missing \(the next entry has seq 8\)")


def test_entry_deleted_and_the_rest_renumbered(tmp_path: Path) -> None:
    lines = export_lines()
    del lines[entry_line_index(lines, 7)]
    for seq in range(8, SIZE + 1):
        edit_entry(lines, seq, functools.partial(entry_with_seq, seq=seq - 1))
    expect_failure(save(tmp_path, lines), r"^checkpoint at tree size 10: signed root")


def test_two_entries_swapped(tmp_path: Path) -> None:
    lines = export_lines()
    i, j = entry_line_index(lines, 3), entry_line_index(lines, 4)
    lines[i], lines[j] = lines[j], lines[i]
    expect_failure(save(tmp_path, lines), r"^entry 3: missing \(the next entry has seq 4\)")


def test_two_leaves_swapped_keeping_line_seqs(tmp_path: Path) -> None:
    lines = export_lines()
    three, four = (json.loads(lines[entry_line_index(lines, s)]) for s in (3, 4))
    edit_entry(lines, 3, lambda o: o.update(leaf=four["leaf"], leaf_hash=four["leaf_hash"]))
    edit_entry(lines, 4, lambda o: o.update(leaf=three["leaf"], leaf_hash=three["leaf_hash"]))
    expect_failure(save(tmp_path, lines), r"^entry 3: its leaf records seq 4")


def test_two_entries_swapped_and_renumbered(tmp_path: Path) -> None:
    lines = export_lines()
    i, j = entry_line_index(lines, 3), entry_line_index(lines, 4)
    lines[i], lines[j] = lines[j], lines[i]
    for index, seq in ((i, 3), (j, 4)):
        obj = json.loads(lines[index])
        entry_with_seq(obj, seq)
        lines[index] = json.dumps(obj, ensure_ascii=False) + "\n"
    expect_failure(save(tmp_path, lines), r"^checkpoint at tree size 10: signed root")


def test_forged_entry_inserted(tmp_path: Path) -> None:
    lines = export_lines()
    forged = make_entry(6, action="customer.erase").leaf()
    line = {
        "type": "entry",
        "seq": 6,
        "leaf": forged.decode(),
        "leaf_hash": leaf_hash(forged).hex(),
    }
    lines.insert(entry_line_index(lines, 6), json.dumps(line) + "\n")
    expect_failure(save(tmp_path, lines), r"^entry 7: expected seq 7, found seq 6")


def test_forged_entry_inserted_and_the_rest_renumbered(tmp_path: Path) -> None:
    lines = export_lines()
    for seq in range(SIZE, 5, -1):
        edit_entry(lines, seq, functools.partial(entry_with_seq, seq=seq + 1))
    forged = make_entry(6, action="customer.erase").leaf()
    line = {
        "type": "entry",
        "seq": 6,
        "leaf": forged.decode(),
        "leaf_hash": leaf_hash(forged).hex(),
    }
    lines.insert(entry_line_index(lines, 7), json.dumps(line) + "\n")
    expect_failure(save(tmp_path, lines), r"^checkpoint at tree size 10: signed root")


def test_tail_truncated_below_a_checkpoint(tmp_path: Path) -> None:
    lines = export_lines()[: entry_line_index(export_lines(), 31)]
    error = expect_failure(
        save(tmp_path, lines), r"^checkpoint at tree size 40: .* after 30 entries"
    )
    assert error.tree_size == 40
    header = json.loads(lines[0])
    lines[0] = json.dumps({**header, "tree_size": 30}) + "\n"  # the header is not signed
    expect_failure(save(tmp_path, lines), r"^checkpoint at tree size 40: .* \(truncated\)")


def test_tail_truncated_against_the_header(tmp_path: Path) -> None:
    lines = export_lines(sizes=(10,))
    lines = lines[: entry_line_index(lines, 31)]
    expect_failure(save(tmp_path, lines), r"^entry 31: missing: the log claims 40 entries")


def test_extra_entry_beyond_the_header(tmp_path: Path) -> None:
    lines = export_lines()
    extra = make_entry(SIZE + 1).leaf()
    line = {
        "type": "entry",
        "seq": SIZE + 1,
        "leaf": extra.decode(),
        "leaf_hash": leaf_hash(extra).hex(),
    }
    lines.append(json.dumps(line) + "\n")
    expect_failure(save(tmp_path, lines), r"^entry 41: beyond the 40 entries")


def test_whole_log_replaced_by_a_self_consistent_fake(tmp_path: Path) -> None:
    fake = save(tmp_path, export_lines(key=OTHER))
    # On its own the fake is consistent: only a trusted key tells it apart.
    assert verify_export(fake).key_id == key_id(OTHER.public_key())
    expect_failure(
        fake, r"^export header public key .* is not the trusted key", trusted_key=KEY.public_key()
    )


def test_fake_log_under_the_real_header_key(tmp_path: Path) -> None:
    lines = export_lines(key=OTHER)
    lines[0] = export_lines()[0]
    expect_failure(
        save(tmp_path, lines), r"^checkpoint at tree size 10 names key .* not the verifying key"
    )


@pytest.mark.parametrize("forge_key_id", [False, True])
def test_checkpoint_signed_with_another_key(tmp_path: Path, forge_key_id: bool) -> None:
    lines = export_lines()
    real = Checkpoint.from_json({k: v for k, v in json.loads(lines[2]).items() if k != "type"})
    assert real.tree_size == 25
    forged = sign_checkpoint(OTHER, real.tree_size, real.root_hash, real.timestamp).to_json()
    if forge_key_id:
        forged["key_id"] = real.key_id
    lines[2] = json.dumps({"type": "checkpoint", **forged}) + "\n"
    reason = "has an invalid signature" if forge_key_id else "names key"
    error = expect_failure(save(tmp_path, lines), f"^checkpoint at tree size 25 {reason}")
    assert error.tree_size == 25


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "the file is empty"),
        ("not json\n", "line 1: not a JSON object"),
        ('{"type":"entry"}\n', "line 1: not a governance-audit-export/v2 header"),
    ],
)
def test_malformed_files(tmp_path: Path, content: str, match: str) -> None:
    with pytest.raises(ExportFormatError, match=match):
        verify_export(save(tmp_path, [content]))


def test_malformed_lines_are_named(tmp_path: Path) -> None:
    lines = export_lines()
    bad = list(lines)
    bad[10] = "{broken\n"
    with pytest.raises(ExportFormatError, match="^line 11: not a JSON object"):
        verify_export(save(tmp_path, bad))
    bad = list(lines)
    bad.append(lines[1])  # a checkpoint after the entries
    with pytest.raises(ExportFormatError, match=f"^line {len(bad)}: only entry lines"):
        verify_export(save(tmp_path, bad))
    bad = list(lines)
    edit_entry(bad, 3, lambda o: o.update(leaf_hash=str(o["leaf_hash"]).upper()))
    with pytest.raises(ExportFormatError, match="^line 7: entry leaf_hash is not 64 lowercase"):
        verify_export(save(tmp_path, bad))
    with pytest.raises(ExportFormatError, match="cannot read the export"):
        verify_export(tmp_path / "missing.jsonl")


def test_writer_refuses_inconsistent_input() -> None:
    leaves = [make_entry(seq).leaf() for seq in range(1, 4)]
    checkpoints = sign_log(leaves, KEY, [3])
    args = (io.StringIO(), public_key_pem(KEY), records_of(leaves))
    with pytest.raises(ValueError, match="announced 4 entries but wrote 3"):
        write_export(*args, checkpoints, tree_size=4, now=NOW)
    with pytest.raises(ValueError, match="beyond the export"):
        write_export(*args, checkpoints, tree_size=2, now=NOW)


def test_verify_log_is_the_shared_verifier_and_reports_progress() -> None:
    leaves = [make_entry(seq).leaf() for seq in range(1, 26)]
    empty = sign_checkpoint(KEY, 0, EMPTY_ROOT, "2024-05-01T00:00:00.000000Z")
    checkpoints = [*sign_log(leaves, KEY, [25, 20]), empty]
    calls: list[tuple[int, int | None]] = []
    report = verify_log(
        iter(records_of(leaves)),
        checkpoints,
        KEY.public_key(),
        progress=lambda done, total: calls.append((done, total)),
        progress_every=10,
    )
    assert calls == [(10, None), (20, None), (25, None)]
    assert report.checkpoints_verified == 3 and report.tree_size == 25
    records = records_of(leaves)
    records[11] = records[10]
    with pytest.raises(VerifyError, match="^entry 12: expected seq 12, found seq 11") as info:
        verify_log(records, checkpoints, KEY.public_key())
    assert info.value.seq == 12
