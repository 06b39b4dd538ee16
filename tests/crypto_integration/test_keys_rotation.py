"""KEK rotation: a new version, every data key re-wrapped, reads unchanged; retirement rules."""

from __future__ import annotations

from typing import Any

from conftest import customer_doc
from sqlalchemy import select

from governance.cli import cli
from governance.models import DataKey


def test_rotate_rewraps_every_data_key_and_reads_keep_working(
    app: Any, client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    ids = []
    for i in range(3):
        doc = customer_doc(external_ref=f"K{i}", email=f"k{i}@example.com", phone=None,
                           national_id=None, full_name=f"Key Person {i}")  # fmt: skip
        ids.append(client.post("/api/v1/customers", headers=crm, json=doc).json["id"])
    before = {r.subject_id: bytes(r.wrapped) for r in call.session.scalars(select(DataKey))}
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "KEK version 2 is current" in result.output and "re-wrapped 3 data keys" in result.output
    call.session.rollback()
    rows = list(call.session.scalars(select(DataKey)))
    assert {r.kek_version for r in rows} == {2}
    assert all(bytes(r.wrapped) != before[r.subject_id] for r in rows)
    for cid in ids:  # the same app (and a fresh one) still decrypts
        assert client.get(f"/api/v1/customers/{cid}", headers=crm).json["email"].startswith("k")
    status = runner.invoke(cli, ["keys", "status"]).output
    assert "v2 (current): active" in status and "3 data keys" in status
    assert "v1: active" in status and "0 data keys" in status
    assert runner.invoke(cli, ["keys", "retire", "2"]).exit_code != 0  # the current one
    result = runner.invoke(cli, ["keys", "retire", "1"])
    assert result.exit_code == 0, result.output
    assert client.get(f"/api/v1/customers/{ids[0]}", headers=crm).status_code == 200


def test_retire_is_refused_while_data_keys_use_the_version(
    client: Any, crm: dict[str, str], runner: Any, call: Any
) -> None:
    client.post("/api/v1/customers", headers=crm, json=customer_doc())
    call.session.rollback()
    from governance.services.crypto.keyfile import add_version, load_key_file

    path = call.settings["INSTANCE_PATH"] + "/master_key.json"
    add_version(path)  # version 2 is current, nothing re-wrapped yet
    call.vault.keys = load_key_file(path)
    result = runner.invoke(cli, ["keys", "retire", "1"])
    assert result.exit_code != 0
    assert "still wraps 1 data keys" in str(result.exception)
