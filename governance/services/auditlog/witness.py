"""The newest signed checkpoint, kept outside the database: evidence a truncated log cannot erase.

Live verification compares the audit rows with the checkpoints stored beside them. Someone who can
drop the triggers can delete the newest entries *together with* their checkpoints and rebuild
``audit_state``, and every remaining row would still agree with every other. So each checkpoint
the server signs is also written, once its transaction has committed, to a file beside the signing
key (``<signing key file without suffix>.checkpoint.json``, the checkpoint's API JSON form). The
file only moves forward, and verification refuses a log that is shorter than it, that lacks its
checkpoint, or whose checkpoint at that size has another root (RFC 9162 §2.1: the same tree size
has one root).

Written after the commit, never before: a checkpoint whose transaction rolled back must not claim
entries the log never held. A crash between the commit and the write leaves the file one
checkpoint behind, which weakens the check a little and never raises a false alarm.

The file needs the same care as the signing key beside it (whoever can rewrite the file can also
sign anything). A remote witness is the later, stronger form of the same ``CheckpointWitness``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, CheckpointError
from governance.errors import InternalError

log = logging.getLogger(__name__)
PENDING = "governance.audit.unpublished_checkpoint"


class CheckpointWitness(Protocol):
    """Somewhere outside the database that remembers the newest signed checkpoint."""

    def load(self) -> Checkpoint | None: ...

    def publish(self, checkpoint: Checkpoint) -> None: ...


class WitnessError(InternalError):
    """The kept checkpoint exists but cannot be read: verification cannot be trusted."""


def checkpoint_file_for(signing_key_file: str | Path) -> Path:
    """Where the checkpoint is kept for a signing key: beside it, same stem."""
    key = Path(signing_key_file)
    return key.with_name(f"{key.stem}.checkpoint.json")


class CheckpointFile:
    """A ``CheckpointWitness`` in a local file, replaced atomically and only by a larger tree."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> Checkpoint | None:
        """The kept checkpoint, or None if none was ever written here; raise WitnessError."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WitnessError(f"{self.path}: cannot be read ({exc.strerror})") from None
        try:
            return Checkpoint.from_json(json.loads(raw))
        except (ValueError, CheckpointError) as exc:
            raise WitnessError(f"{self.path}: not a checkpoint ({exc})") from None

    def publish(self, checkpoint: Checkpoint) -> None:
        """Keep ``checkpoint`` unless the file already holds one at least as large."""
        with self._locked():
            try:
                kept = self.load()
            except WitnessError:
                kept = None  # replaced by a good one; verification reported the bad one
            if kept is not None and kept.tree_size >= checkpoint.tree_size:
                return
            self._replace(json.dumps(checkpoint.to_json(), sort_keys=True) + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Several server processes sign checkpoints; the lock makes read-compare-replace atomic.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _replace(self, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def publish_after_commit(session: Session, witness: CheckpointWitness, cp: Checkpoint) -> None:
    """Hand ``cp`` to ``witness`` when (and only if) the session's transaction commits."""
    pending = session.info.get(PENDING)
    if pending is None or pending[1].tree_size < cp.tree_size:
        session.info[PENDING] = (witness, cp)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    witness, cp = pending
    try:
        witness.publish(cp)
    except OSError as exc:  # the checkpoint is committed; only the outside copy lags behind
        log.error("could not keep audit checkpoint %d outside the database: %s", cp.tree_size, exc)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def explained_truncation(kept: Checkpoint, tree_size: int) -> str | None:
    """Why a log shorter than the kept checkpoint is nevertheless legitimate, or None.

    Hook for the backups issue: restoring a backup legitimately cuts the log back to the backup's
    tree size. That issue adds a *signed restore record* (restored tree size, the kept checkpoint
    it supersedes, when and by whom), checked here, as the one explained exception. Until it
    exists, nothing explains a shorter log and verification fails.
    """
    return None
