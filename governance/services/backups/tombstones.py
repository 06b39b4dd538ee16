"""``tombstones.json`` beside the backups, kept current after every erasure.

A restore must replay every erasure made after its backup, even when the live database is gone.
Each backup writes the whole list (``create.export_tombstones``); after that, every committed
transaction that wrote a tombstone (an erasure, a merge) adds its ids here, re-signed with the
audit signing key, so the file lags the database by nothing but a crash between commit and
write (the next backup rewrites it whole). Ids and times only: no personal data.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from governance.models import Tombstone
from governance.services.backups import files

log = logging.getLogger(__name__)
PENDING = "governance.backups.erased"
_WATCHED: dict[str, tuple[Path, Ed25519PrivateKey]] = {}


def watch(database_url: str, settings: dict[str, Any], key: Ed25519PrivateKey) -> None:
    """Keep the tombstone file of this database's backup directory current."""
    _WATCHED[database_url] = (files.backup_dir(settings), key)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, flush: UOWTransaction) -> None:
    erased = [o for o in session.new if isinstance(o, Tombstone)]
    if erased:
        session.info.setdefault(PENDING, []).extend(
            {"subject_id": t.subject_id, "erased_at": str(t.erased_at)} for t in erased
        )


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    erased = session.info.pop(PENDING, None)
    if not erased:
        return
    try:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
    except Exception:  # noqa: BLE001 (no bind: nothing to publish to)
        return
    watched = _WATCHED.get(url)
    if watched is None:
        return
    try:
        append(watched[0], watched[1], erased)
    except (OSError, files.BackupDirError, files.ManifestError) as exc:
        log.error("could not add %d erasures to the tombstone file: %s", len(erased), exc)


def append(directory: Path, key: Ed25519PrivateKey, erased: list[dict[str, Any]]) -> bool:
    """Add erasures to an existing, validly signed tombstone file; False when there is none
    (before the first backup the file does not exist, and a partial list would mislead)."""
    path = directory / files.TOMBSTONE_FILE
    if not path.exists():
        return False
    with _locked(path):
        doc = json.loads(path.read_bytes())
        files.check_signature(doc, key.public_key())
        known = {t["subject_id"] for t in doc["tombstones"]}
        doc["tombstones"] += [t for t in erased if t["subject_id"] not in known]
        doc.pop("signature", None)
        files.write_json(path, files.sign_manifest(doc, key))
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
