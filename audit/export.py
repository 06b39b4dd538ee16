"""The audit export: one JSON Lines file that ``python -m audit verify`` checks offline.

Format ``governance-audit-export/v2`` (``/v1`` files are still read): UTF-8, one JSON object per
line, each ended by ``\\n``.

1. one header line::

     {"type":"header","format":"governance-audit-export/v2","public_key":"<Ed25519 public key,
      SubjectPublicKeyInfo PEM>","exported_at":"<RFC 3339 UTC>","tree_size":<N>}

2. zero or more checkpoint lines, ascending tree size, each the checkpoint's API object plus type::

     {"type":"checkpoint","tree_size":..,"root_hash":"<hex>","timestamp":"..",
      "signature":"<base64>","key_id":".."}

3. N entry lines, seq 1..N in order::

     {"type":"entry","seq":<seq>,"leaf":"<the canonical JSON leaf, as a JSON string>",
      "leaf_hash":"<hex of SHA-256(0x00 || leaf as UTF-8)>"}

4. (v2 only) zero or more pending lines: entries committed but not yet integrated into the tree,
   in queue order, with no seq (their leaves are v2 leaves, which never contain one)::

     {"type":"pending","id":<queue id>,"leaf":"<canonical JSON leaf>","leaf_hash":"<hex>"}

   They are checked for hash and canonical form and reported as pending: no checkpoint covers
   them, so nothing signed vouches for them yet.

Entry leaves may be v1 (with ``seq``) or v2 (without; see ``audit.entry``).
Checkpoints come before entries so the verifier knows every checked tree size before it streams
the entries, and verifies a log of any length in O(log n) memory.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKeyError,
    key_id,
    load_public_key_pem,
)
from audit.errors import AuditError
from audit.timefmt import format_timestamp, parse_timestamp
from audit.verify import (
    LogRecord,
    PendingRecord,
    Progress,
    VerifyError,
    VerifyReport,
    verify_log,
    verify_pending,
)

EXPORT_FORMAT = "governance-audit-export/v2"
READABLE_FORMATS = frozenset({"governance-audit-export/v1", EXPORT_FORMAT})
_HEX_HASH_RE = re.compile(r"[0-9a-f]{64}")
_HEADER_KEYS = frozenset({"type", "format", "public_key", "exported_at", "tree_size"})
_ENTRY_KEYS = frozenset({"type", "seq", "leaf", "leaf_hash"})
_PENDING_KEYS = frozenset({"type", "id", "leaf", "leaf_hash"})
_LINE_DECODER = json.JSONDecoder()


class ExportFormatError(AuditError, ValueError):
    """An export file is unreadable or not in the export format; the message names the line."""


class TextSink(Protocol):
    """Anything with ``write(str)``, such as a file opened in text mode."""

    def write(self, text: str, /) -> object:
        """Write text."""
        ...


@dataclass(frozen=True)
class ExportHeader:
    """The first line of an export."""

    public_key: Ed25519PublicKey
    public_key_pem: str
    exported_at: str
    tree_size: int


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_export(
    fp: TextSink,
    public_key_pem: str | bytes,
    entries: Iterable[LogRecord],
    checkpoints: Iterable[Checkpoint],
    *,
    tree_size: int,
    now: datetime,
    pending: Iterable[PendingRecord] = (),
) -> int:
    """Stream an export of tree_size entries ``(seq, leaf, stored leaf hash)``; return the count.

    Pass the stored leaf hashes, not recomputed ones, so the verifier also checks the stored
    column. Raises ValueError if entries or checkpoints do not fit tree_size.
    """
    pem = public_key_pem.decode("ascii") if isinstance(public_key_pem, bytes) else public_key_pem
    header = {"type": "header", "format": EXPORT_FORMAT, "public_key": pem}
    fp.write(_line({**header, "exported_at": format_timestamp(now), "tree_size": tree_size}))
    for checkpoint in sorted(checkpoints, key=lambda cp: cp.tree_size):
        if checkpoint.tree_size > tree_size:
            raise ValueError(f"checkpoint at tree size {checkpoint.tree_size} is beyond the export")
        fp.write(_line({"type": "checkpoint", **checkpoint.to_json()}))
    count = 0
    for seq, leaf, stored_hash in entries:
        entry = {"type": "entry", "seq": seq, "leaf": leaf.decode("utf-8")}
        fp.write(_line({**entry, "leaf_hash": stored_hash.hex()}))
        count += 1
    if count != tree_size:
        raise ValueError(f"export announced {tree_size} entries but wrote {count}")
    for qid, leaf, stored_hash in pending:
        line = {"type": "pending", "id": qid, "leaf": leaf.decode("utf-8")}
        fp.write(_line({**line, "leaf_hash": stored_hash.hex()}))
    return count


def _decode_line(raw: bytes, lineno: int) -> dict[str, Any] | None:
    """Decode one line to a JSON object; None for a blank line."""
    try:
        text = raw.decode("utf-8")
        obj, end = _LINE_DECODER.raw_decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        if raw.strip():
            raise ExportFormatError(f"line {lineno}: not a JSON object") from None
        return None
    if type(obj) is not dict or (end != len(text) and text[end:].strip()):
        raise ExportFormatError(f"line {lineno}: not a JSON object")
    return obj


def _objects(fp: BinaryIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for every non-blank line."""
    for lineno, raw in enumerate(fp, start=1):
        obj = _decode_line(raw, lineno)
        if obj is not None:
            yield lineno, obj


