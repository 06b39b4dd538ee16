"""KEK rotation from the CLI: a new version, every data key re-wrapped (resumably), field
ciphertext untouched, reads unchanged, retirement refused while anything depends on a version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc
from crypto_int_helpers import Apps
from sqlalchemy import select

from governance.cli import cli
from governance.crypto.keyfile import add_version, load_key_file
from governance.errors import Conflict
from governance.models import AuditEntry, Customer, DataKey, Job, KeyVersion
from governance.services.jobs import queue as jobs
from governance.services.keys import rotation as keys


@pytest.fixture
def apps(database_url: str) -> Iterator[Apps]:
    """Other server processes on the same database (closed after the test)."""
    made = Apps(database_url)
    yield made
    made.close()


def add_customers(client: Any, crm: dict[str, str], n: int, prefix: str = "K") -> list[str]:
    ids = []
    for i in range(n):
        ref = f"{prefix}{i}"
        doc = customer_doc(external_ref=ref, email=f"{ref.lower()}@example.com", phone=None,
                           national_id=None, full_name=f"Key Person {ref}")  # fmt: skip
        res = client.post("/api/v1/customers", headers=crm, json=doc)
        assert res.status_code == 201, res.json
        ids.append(res.json["id"])
    return ids


def wrapped_by(call: Any) -> dict[str, tuple[int, bytes]]:
    call.session.rollback()
    rows = call.session.scalars(select(DataKey))
    return {r.subject_id: (r.kek_version, bytes(r.wrapped)) for r in rows}


def email_blobs(call: Any) -> dict[str, bytes]:
    return {c.id: bytes(c.email_ct) for c in call.session.scalars(select(Customer))}


def actions(call: Any) -> list[str]:
    return list(call.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_rotate_rewraps_every_data_key_and_reads_keep_working(
    client: Any, crm: dict[str, str], runner: Any, call: Any, tmp_path: Path, apps: Apps
) -> None:
    ids = add_customers(client, crm, 3)
    before = wrapped_by(call)
    fields_before = email_blobs(call)
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "KEK version 2 is current" in result.output and "re-wrapped 3 data keys" in result.output
    after = wrapped_by(call)
    assert {v for v, _ in after.values()} == {2}
    assert all(after[s][1] != before[s][1] for s in ids)
    # field ciphertext is not touched by a rotation: only the wrapped keys change
    assert email_blobs(call) == fields_before
    key_file = load_key_file(call.settings["MASTER_KEY_FILE"])
    assert key_file.current_version() == 2 and key_file.versions() == [1, 2]
    recorded = {r.version: r.fingerprint for r in call.session.scalars(select(KeyVersion))}
    assert recorded == {1: key_file.fingerprint(1), 2: key_file.fingerprint(2)}
    assert {"key.rotate", "key.rewrap", "job.finish"} <= set(actions(call))
    for cid in ids:  # the same app (and a fresh one) still decrypts
        assert client.get(f"/api/v1/customers/{cid}", headers=crm).json["email"].startswith("k")
    status = runner.invoke(cli, ["keys", "status"]).output
    assert "v2 (current): active" in status and "3 data keys" in status
    assert "v1: active" in status and "0 data keys" in status
    call.session.rollback()  # SQLite: every transaction holds the write lock (BEGIN IMMEDIATE)
    fresh = apps.make(tmp_path / "instance")  # a restart: the fingerprints match
    assert fresh.test_client().get(f"/api/v1/customers/{ids[0]}", headers=crm).status_code == 200
    assert runner.invoke(cli, ["keys", "retire", "2"]).exit_code != 0  # the current one
    result = runner.invoke(cli, ["keys", "retire", "1"])
    assert result.exit_code == 0, result.output
    assert load_key_file(call.settings["MASTER_KEY_FILE"]).retired_versions() == [1]
    call.session.rollback()
    assert call.session.get(KeyVersion, 1).state == "retired"
    assert actions(call)[-1] == "key.retire"
    assert client.get(f"/api/v1/customers/{ids[0]}", headers=crm).status_code == 200
    status = json.loads(runner.invoke(cli, ["keys", "status", "--json"]).output)
    assert [(v["version"], v["state"], v["current"]) for v in status["versions"]] == [
        (1, "retired", False),
        (2, "active", True),
    ]
    assert status["pending_rewrap"] == 0 and status["rotation"]["state"] == "succeeded"
    again = runner.invoke(cli, ["keys", "retire", "1"])
    assert again.exit_code != 0 and "already retired" in str(again.exception)


def test_retire_is_refused_while_data_keys_use_the_version(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    client.post("/api/v1/customers", headers=crm, json=customer_doc())
    call.session.rollback()
    path = call.settings["MASTER_KEY_FILE"]
    add_version(path)  # version 2 is current, nothing re-wrapped yet
    call.vault.keys = load_key_file(path)
    result = runner.invoke(cli, ["keys", "retire", "1"])
    assert result.exit_code != 0
    assert "still wraps 1 data keys" in str(result.exception)
    assert load_key_file(path).retired_versions() == []
    missing = runner.invoke(cli, ["keys", "retire", "7"])
    assert "not in the key source" in str(missing.exception)


def interrupt_after(batches: int, exc: BaseException) -> Any:
    seen = {"n": 0}

    def on_progress(done: int, total: int | None) -> None:
        seen["n"] += 1
        if seen["n"] > batches:  # the first call reports the start, before any batch
            raise exc

    return on_progress


def start_rotation(call: Any, batch: int) -> Any:
    job = keys.rotate(call)
    job.params = {**job.params, "batch": batch}
    call.session.commit()
    return job


def test_interrupted_rotation_resumes_from_its_checkpoint(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    ids = add_customers(client, crm, 7)
    job = start_rotation(call, batch=2)
    with pytest.raises(KeyboardInterrupt):  # the operator presses Ctrl-C after two batches
        jobs.run(call, job, on_progress=interrupt_after(2, KeyboardInterrupt()))
    half = wrapped_by(call)
    assert sorted(v for v, _ in half.values()) == [1, 1, 1, 2, 2, 2, 2]
    first = sorted(half)[:4]
    assert all(half[s][0] == 2 for s in first)  # keyset order: the lowest ids went first
    for cid in ids:  # reads keep working half-way: version 1 still unwraps
        assert client.get(f"/api/v1/customers/{cid}", headers=crm).status_code == 200
    busy = runner.invoke(cli, ["keys", "rewrap"])  # its worker might still be alive
    assert isinstance(busy.exception, keys.RotationInProgress)
    with pytest.raises(keys.RotationInProgress):
        keys.rotate(call)
    call.session.rollback()
    row = call.session.get(Job, job.id)
    assert row.state == "running" and row.checkpoint["after"] == first[-1]
    stamps = {r.subject_id: r.rewrapped_at for r in call.session.scalars(select(DataKey))}
    row.heartbeat_at = call.now() - timedelta(minutes=5)  # its worker died: the job is abandoned
    call.session.commit()
    result = runner.invoke(cli, ["keys", "rewrap"])
    assert result.exit_code == 0, result.output
    assert "re-wrapped 7 data keys under v2" in result.output
    call.session.expire_all()
    row = call.session.get(Job, job.id)  # the same job finished the work
    assert row.state == "succeeded" and row.progress_done == row.progress_total == 7
    others = select(Job.id).where(Job.kind == keys.KIND, Job.id != job.id)
    assert call.session.scalar(others) is None
    after = {r.subject_id: r.rewrapped_at for r in call.session.scalars(select(DataKey))}
    assert all(after[s] == stamps[s] for s in first)  # done before the interruption: not redone
    assert {v for v, _ in wrapped_by(call).values()} == {2}


def test_a_failed_rotation_is_finished_by_rewrap(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    add_customers(client, crm, 5)
    job = start_rotation(call, batch=2)
    failed = jobs.run(call, job, on_progress=interrupt_after(1, RuntimeError("disk full")))
    assert failed.state == "failed"
    status = keys.status(call)
    assert status["pending_rewrap"] == 3 and status["current"] == 2
    assert runner.invoke(cli, ["keys", "retire", "1"]).exit_code != 0
    result = runner.invoke(cli, ["keys", "rewrap"])
    assert result.exit_code == 0, result.output
    assert "re-wrapped 3 data keys under v2" in result.output  # only what was left
    assert "re-wrapped 0 data keys" in runner.invoke(cli, ["keys", "rewrap"]).output
    assert runner.invoke(cli, ["keys", "retire", "1"]).exit_code == 0


def test_a_second_rotation_moves_everything_to_the_newest_version(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    add_customers(client, crm, 2)
    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0
    add_customers(client, crm, 2, prefix="L")  # new customers get keys under version 2
    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0
    assert {v for v, _ in wrapped_by(call).values()} == {3}
    status = keys.status(call)
    assert [(v["version"], v["data_keys"]) for v in status["versions"]] == [(1, 0), (2, 0), (3, 4)]


def test_unretire_makes_a_version_usable_again(runner: Any, call: Any) -> None:
    assert runner.invoke(cli, ["keys", "rotate"]).exit_code == 0
    assert runner.invoke(cli, ["keys", "retire", "1"]).exit_code == 0
    with pytest.raises(Conflict):
        keys.retire(call, 1)
    call.session.rollback()
    result = runner.invoke(cli, ["keys", "unretire", "1"])
    assert result.exit_code == 0 and "usable again" in result.output
    assert load_key_file(call.settings["MASTER_KEY_FILE"]).retired_versions() == []
    call.session.rollback()
    assert call.session.get(KeyVersion, 1).state == "active"
    assert actions(call)[-2:] == ["key.retire", "key.unretire"]


def test_a_new_rotation_supersedes_an_abandoned_one(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    add_customers(client, crm, 3)
    job = start_rotation(call, batch=1)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(call, job, on_progress=interrupt_after(1, KeyboardInterrupt()))
    call.session.rollback()
    row = call.session.get(Job, job.id)
    row.heartbeat_at = call.now() - timedelta(minutes=5)
    call.session.commit()
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "KEK version 3 is current" in result.output
    assert {v for v, _ in wrapped_by(call).values()} == {3}
    old = call.session.get(Job, job.id)
    assert old.state == "failed" and old.error == "superseded by a new rotation"
