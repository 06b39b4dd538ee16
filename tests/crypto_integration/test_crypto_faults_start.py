"""Start-up faults: a missing or wrong master key over existing data stops the server with a clear
message, and no new key is ever generated over data written under another one."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import customer_doc
from crypto_int_helpers import Apps, close_engines

from governance.crypto.keyfile import generate_key_file
from governance.extensions import db


@pytest.fixture
def apps(database_url: str) -> Iterator[Apps]:
    """Other server processes on the same database (closed after the test)."""
    made = Apps(database_url)
    yield made
    made.close()


@pytest.fixture
def existing(app: Any, crm: dict[str, str], tmp_path: Path) -> Path:
    """A store with one customer; returns the key file it was written under."""
    res = app.test_client().post("/api/v1/customers", headers=crm, json=customer_doc())
    assert res.status_code == 201
    return tmp_path / "instance" / "master_key.json"


def test_missing_master_key_with_existing_data_refuses_to_start(
    existing: Path, tmp_path: Path, apps: Apps
) -> None:
    saved = existing.read_bytes()
    existing.unlink()
    message = apps.refused(tmp_path / "instance")  # test apps may create dev keys: not here
    assert "no master key" in message and "never generate a new one" in message
    assert not existing.exists()  # no new key was made over the data
    existing.write_bytes(saved)
    existing.chmod(0o600)
    apps.make(tmp_path / "instance")  # the restored key works


def test_missing_master_key_from_the_command_line(
    app: Any, existing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from governance.cli import main

    existing.unlink()
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("GOVERNANCE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setattr(sys, "argv", ["governance", "keys", "status"])
    before = set(db._app_engines)
    with pytest.raises(SystemExit) as stopped:
        main()
    code = stopped.value.code
    del stopped  # its traceback holds the refused app
    close_engines(before)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: configuration: no master key") and "Traceback" not in err
    assert not existing.exists()


def test_wrong_key_file_refuses_to_start(existing: Path, tmp_path: Path, apps: Apps) -> None:
    existing.unlink()
    generate_key_file(existing)  # a stranger key with the same version number
    message = apps.refused(tmp_path / "instance")
    assert "KEK version 1 does not match the key this database was written with" in message


def test_wrong_master_key_text_refuses_to_start(existing: Path, tmp_path: Path, apps: Apps) -> None:
    stranger = base64.b64encode(os.urandom(32)).decode()
    message = apps.refused(tmp_path / "other", MASTER_KEY=stranger)
    assert "wrong GOVERNANCE_MASTER_KEY or key file" in message and stranger not in message
    unknown = f"5:{stranger}"  # only a version the database has never seen
    message = apps.refused(tmp_path / "other", MASTER_KEY=unknown)
    assert "none of the configured KEK versions" in message


def test_changed_index_root_refuses_to_start(existing: Path, tmp_path: Path, apps: Apps) -> None:
    data = json.loads(existing.read_text())
    key = data["keys"]["1"]
    other_root = base64.b64encode(os.urandom(32)).decode()
    message = apps.refused(tmp_path / "other", MASTER_KEY=f"1:{key},index:{other_root}")
    assert "blind-index root does not match" in message
    same = f"1:{key},index:{data['index_root']}"  # the same keys as text: accepted
    apps.make(tmp_path / "other", MASTER_KEY=same)


def test_malformed_master_key_text_names_the_variable_not_the_value(
    tmp_path: Path, apps: Apps
) -> None:
    secret_looking = "1:c2VjcmV0LXZhbHVl"  # valid base64, wrong length
    message = apps.refused(tmp_path / "other", MASTER_KEY=secret_looking)
    assert "GOVERNANCE_MASTER_KEY" in message and "c2VjcmV0LXZhbHVl" not in message
