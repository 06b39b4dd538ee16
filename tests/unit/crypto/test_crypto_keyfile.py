"""Tests for the key file: creation with 0600, rotation, retirement, malformed files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from governance.crypto import (
    MasterKeyError,
    RetiredKeyError,
    add_version,
    generate_key_file,
    load_key_file,
    new_data_key,
    retire_version,
    rewrap,
    set_current_version,
    unretire_version,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_creates_0600_file_with_version_1(tmp_path: Path) -> None:
    path = tmp_path / "master_key.json"
    old_umask = os.umask(0)  # even a permissive umask must not widen the file
    try:
        source = generate_key_file(path)
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    data = json.loads(path.read_text())
    assert data["current"] == 1 and list(data["keys"]) == ["1"] and data["retired"] == []
    assert "index_root" in data and data["index_root"] != data["keys"]["1"]
    assert source.versions() == [1] and source.current_version() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["master_key.json"]  # no temp file left


def test_generate_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "master_key.json"
    generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


def test_rotation_old_wraps_still_unwrap_new_wraps_use_new_version(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    v1 = generate_key_file(path)
    deks = [new_data_key() for _ in range(3)]
    wrapped = [v1.wrap(d) for d in deks]
    assert add_version(path) == 2
    assert mode(path) == 0o600
    v2 = load_key_file(path)
    assert v2.versions() == [1, 2] and v2.current_version() == 2
    assert [v2.unwrap(w) for w in wrapped] == deks
    assert v2.wrap(deks[0]).version == 2
    assert v2.fingerprint(1) == v1.fingerprint(1)
    assert v2.index_key("blind-index") == v1.index_key("blind-index")
    assert len(list(tmp_path.iterdir())) == 1


def test_retire_refuses_unwrap_after_rewrap_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    v1 = generate_key_file(path)
    dek_a, dek_b = new_data_key(), new_data_key()
    a, b = v1.wrap(dek_a), v1.wrap(dek_b)
    add_version(path)
    a2 = rewrap(load_key_file(path), a)  # b is "forgotten" by the rotation
    retire_version(path, 1)
    assert mode(path) == 0o600
    retired = load_key_file(path)
    assert retired.retired_versions() == [1]
    assert retired.unwrap(a2) == dek_a
    with pytest.raises(RetiredKeyError):
        retired.unwrap(b)
    assert retired.index_key("blind-index") == v1.index_key("blind-index")
    unretire_version(path, 1)
    assert load_key_file(path).unwrap(b) == dek_b


def test_retire_current_or_unknown_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path)
    with pytest.raises(MasterKeyError, match="version 1 is current"):
        retire_version(path, 1)
    with pytest.raises(MasterKeyError, match="has no version 4"):
        retire_version(path, 4)


def test_add_without_make_current_then_promote(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path)
    assert add_version(path, make_current=False) == 2
    assert load_key_file(path).current_version() == 1
    set_current_version(path, 2)
    assert load_key_file(path).current_version() == 2
    retire_version(path, 1)
    with pytest.raises(MasterKeyError, match="version 1 is retired"):
        set_current_version(path, 1)


def test_group_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path)
    path.chmod(0o640)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_key_file(path)
    assert load_key_file(path, strict_permissions=False).versions() == [1]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "no 'keys' object"),
        ('{"current": 1, "keys": {}}', "no 'keys' object"),
        ('{"current": 1, "keys": {"1": "@@@"}}', "not valid base64"),
        ('{"current": 1, "keys": {"1": "AAAA"}}', "decodes to 3 bytes"),
        ('{"current": 1, "keys": {"one": "AAAA"}}', "positive integer"),
        ('{"current": 1, "keys": {"1": 5}}', "base64 string"),
        ('{"current": 2, "keys": {"1": "' + "A" * 43 + '="}}', "current version 2 has no key"),
        ('{"keys": {"1": "' + "A" * 43 + '="}, "retired": 1}', "'retired' is not a list"),
    ],
)
def test_malformed_key_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match=fragment) as info:
        load_key_file(path)
    assert str(path) in str(info.value)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="does not exist"):
        load_key_file(tmp_path / "absent.json")
