"""Rotation when the KEKs come from GOVERNANCE_MASTER_KEY text: the server cannot change the
variable, so `keys rotate` refuses with the steps; the operator adds the version, restarts, runs
`keys rewrap`, then retires the old version in the variable and records it."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc
from crypto_int_helpers import Apps
from sqlalchemy import select

from governance.cli import cli
from governance.extensions import db
from governance.models import AuditEntry, DataKey, KeyVersion
from governance.services.keys.rotation import KeySourceReadOnly


def key_text(key_file: Path) -> str:
    """The key file's content as GOVERNANCE_MASTER_KEY text (same keys, same index root)."""
    data = json.loads(key_file.read_text())
    return ",".join([f"{v}:{k}" for v, k in data["keys"].items()] + [f"index:{data['index_root']}"])


@pytest.fixture
def apps(database_url: str) -> Iterator[Apps]:
    """Other server processes on the same database (closed after the test)."""
    made = Apps(database_url)
    yield made
    made.close()


def test_rotation_with_the_key_in_the_environment(
    app: Any, tmp_path: Path, crm: dict[str, str], apps: Apps
) -> None:
    ids = [
        app.test_client().post("/api/v1/customers", headers=crm, json=doc).json["id"]
        for doc in (customer_doc(), customer_doc(external_ref="E2", email="e2@example.org",
                                                 phone=None, national_id=None, full_name="E Two"))
    ]  # fmt: skip
    text = key_text(tmp_path / "instance" / "master_key.json")
    instance = tmp_path / "env-instance"
    first = apps.make(instance, MASTER_KEY=text)
    result = first.test_cli_runner().invoke(cli, ["keys", "rotate"])
    assert isinstance(result.exception, KeySourceReadOnly)
    assert "add the new version to the variable" in str(result.exception)
    assert "governance keys rewrap" in str(result.exception)
    assert not (instance / "master_key.json").exists()  # never invents a key file

    # the operator appends version 2 and restarts: the start records its fingerprint (audited)
    new_key = base64.b64encode(os.urandom(32)).decode()
    second = apps.make(instance, MASTER_KEY=f"{text},2:{new_key}")
    runner = second.test_cli_runner()
    result = runner.invoke(cli, ["keys", "rewrap"])
    assert result.exit_code == 0, result.output
    with second.app_context():
        assert set(db.session.scalars(select(DataKey.kek_version))) == {2}
        assert db.session.get(KeyVersion, 2) is not None
        assert "key.register" in set(db.session.scalars(select(AuditEntry.action)))
    for cid in ids:
        assert second.test_client().get(f"/api/v1/customers/{cid}", headers=crm).status_code == 200

    result = runner.invoke(cli, ["keys", "retire", "1"])
    assert isinstance(result.exception, KeySourceReadOnly)
    assert "add ',retired:1'" in str(result.exception)
    third = apps.make(instance, MASTER_KEY=f"{text},2:{new_key},retired:1")
    result = third.test_cli_runner().invoke(cli, ["keys", "retire", "1"])
    assert result.exit_code == 0, result.output
    with third.app_context():
        assert db.session.get(KeyVersion, 1).state == "retired"
    status = third.test_cli_runner().invoke(cli, ["keys", "status"]).output
    assert "key source: GOVERNANCE_MASTER_KEY" in status
    assert "v1: retired" in status and "v2 (current): active" in status
    res = third.test_client().get(f"/api/v1/customers/{ids[1]}", headers=crm)
    assert res.status_code == 200 and res.json["full_name"]
