"""The backup file framing: round trip, and every change to the file fails (backupfile.py)."""

from __future__ import annotations

import io
import os
import struct

import pytest

from governance.crypto import LocalKeySource
from governance.crypto.backupfile import BackupFileError, decrypt_chunks, encrypt_stream

KEYS = LocalKeySource({1: bytes(range(32))})
OTHER = LocalKeySource({1: bytes(range(1, 33))})
DATA = os.urandom(10_000) + b"tail"


def sealed(data: bytes = DATA, chunk: int = 1024, keys: LocalKeySource = KEYS) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, keys, "20261206T201500Z-abcdef", chunk_size=chunk)
    return out.getvalue()


def opened(blob: bytes, keys: LocalKeySource = KEYS) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(blob), keys))


def chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Split a file into its head (magic, header) and its framed chunks."""
    (n,) = struct.unpack(">I", blob[8:12])
    head, rest, parts = blob[: 12 + n], blob[12 + n :], []
    while rest:
        (size,) = struct.unpack(">I", rest[:4])
        parts.append(rest[: 4 + size])
        rest = rest[4 + size :]
    return head, parts


@pytest.mark.parametrize("data", [b"", b"x", DATA, b"y" * 1024, b"z" * 2048])
def test_round_trip_for_any_size_including_exact_chunk_multiples(data: bytes) -> None:
    assert opened(sealed(data)) == data


def test_a_flipped_byte_anywhere_fails() -> None:
    blob = sealed()
    head, parts = chunks(blob)
    for position in (20, len(head) + 10, len(blob) // 2, len(blob) - 1):
        bad = bytearray(blob)
        bad[position] ^= 0x01
        with pytest.raises(BackupFileError):
            opened(bytes(bad))


def test_truncation_is_detected_even_at_a_chunk_boundary() -> None:
    head, parts = chunks(sealed())
    with pytest.raises(BackupFileError, match="truncated"):
        opened(head + b"".join(parts[:-1]))
    with pytest.raises(BackupFileError, match="truncated"):
        opened(head + b"".join(parts)[:-7])


def test_reordered_or_repeated_chunks_fail() -> None:
    head, parts = chunks(sealed())
    swapped = [parts[1], parts[0], *parts[2:]]
    with pytest.raises(BackupFileError, match="chunk 0"):
        opened(head + b"".join(swapped))
    with pytest.raises(BackupFileError):
        opened(head + b"".join([parts[0], parts[0], *parts[1:]]))


def test_data_after_the_final_chunk_fails() -> None:
    head, parts = chunks(sealed())
    with pytest.raises(BackupFileError, match="after the final chunk"):
        opened(head + b"".join(parts) + parts[-1])


def test_another_master_key_cannot_open_it() -> None:
    with pytest.raises(BackupFileError, match="cannot be unwrapped"):
        opened(sealed(), OTHER)


def test_chunks_of_another_backup_under_the_same_key_fail() -> None:
    head_a, parts_a = chunks(sealed())
    _head_b, parts_b = chunks(sealed())
    with pytest.raises(BackupFileError):
        opened(head_a + b"".join([parts_b[0], *parts_a[1:]]))


def test_not_a_backup_file() -> None:
    with pytest.raises(BackupFileError, match="magic"):
        opened(b"SQLite format 3\x00" + b"\x00" * 100)
