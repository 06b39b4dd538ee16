"""Key API: status and rotation for admins only; the re-wrap job runs in a worker process that
started before the rotation, and other server processes keep reading throughout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import csrf_headers, customer_doc, login_as
from crypto_int_helpers import Apps
from sqlalchemy import select

from governance.bootstrap import deps
from governance.extensions import db
from governance.models import DataKey
from governance.services.jobs import queue as jobs


@pytest.fixture
def apps(database_url: str) -> Iterator[Apps]:
    """Other server processes on the same database (closed after the test)."""
    made = Apps(database_url)
    yield made
    made.close()


def kek_versions(app: Any) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(DataKey.kek_version)))


def test_status_and_rotation_through_the_api(
    app: Any, client: Any, crm: dict[str, str], tmp_path: Path, apps: Apps
) -> None:
    ids = [
        client.post("/api/v1/customers", headers=crm, json=customer_doc(**extra)).json["id"]
        for extra in ({}, {"external_ref": "B", "email": "b@example.org", "phone": None,
                           "national_id": None, "full_name": "Bea"})
    ]  # fmt: skip
    # other server processes, started before the rotation, with only version 1 in memory
    worker = apps.make(tmp_path / "instance")
    reader = apps.make(tmp_path / "instance")
    assert client.get("/api/v1/keys", headers=crm).status_code == 403
    assert client.post("/api/v1/keys/rotate", headers=crm).status_code == 403
    login_as(app, client, "admin")
    status = client.get("/api/v1/keys").json
    assert status["current"] == 1 and status["rotation"] is None
    n = status["data_keys"]  # the customers' keys, and the admin account's own
    assert n >= 2 and status["versions"][0]["data_keys"] == n
    assert status["versions"][0]["fingerprint"] and len(status["versions"][0]["fingerprint"]) == 16
    res = client.post("/api/v1/keys/rotate", headers=csrf_headers(client))
    assert res.status_code == 202, res.json
    assert res.json["kind"] == "keys.rotate" and res.json["state"] == "queued"
    assert res.headers["Location"] == f"/api/v1/jobs/{res.json['id']}"
    again = client.post("/api/v1/keys/rotate", headers=csrf_headers(client))
    assert again.status_code == 409 and again.json["type"].endswith("/rotation-in-progress")
    status = client.get("/api/v1/keys").json
    assert status["current"] == 2 and status["pending_rewrap"] == n
    with worker.app_context():  # `governance worker` claims and runs it
        job = jobs.claim(db.session, "w1", datetime.now(UTC))
        assert job is not None and job.kind == "keys.rotate"
        done = jobs.run(deps(worker).call(db.session), job)
        assert done.state == "succeeded", done.error
        assert done.result["rewrapped"] == n and done.result["remaining"] == 0
    assert kek_versions(app) == {2}
    status = client.get("/api/v1/keys").json
    assert status["pending_rewrap"] == 0 and status["rotation"]["state"] == "succeeded"
    assert [(v["version"], v["data_keys"]) for v in status["versions"]] == [(1, 0), (2, n)]
    # the reader never saw version 2: it reloads the key file on first need
    for cid in ids:
        res = reader.test_client().get(f"/api/v1/customers/{cid}", headers=crm)
        assert res.status_code == 200, res.json
    assert client.get(f"/api/v1/customers/{ids[0]}", headers=crm).status_code == 200


def key_text(key_file: Path) -> str:
    """The key file's content as GOVERNANCE_MASTER_KEY text (same keys, same index root)."""
    data = json.loads(key_file.read_text())
    items = [f"{v}:{k}" for v, k in data["keys"].items()] + [f"index:{data['index_root']}"]
    return ",".join(items + [f"retired:{v}" for v in data["retired"]])


def test_rotation_is_refused_when_the_key_comes_from_the_environment(
    app: Any, tmp_path: Path, apps: Apps
) -> None:
    other = tmp_path / "env-instance"
    text = key_text(tmp_path / "instance" / "master_key.json")
    env_app = apps.make(other, MASTER_KEY=text)
    client = env_app.test_client()
    login_as(env_app, client, "admin")
    res = client.post("/api/v1/keys/rotate", headers=csrf_headers(client))
    assert res.status_code == 409
    assert res.json["type"].endswith("/key-source-read-only")
    assert "GOVERNANCE_MASTER_KEY" in res.json["detail"] and "keys rewrap" in res.json["detail"]
    assert not (other / "master_key.json").exists()
    assert client.get("/api/v1/keys").json["source"] == "GOVERNANCE_MASTER_KEY"


def test_rotation_through_a_console_session_needs_a_recent_password(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    with client.session_transaction() as sess:
        sess["auth_at"] = 0  # signed in long ago
    res = client.post("/api/v1/keys/rotate", headers=csrf_headers(client))
    assert res.status_code == 401 and res.json["type"].endswith("/reauth-required")
    assert client.get("/api/v1/keys").json["current"] == 1  # nothing rotated
