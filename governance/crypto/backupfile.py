"""The encrypted backup file: AES-256-GCM over a stream, in chunks (NIST SP 800-38D).

Memory stays flat for a file of any size: one chunk at a time. The framing (docs/backup-format.md
gives it byte by byte) makes every change to the file fail:

```
file    = MAGIC (8 bytes "GOVBKUP1") || u32be(len(header)) || header || chunk*
header  = canonical JSON {"backup_id", "chunk_size", "format": 1, "kek_version",
                          "nonce_prefix" (b64, 8 bytes), "wrapped_key" (b64, 61 bytes)}
chunk   = u32be(len(ct)) || ct          ct = AES-256-GCM(file key, nonce, plaintext, aad)
nonce   = nonce_prefix || u32be(counter)          counter = 0, 1, 2, ...
aad     = SHA-256(header) || u32be(counter) || final   final = 0x01 on the last chunk, else 0x00
file key = HKDF-SHA256(secret, info "gov-backup-file/v1|" || backup_id)
secret  = the 32 random bytes wrapped under KEK ``kek_version`` (FORMAT.md, "Wrapped DEK")
```

A flipped byte fails its chunk's tag; a reordered chunk fails (its counter is in the nonce); a
chunk from another backup fails (the header hash is in the AAD); a truncated file fails (the last
chunk read does not carry the final flag); bytes after the final chunk fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from governance.crypto._kdf import hkdf
from governance.crypto.errors import CryptoError
from governance.crypto.keysource import KeySource, WrappedKey

MAGIC = b"GOVBKUP1"
FORMAT = 1
CHUNK_SIZE = 1 << 20
PREFIX_BYTES = 8
TAG_BYTES = 16
MAX_HEADER = 1 << 16
_U32 = struct.Struct(">I")


class BackupFileError(CryptoError):
    """The backup file is damaged, truncated, reordered or sealed under another key."""


def _file_key(secret: bytes, backup_id: str) -> bytes:
    return hkdf(secret, b"gov-backup-file/v1|" + backup_id.encode("ascii"))


def _aad(header_hash: bytes, counter: int, final: bool) -> bytes:
    return header_hash + _U32.pack(counter) + (b"\x01" if final else b"\x00")


class Reader(Protocol):
    def read(self, n: int, /) -> bytes | None: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


def _read_exact(src: Reader, n: int) -> bytes:
    data = src.read(n)
    return data if data is not None else b""


def encrypt_stream(
    src: Reader,
    dst: Writer,
    keys: KeySource,
    backup_id: str,
    *,
    chunk_size: int = CHUNK_SIZE,
    rng: Callable[[int], bytes] = os.urandom,
    on_chunk: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Encrypt everything ``src`` yields into ``dst``; return the header and chunk count."""
    secret = rng(32)
    wrapped = keys.wrap(secret)
    prefix = rng(PREFIX_BYTES)
    header: dict[str, Any] = {
        "backup_id": backup_id,
        "chunk_size": chunk_size,
        "format": FORMAT,
        "kek_version": wrapped.version,
        "nonce_prefix": base64.b64encode(prefix).decode("ascii"),
        "wrapped_key": base64.b64encode(wrapped.blob).decode("ascii"),
    }
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
    dst.write(MAGIC + _U32.pack(len(raw)) + raw)
    aead = AESGCM(_file_key(secret, backup_id))
    header_hash = hashlib.sha256(raw).digest()
    counter, current = 0, _read_exact(src, chunk_size)
    while True:
        following = _read_exact(src, chunk_size) if len(current) == chunk_size else b""
        final = not following
        nonce = prefix + _U32.pack(counter)
        sealed = aead.encrypt(nonce, current, _aad(header_hash, counter, final))
        dst.write(_U32.pack(len(sealed)) + sealed)
        counter += 1
        if on_chunk is not None:
            on_chunk(len(current))
        if final:
            return {**header, "chunks": counter}
        current = following


def read_header(src: Reader) -> tuple[dict[str, Any], bytes]:
    """The header (parsed) and its raw bytes; raise BackupFileError when it is not one."""
    if _read_exact(src, len(MAGIC)) != MAGIC:
        raise BackupFileError("not a governance backup file (bad magic)")
    size = _read_exact(src, 4)
    if len(size) != 4 or not 0 < _U32.unpack(size)[0] <= MAX_HEADER:
        raise BackupFileError("backup header length is damaged")
    raw = _read_exact(src, _U32.unpack(size)[0])
    try:
        header = json.loads(raw)
        ok = header.get("format") == FORMAT and isinstance(header.get("backup_id"), str)
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise BackupFileError("backup header is damaged or of an unknown format")
    return header, raw


def decrypt_chunks(src: Reader, keys: KeySource) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise BackupFileError at the first bad byte.

    A consumer must treat what it received as unverified until the generator is exhausted:
    only then is it known the file was not cut short.
    """
    header, raw = read_header(src)
    try:
        secret = keys.unwrap(
            WrappedKey(int(header["kek_version"]), base64.b64decode(header["wrapped_key"]))
        )
        prefix = base64.b64decode(header["nonce_prefix"])
        chunk_size = int(header["chunk_size"])
    except CryptoError as exc:
        raise BackupFileError(f"backup key cannot be unwrapped: {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise BackupFileError("backup header is damaged") from None
    aead = AESGCM(_file_key(secret, header["backup_id"]))
    header_hash = hashlib.sha256(raw).digest()
    counter = 0
    while True:
        size = _read_exact(src, 4)
        if not size:
            raise BackupFileError(f"truncated: no final chunk after chunk {counter - 1}")
        length = _U32.unpack(size)[0] if len(size) == 4 else -1
        if not TAG_BYTES <= length <= chunk_size + TAG_BYTES:
            raise BackupFileError(f"chunk {counter}: damaged length")
        sealed = _read_exact(src, length)
        if len(sealed) != length:
            raise BackupFileError(f"truncated: chunk {counter} is cut short")
        nonce = prefix + _U32.pack(counter)
        for final in (False, True):
            try:
                plain = aead.decrypt(nonce, sealed, _aad(header_hash, counter, final))
                break
            except InvalidTag:
                continue
        else:
            raise BackupFileError(
                f"chunk {counter}: failed its integrity check (changed, reordered or another key)"
            )
        yield plain
        counter += 1
        if final:
            if _read_exact(src, 1):
                raise BackupFileError(f"data after the final chunk {counter - 1}")
            return
