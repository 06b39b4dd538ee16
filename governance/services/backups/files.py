"""Backup files on disk: ids, the backup directory, atomic writes, signed manifests, pruning.

A backup is ``<id>.backup`` (the encrypted dump, ``governance/crypto/backupfile.py``) and
``<id>.manifest.json``. The manifest is written last: a backup without its manifest is not a
backup (a failed or interrupted run leaves at most a ``.tmp`` file, which listing ignores and the
next run removes). The manifest is signed with the audit log's checkpoint signing key (Ed25519,
RFC 8032): the same key that vouches for the log vouches for the figures the backup claims.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.checkpoint import key_id
from governance.errors import GovernanceError, NotFound

ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
MANIFEST_SUFFIX = ".manifest.json"
BACKUP_SUFFIX = ".backup"
TOMBSTONE_FILE = "tombstones.json"


class BackupDirError(GovernanceError):
    """The backup directory cannot be written (missing, not a directory, full, read-only)."""

    status = 500
    slug = "backup-directory"
    title = "Backup directory unusable"


class ManifestError(GovernanceError):
    """A manifest is unreadable or its signature fails."""

    status = 422
    slug = "backup-manifest"
    title = "Backup manifest invalid"


def new_id(now: datetime) -> str:
    """Sortable and unguessable: ``20261206T201500Z-1a2b3c``."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def backup_dir(settings: dict[str, Any]) -> Path:
    """``GOVERNANCE_BACKUP_DIR``, default ``<instance>/backups``."""
    configured = settings.get("BACKUP_DIR")
    return Path(configured or Path(settings["INSTANCE_PATH"]) / "backups")


def ensure_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = path / f".probe-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BackupDirError(f"backup directory {path}: {exc.strerror or exc}") from None
    return path


@contextlib.contextmanager
def atomic_file(final: Path) -> Iterator[IO[bytes]]:
    """Write to ``<final>.tmp``, fsync, rename over ``final``, fsync the directory; on any error
    remove the temporary file and raise BackupDirError for disk errors."""
    tmp = final.with_name(final.name + ".tmp")
    try:
        with tmp.open("wb") as out:
            os.chmod(tmp, 0o600)
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise BackupDirError(f"writing {final.name}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_manifest(doc: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The manifest with ``signature`` over the canonical JSON of everything else."""
    body = {k: v for k, v in doc.items() if k != "signature"}
    signature = base64.b64encode(key.sign(canonical(body))).decode("ascii")
    return {**body, "signature": {"alg": "Ed25519", "key_id": key_id(key.public_key()),
                                  "value": signature}}  # fmt: skip


def check_signature(doc: dict[str, Any], key: Ed25519PublicKey) -> None:
    """Raise ManifestError unless ``doc`` carries a valid signature by ``key``."""
    sig = doc.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != "Ed25519":
        raise ManifestError("manifest is not signed")
    if sig.get("key_id") != key_id(key):
        raise ManifestError(f"manifest signed by another key ({sig.get('key_id')})")
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        key.verify(base64.b64decode(str(sig.get("value"))), canonical(body))
    except (InvalidSignature, ValueError):
        raise ManifestError("manifest signature does not verify") from None


def write_json(path: Path, doc: Any) -> None:
    with atomic_file(path) as out:
        out.write(json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n")


def manifest_path(directory: Path, backup_id: str) -> Path:
    return directory / f"{backup_id}{MANIFEST_SUFFIX}"


def backup_path(directory: Path, backup_id: str) -> Path:
    return directory / f"{backup_id}{BACKUP_SUFFIX}"


def load_manifest(directory: Path, backup_id: str) -> dict[str, Any]:
    """The manifest (unverified); NotFound for an unknown id, ManifestError when unreadable."""
    if not ID.match(backup_id):
        raise NotFound(f"no backup {backup_id!r} (ids look like 20261206T201500Z-1a2b3c)")
    path = manifest_path(directory, backup_id)
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise NotFound(f"no backup {backup_id} in {directory}") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"manifest of {backup_id} is unreadable ({exc})") from None
    if not isinstance(doc, dict) or doc.get("id") != backup_id:
        raise ManifestError(f"manifest of {backup_id} does not describe that backup")
    return doc


def backup_ids(directory: Path) -> list[str]:
    """Ids of the backups in ``directory`` (those with a manifest), oldest first."""
    if not directory.is_dir():
        return []
    found = (p.name[: -len(MANIFEST_SUFFIX)] for p in directory.glob(f"*{MANIFEST_SUFFIX}"))
    return sorted(i for i in found if ID.match(i))


def latest_id(directory: Path) -> str:
    ids = backup_ids(directory)
    if not ids:
        raise NotFound(f"no backups in {directory}")
    return ids[-1]


def created_at(backup_id: str) -> datetime:
    return datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def prune(directory: Path, now: datetime, keep_days: int, keep_last: int = 1) -> list[str]:
    """Remove backups older than ``keep_days`` (never the newest ``keep_last``); return ids."""
    ids = backup_ids(directory)
    removed = []
    for backup_id in ids[: max(0, len(ids) - keep_last)]:
        if created_at(backup_id) < now - timedelta(days=keep_days):
            for path in (backup_path(directory, backup_id), manifest_path(directory, backup_id)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            removed.append(backup_id)
    for stale in directory.glob("*.tmp") if directory.is_dir() else ():
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < (now - timedelta(hours=1)).timestamp():
                stale.unlink()
    return removed
