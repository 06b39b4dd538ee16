"""Key management: KEK status, rotation (a resumable re-wrap job), retiring old KEK versions.

Envelope encryption as in NIST SP 800-57 (formats in crypto/FORMAT.md): a rotation adds
a KEK version to the key file, records its fingerprint in ``key_versions`` and re-wraps every data
key (DEK) still under an older version. Field ciphertext and blind indexes are not touched, and
reads keep working throughout because older versions still unwrap. The re-wrap walks
``data_keys`` in subject-id order (keyset pagination) and commits each batch with its checkpoint,
so an interrupted job resumes where it stopped, and a new run only finds what is left. Every
change of key state is audited; messages carry versions, counts and ids only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from governance import crypto
from governance.context import Call
from governance.errors import Conflict, GovernanceError, NotFound
from governance.models import DataKey, Job, KeyVersion
from governance.services.jobs import queue as jobs

log = logging.getLogger(__name__)

KIND = "keys.rotate"
BATCH = 1000
FINGERPRINT_PREFIX = 16


class KeySourceReadOnly(GovernanceError):
    """The KEKs come from GOVERNANCE_MASTER_KEY text, which only the operator can change."""

    status = 409
    slug = "key-source-read-only"
    title = "The master key is set by the environment"


class KeyVersionInUse(Conflict):
    """A KEK version cannot be retired: it is current, or data keys are still wrapped by it."""

    slug = "key-version-in-use"
    title = "KEK version still in use"


class KeyVersionUnusable(Conflict):
    """Data keys are wrapped by a KEK version this server cannot use (retired or missing)."""

    slug = "key-version-unusable"
    title = "Data keys under an unusable KEK version"


class RotationInProgress(Conflict):
    """A rotation job is queued or running."""

    slug = "rotation-in-progress"
    title = "A key rotation is in progress"


def key_file(call: Call) -> Path | None:
    """The key file rotation rewrites; None when the KEKs come from GOVERNANCE_MASTER_KEY."""
    path = call.settings.get("MASTER_KEY_FILE")
    return Path(path) if path else None


def counts_by_version(call: Call) -> dict[int, int]:
    """``{KEK version: number of data keys it wraps}``."""
    query = select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)
    return {int(v): int(n) for v, n in call.session.execute(query)}


def status(call: Call) -> dict[str, Any]:
    """KEK versions with state, fingerprint prefix and data-key counts; the latest rotation job."""
    call.vault.refresh_keys()
    keys = call.vault.keys
    counts = counts_by_version(call)
    recorded = {r.version: r for r in call.session.scalars(select(KeyVersion))}
    versions = []
    for version in sorted(set(keys.versions()) | set(recorded) | set(counts)):
        row = recorded.get(version)
        versions.append(
            {
                "version": version,
                "current": version == keys.current_version(),
                "state": _state(keys, version),
                "fingerprint": row.fingerprint[:FINGERPRINT_PREFIX] if row else None,
                "data_keys": counts.get(version, 0),
                "created_at": _iso(row.created_at) if row else None,
                "retired_at": _iso(row.retired_at) if row else None,
            }
        )
    latest = call.session.scalars(
        select(Job).where(Job.kind == KIND).order_by(Job.created_at.desc()).limit(1)
    ).first()
    return {
        "source": "key file" if key_file(call) else "GOVERNANCE_MASTER_KEY",
        "current": keys.current_version(),
        "versions": versions,
        "data_keys": sum(counts.values()),
        "pending_rewrap": sum(n for v, n in counts.items() if v != keys.current_version()),
        "rotation": jobs.describe(latest) if latest else None,
    }


def _state(keys: crypto.KeySource, version: int) -> str:
    if version not in keys.versions():
        return "missing"
    return "retired" if version in keys.retired_versions() else "active"


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def rotate(call: Call) -> Job:
    """Add a KEK version to the key file, record it (audited ``key.rotate``), queue the re-wrap.

    Raises KeySourceReadOnly when the KEKs come from GOVERNANCE_MASTER_KEY text and
    RotationInProgress when a rotation is queued or running. The caller commits.
    """
    path = key_file(call)
    if path is None:
        raise KeySourceReadOnly(
            "the master key comes from GOVERNANCE_MASTER_KEY: add the new version to the variable "
            "(append ',N:<base64 of 32 random bytes>'), restart every server, then run "
            "`governance keys rewrap`"
        )
    job = _active(call)
    if job is not None and not _stale(call, job):
        raise RotationInProgress(f"key rotation job {job.id} is {job.state}; wait for it to end")
    if job is not None:  # abandoned by its worker: the new job re-wraps everything it left
        job.state, job.error, job.finished_at = "failed", "superseded by a new rotation", call.now()
    call.vault.refresh_keys()
    previous = call.vault.keys.current_version()
    version = crypto.add_version(path)
    call.vault.use_keys(crypto.load_key_file(path))
    _record(call, version)
    _audit(call, "key.rotate", kek_version=version, previous_version=previous)
    return jobs.submit(call, KIND, {"version": version})


def _record(call: Call, version: int) -> KeyVersion:
    row = call.session.get(KeyVersion, version)
    if row is None:
        keys = call.vault.keys
        row = KeyVersion(
            version=version,
            fingerprint=keys.fingerprint(version),
            index_fingerprint=keys.index_fingerprint(),
            state="active",
            created_at=call.now(),
        )
        call.session.add(row)
    return row


def _audit(call: Call, action: str, **details: Any) -> None:
    call.audit.record(
        call.session, call.actor, action, now=call.now(), resource="keys", details=details
    )


def _active(call: Call) -> Job | None:
    query = select(Job).where(Job.kind == KIND, Job.state.in_(("queued", "running")))
    return call.session.scalars(query.order_by(Job.created_at.desc()).limit(1)).first()


def _stale(call: Call, job: Job) -> bool:
    beat = job.heartbeat_at
    return job.state == "running" and (beat is None or beat < call.now() - jobs.STALE_AFTER)


def rewrap_job(call: Call, worker: str) -> Job:
    """Claim the re-wrap job to run here: a queued or abandoned one (resumed), else a new one.

    Raises RotationInProgress when another process is running one right now. Commits.
    """
    job = _active(call)
    if job is None:
        call.vault.refresh_keys()
        job = jobs.submit(call, KIND, {"version": call.vault.keys.current_version()})
        call.session.commit()  # the queued job is visible to workers at once
    now = call.now()
    claimable = or_(
        Job.state == "queued",
        and_(Job.state == "running", Job.heartbeat_at < now - jobs.STALE_AFTER),
    )
    taken = call.session.execute(
        update(Job)
        .where(Job.id == job.id, claimable)
        .values(
            state="running",
            worker=worker,
            attempts=Job.attempts + 1,
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    call.session.commit()  # the claim is its own transaction
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise RotationInProgress(f"key rotation job {job.id} is running; wait for it to end")
    call.session.refresh(job)
    return job


def retire(call: Call, version: int) -> dict[str, Any]:
    """Retire a KEK version no data key depends on (audited ``key.retire``); never the current.

    Raises NotFound, KeyVersionInUse, Conflict (already retired) or KeySourceReadOnly.
    """
    keys = _known(call, version)
    if version == keys.current_version():
        raise KeyVersionInUse(f"KEK version {version} is the current version; rotate first")
    wrapped = counts_by_version(call).get(version, 0)
    if wrapped:
        raise KeyVersionInUse(
            f"KEK version {version} still wraps {wrapped} data keys; "
            "run `governance keys rewrap` first"
        )
    row = call.session.get(KeyVersion, version)
    if version in keys.retired_versions() and row is not None and row.state == "retired":
        raise Conflict(f"KEK version {version} is already retired")
    path = key_file(call)
    if path is not None:
        crypto.retire_version(path, version)
        call.vault.use_keys(crypto.load_key_file(path))
    elif version not in keys.retired_versions():
        raise KeySourceReadOnly(
            f"the master key comes from GOVERNANCE_MASTER_KEY: add ',retired:{version}' to it, "
            f"restart, then run `governance keys retire {version}` again to record it"
        )
    return _set_state(call, version, "retired")


def unretire(call: Call, version: int) -> dict[str, Any]:
    """Make a retired KEK version usable again (to re-wrap keys found under it); audited."""
    keys = _known(call, version)
    path = key_file(call)
    if path is not None:
        crypto.unretire_version(path, version)
        call.vault.use_keys(crypto.load_key_file(path))
    elif version in keys.retired_versions():
        raise KeySourceReadOnly(
            f"the master key comes from GOVERNANCE_MASTER_KEY: remove 'retired:{version}' "
            "from it and restart"
        )
    return _set_state(call, version, "active")


def _known(call: Call, version: int) -> crypto.KeySource:
    call.vault.refresh_keys()
    if version not in call.vault.keys.versions():
        raise NotFound(f"KEK version {version} is not in the key source")
    return call.vault.keys


def _set_state(call: Call, version: int, state: str) -> dict[str, Any]:
    row = _record(call, version)
    row.state = state
    row.retired_at = call.now() if state == "retired" else None
    _audit(call, "key.retire" if state == "retired" else "key.unretire", kek_version=version)
    return {"version": version, "state": state}


@jobs.register(KIND)
def run_rewrap(ctx: jobs.JobContext) -> dict[str, Any]:
    """Job handler: re-wrap every data key not under the target version, batch by batch."""
    call = ctx.call
    call.vault.refresh_keys()  # a worker started before the rotation learns the new version
    keys = call.vault.keys
    target = int(ctx.params.get("version") or keys.current_version())
    if target != keys.current_version():
        raise KeyVersionUnusable(
            f"this job re-wraps under KEK version {target} but this server's current version is "
            f"{keys.current_version()}; give every server the same key file, then run again"
        )
    _check_usable(call, keys, target)
    saved = ctx.saved if ctx.saved.get("version") == target else {}
    after, done = str(saved.get("after", "")), int(saved.get("done", 0))
    failed: list[str] = list(saved.get("failed", []))
    total = done + _pending(call, target, after)
    ctx.progress(done, total, {"version": target, "after": after, "done": done, "failed": failed})
    size = int(ctx.params.get("batch", BATCH))
    while rows := _batch(call, target, after, size):
        failed += _rewrap_rows(call, keys, target, rows)
        after, done = rows[-1][0], done + len(rows)
        checkpoint = {"version": target, "after": after, "done": done, "failed": failed[:100]}
        ctx.progress(done, max(total, done), checkpoint)
    _audit(call, "key.rewrap", kek_version=target, data_keys=done - len(failed))
    return {
        "version": target,
        "rewrapped": done - len(failed),
        "failed": failed[:100],
        "failed_count": len(failed),
        "remaining": _pending(call, target, ""),
    }


def _pending(call: Call, target: int, after: str) -> int:
    query = select(func.count()).select_from(DataKey).where(DataKey.kek_version != target)
    return int(call.session.scalar(query.where(DataKey.subject_id > after)) or 0)


def _check_usable(call: Call, keys: crypto.KeySource, target: int) -> None:
    for version, count in sorted(counts_by_version(call).items()):
        if version != target and version not in keys.versions():
            raise KeyVersionUnusable(
                f"{count} data keys are wrapped by KEK version {version}, which is not in the "
                "key source: restore that version to the key file or GOVERNANCE_MASTER_KEY"
            )
        if version != target and version in keys.retired_versions():
            raise KeyVersionUnusable(
                f"{count} data keys are wrapped by retired KEK version {version}: run "
                f"`governance keys unretire {version}`, then `governance keys rewrap`"
            )


def _batch(call: Call, target: int, after: str, size: int) -> list[Any]:
    query = (
        select(DataKey.subject_id, DataKey.kek_version, DataKey.wrapped)
        .where(DataKey.kek_version != target, DataKey.subject_id > after)
        .order_by(DataKey.subject_id)
        .limit(size)
    )
    return list(call.session.execute(query))


_KEYS = DataKey.__table__.c
REWRAP = (
    update(DataKey.__table__)
    # the version read is part of the condition: a key erased or changed meanwhile is left alone
    .where(_KEYS.subject_id == bindparam("sid"), _KEYS.kek_version == bindparam("old"))
    .values(kek_version=bindparam("new"), wrapped=bindparam("blob"), rewrapped_at=bindparam("at"))
)


def _rewrap_rows(call: Call, keys: crypto.KeySource, target: int, rows: list[Any]) -> list[str]:
    """Re-wrap one batch with one executemany; returns the subject ids that failed."""
    failed, params = [], []
    now = call.now()
    for subject_id, version, blob in rows:
        try:
            fresh = crypto.rewrap(keys, crypto.WrappedKey(version, bytes(blob)), target)
        except crypto.CryptoError as exc:
            log.error("re-wrap failed for the data key of subject %s: %s", subject_id, exc)
            failed.append(subject_id)
            continue
        params.append(
            {"sid": subject_id, "old": version, "new": target, "blob": fresh.blob, "at": now}
        )
    if params:
        call.session.execute(REWRAP, params)
    return failed
