"""KEK operations: status, rotation (a new version plus a resumable re-wrap of every data key),
retirement. Re-wrapping touches only the wrapped data keys, never the field ciphertext, and reads
keep working throughout (old versions still unwrap until they are retired)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from governance.errors import Conflict, ValidationError
from governance.models import DataKey, KeyVersion
from governance.services import crypto
from governance.services.context import Call
from governance.services.crypto.keyfile import add_version, load_key_file, retire_version
from governance.services.jobs import JobContext, register

BATCH = 1000


def status(call: Call) -> dict[str, Any]:
    """Versions known to the database, their state and how many data keys each wraps."""
    counts = dict(
        call.session.execute(
            select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)
        ).all()
    )
    rows = call.session.scalars(select(KeyVersion).order_by(KeyVersion.version))
    return {
        "current": call.vault.keys.current_version(),
        "versions": [
            {
                "version": r.version,
                "state": r.state,
                "fingerprint": r.fingerprint[:16],
                "data_keys": counts.get(r.version, 0),
            }
            for r in rows
        ],  # fmt: skip
    }


def rotate(call: Call, key_file: Path) -> crypto.KeySource:
    """Add a KEK version to the key file and make it current; returns the reloaded key source."""
    version = add_version(key_file)
    source = load_key_file(key_file)
    call.vault.keys = source
    from governance.bootstrap import register_key_versions

    register_key_versions(call)
    call.audit.record(call.session, call.actor, "key.rotate", now=call.now(), resource="keys",
                      details={"kek_version": version})  # fmt: skip
    return source


@register("keys.rewrap")
def run_rewrap(ctx: JobContext) -> dict[str, Any]:
    """Re-wrap every data key not on the current KEK version, batch by batch (resumable)."""
    call = ctx.call
    current = call.vault.keys.current_version()
    pending = select(DataKey).where(DataKey.kek_version != current)
    total = call.session.scalar(select(func.count()).select_from(pending.subquery())) or 0
    done, after = 0, str(ctx.saved.get("after", ""))
    while True:
        rows = list(call.session.scalars(
            pending.where(DataKey.subject_id > after).order_by(DataKey.subject_id).limit(BATCH)
        ))  # fmt: skip
        if not rows:
            break
        for row in rows:
            wrapped = crypto.rewrap(
                call.vault.keys, crypto.WrappedKey(row.kek_version, row.wrapped)
            )
            row.kek_version, row.wrapped, row.rewrapped_at = (
                wrapped.version,
                wrapped.blob,
                call.now(),
            )
        done += len(rows)
        after = rows[-1].subject_id
        call.audit.record(call.session, call.actor, "key.rewrap", now=call.now(), resource="keys",
                          details={"data_keys": len(rows), "kek_version": current})  # fmt: skip
        ctx.progress(done, total, {"after": after})
    return {"rewrapped": done, "kek_version": current}


def retire(call: Call, key_file: Path, version: int) -> None:
    """Retire a KEK version; refused for the current one or while data keys still use it."""
    if version == call.vault.keys.current_version():
        raise ValidationError("cannot retire the current version",
                              [{"field": "version", "message": "is the current KEK"}])  # fmt: skip
    remaining = call.session.scalar(
        select(func.count()).select_from(DataKey).where(DataKey.kek_version == version)
    )
    if remaining:
        raise Conflict(f"KEK version {version} still wraps {remaining} data keys; "
                       "run `governance keys rewrap` first")  # fmt: skip
    retire_version(key_file, version)
    call.vault.keys = load_key_file(key_file)
    row = call.session.get(KeyVersion, version)
    if row is not None:
        row.state, row.retired_at = "retired", call.now()
    call.audit.record(call.session, call.actor, "key.retire", now=call.now(), resource="keys",
                      details={"kek_version": version})  # fmt: skip