def _parse_header(obj: dict[str, Any]) -> ExportHeader:
    if obj.get("type") != "header" or obj.get("format") not in READABLE_FORMATS:
        raise ExportFormatError(f"line 1: not a {EXPORT_FORMAT} header")
    if obj.keys() != _HEADER_KEYS:
        raise ExportFormatError(f"line 1: header must have exactly {sorted(_HEADER_KEYS)}")
    pem, size, exported_at = obj["public_key"], obj["tree_size"], obj["exported_at"]
    if type(size) is not int or size < 0 or not isinstance(pem, str):
        raise ExportFormatError("line 1: header tree_size or public_key has the wrong type")
    try:
        parse_timestamp(exported_at)
        key = load_public_key_pem(pem.encode("utf-8"))
    except (ValueError, SigningKeyError, UnicodeEncodeError) as exc:
        raise ExportFormatError(f"line 1: {exc}") from None
    return ExportHeader(key, pem, exported_at, size)


def _parse_entry(obj: dict[str, Any], lineno: int, kind: str = "entry") -> LogRecord:
    keys = _ENTRY_KEYS if kind == "entry" else _PENDING_KEYS
    if obj.keys() != keys or obj["type"] != kind:
        if obj.get("type") != kind:
            raise ExportFormatError(f"line {lineno}: only {kind} lines may follow the first {kind}")
        raise ExportFormatError(f"line {lineno}: {kind} must have exactly {sorted(keys)}")
    seq, leaf, leaf_hash = obj["seq" if kind == "entry" else "id"], obj["leaf"], obj["leaf_hash"]
    if type(seq) is not int or type(leaf) is not str or type(leaf_hash) is not str:
        raise ExportFormatError(f"line {lineno}: entry seq, leaf or leaf_hash has the wrong type")
    if _HEX_HASH_RE.fullmatch(leaf_hash) is None:
        raise ExportFormatError(f"line {lineno}: entry leaf_hash is not 64 lowercase hex digits")
    try:
        return seq, leaf.encode("utf-8"), bytes.fromhex(leaf_hash)
    except UnicodeEncodeError:
        raise ExportFormatError(f"line {lineno}: entry leaf is not valid Unicode") from None


def _parse_checkpoint(obj: dict[str, Any], lineno: int) -> Checkpoint:
    fields = {key: value for key, value in obj.items() if key != "type"}
    try:
        return Checkpoint.from_json(fields)
    except CheckpointError as exc:
        raise ExportFormatError(f"line {lineno}: {exc}") from None


def _records(
    objects: Iterator[tuple[int, dict[str, Any]]], pending: list[PendingRecord] | None
) -> Iterator[LogRecord]:
    """Entry records; pending lines after them (v2 only) go to ``pending``."""
    for lineno, obj in objects:
        if obj.get("type") == "pending" and pending is not None:
            pending.append(_parse_entry(obj, lineno, "pending"))
            for more, rest in objects:
                pending.append(_parse_entry(rest, more, "pending"))
            return
        yield _parse_entry(obj, lineno)


def read_export(
    fp: BinaryIO, pending: list[PendingRecord] | None = None
) -> tuple[ExportHeader, list[Checkpoint], Iterator[LogRecord]]:
    """Read the header and checkpoints; return them with a lazy iterator over the entries.

    A v2 export's pending lines are appended to ``pending`` once the iterator is exhausted (a v1
    export, or ``pending`` None, refuses them). Raises ExportFormatError, also from the iterator,
    for any malformed line.
    """
    objects = _objects(fp)
    first = next(objects, None)
    if first is None:
        raise ExportFormatError("the file is empty")
    header = _parse_header(first[1])
    if first[1]["format"] != EXPORT_FORMAT:
        pending = None  # a v1 export has no pending lines
    checkpoints: list[Checkpoint] = []
    for lineno, obj in objects:
        kind = obj.get("type")
        if kind == "checkpoint":
            checkpoints.append(_parse_checkpoint(obj, lineno))
        elif kind == "entry":
            return header, checkpoints, _records(itertools.chain([(lineno, obj)], objects), pending)
        elif kind == "pending" and pending is not None:
            return header, checkpoints, _records(itertools.chain([(lineno, obj)], objects), pending)
        else:
            raise ExportFormatError(f"line {lineno}: unknown line type")
    return header, checkpoints, iter(())


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_export(
    path: str | Path,
    *,
    trusted_key: Ed25519PublicKey | None = None,
    progress: Progress | None = None,
    progress_every: int = 100_000,
) -> VerifyReport:
    """Verify an export file with ``verify_log``; raise VerifyError or ExportFormatError.

    Signatures are checked with trusted_key when given (the header's key must then be the same
    key), else with the header's key. A non-empty export without any checkpoint fails: nothing in
    it would be signed.
    """
    try:
        pending: list[PendingRecord] = []
        with open(path, "rb") as fp:
            header, checkpoints, records = read_export(fp, pending)
            key = header.public_key
            if trusted_key is not None:
                if _raw(trusted_key) != _raw(key):
                    raise VerifyError(
                        f"export header public key {key_id(key)} is not the trusted key "
                        f"{key_id(trusted_key)}"
                    )
                key = trusted_key
            if header.tree_size > 0 and not checkpoints:
                raise VerifyError("the export has entries but no signed checkpoint")
            report = verify_log(
                records,
                checkpoints,
                key,
                total=header.tree_size,
                progress=progress,
                progress_every=progress_every,
            )
            return dataclasses.replace(report, pending_entries=verify_pending(pending))
    except OSError as exc:
        raise ExportFormatError(f"cannot read the export: {exc.strerror or exc}") from None
