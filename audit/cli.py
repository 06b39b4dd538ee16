"""Command line of the standalone verifier: ``python -m audit verify EXPORT [--public-key PEM]``
, ``python -m audit receipt RECEIPT --public-key PEM`` (a consent receipt, ``audit.receipt``)
and ``python -m audit verify-inclusion CERTIFICATE --key PEM`` (one entry's proof).

Exit status: 0 when the export and every checkpoint verify, 1 when verification fails (the
message names the first bad entry or checkpoint), 2 when the file or key cannot be read or is not
in the export format. Needs only the ``audit`` package and ``cryptography``: no server, no database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import SigningKeyError, load_public_key_pem
from audit.export import ExportFormatError, verify_export
from audit.inclusion import InclusionDocumentError, verify_document
from audit.verify import Progress, VerifyError, VerifyReport

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m audit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an audit export file offline")
    verify.add_argument("file", help="export file (JSON Lines) written by governance audit export")
    verify.add_argument(
        "--public-key",
        metavar="PEM_FILE",
        help="Ed25519 public key you trust (PEM); the export's own key must be this key",
    )
    verify.add_argument("--quiet", action="store_true", help="do not print progress")
    receipt = commands.add_parser("receipt", help="verify a consent receipt (JSON) offline")
    receipt.add_argument("file", help="receipt file (JSON) from /api/v1/consents/ID/receipt")
    receipt.add_argument(
        "--public-key",
        "--key",
        metavar="PEM_FILE",
        required=True,
        help="Ed25519 public key of the log you trust (PEM)",
    )
    proof = commands.add_parser(
        "verify-inclusion",
        help="verify an erasure certificate (or any document proving one entry) offline",
    )
    proof.add_argument("file", help="the JSON certificate (leaf, leaf_hash, inclusion, checkpoint)")
    proof.add_argument(
        "--key", "--public-key", dest="key", metavar="PEM_FILE", required=True,
        help="the log's Ed25519 public key you trust (PEM)",
    )  # fmt: skip
    return parser


def _receipt(path: str, key_file: str) -> int:
    import json

    from audit.receipt import ReceiptError, verify_receipt

    try:
        trusted = _load_key(key_file)
        with open(path, encoding="utf-8") as fp:
            data = json.load(fp)
    except (OSError, ValueError, ExportFormatError) as exc:
        print(f"error: cannot read the receipt or key: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        found = verify_receipt(data, trusted)
    except ReceiptError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"OK: consent event {found.event_id} ({found.action} {found.purpose} for subject "
        f"{found.subject_id} at {found.timestamp}) is in the audit log: inclusion proof checked "
        f"against the checkpoint at tree size {found.tree_size}, signed by key {found.key_id}"
    )
    return EXIT_OK


def _load_key(path: str) -> Ed25519PublicKey:
    try:
        with open(path, "rb") as fp:
            return load_public_key_pem(fp.read())
    except OSError as exc:
        raise ExportFormatError(f"cannot read public key file: {exc.strerror or exc}") from None
    except SigningKeyError as exc:
        raise ExportFormatError(f"public key file: {exc}") from None


def _progress_printer(stream: TextIO) -> Progress:
    def report(done: int, total: int | None) -> None:
        if total:
            stream.write(f"verified {done}/{total} entries ({100 * done // total}%)\n")
        else:
            stream.write(f"verified {done} entries\n")
        stream.flush()

    return report


def _summary(report: VerifyReport, key_source: str) -> str:
    lines = [f"OK: {report.tree_size} entries verified, root {report.root_hash.hex()}"]
    latest = report.latest_checkpoint
    if latest is not None:
        lines.append(
            f"checkpoints: {report.checkpoints_verified} verified, latest at tree size "
            f"{latest.tree_size} ({latest.timestamp})"
        )
    lines.append(f"signing key: {report.key_id} ({key_source})")
    if report.unsigned_entries:
        lines.append(
            f"warning: the last {report.unsigned_entries} entries are not yet covered by a "
            "signed checkpoint"
        )
    if report.pending_entries:
        lines.append(
            f"pending: {report.pending_entries} committed entries not yet integrated into the "
            "tree (hash and form checked; no checkpoint covers them yet)"
        )
    return "\n".join(lines)


def _verify_inclusion(path: str, key_path: str) -> int:
    try:
        key = _load_key(key_path)
        with open(path, encoding="utf-8") as fp:
            doc = json.load(fp)
    except ExportFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
              file=sys.stderr)  # fmt: skip
        return EXIT_UNREADABLE
    try:
        proven = verify_document(doc, key)
    except InclusionDocumentError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    entry, cp = proven.entry, proven.checkpoint
    print(
        f"OK: entry {proven.leaf_index + 1} ({entry.get('action')}, subject "
        f"{entry.get('subject_id')}, {entry.get('timestamp')}) is in the log of "
        f"{cp.tree_size} entries signed at {cp.timestamp} by key {cp.key_id}"
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "receipt":
        return _receipt(args.file, args.public_key)
    if args.command == "verify-inclusion":
        return _verify_inclusion(args.file, args.key)
    try:
        trusted = _load_key(args.public_key) if args.public_key else None
        progress = None if args.quiet else _progress_printer(sys.stderr)
        report = verify_export(args.file, trusted_key=trusted, progress=progress)
    except ExportFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except VerifyError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return EXIT_FAILED
    key_source = (
        "the trusted key given with --public-key"
        if trusted is not None
        else "the key in the export header; pass --public-key to pin a key you trust"
    )
    print(_summary(report, key_source))
    return EXIT_OK
