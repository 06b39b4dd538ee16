"""The local key file: versioned KEKs as JSON, created 0600, rotated by atomic replacement.

Format (FORMAT.md, "Key file")::

    {"current": 2, "keys": {"1": "<base64>", "2": "<base64>"}, "retired": [1],
     "index_root": "<base64>"}

Writes go to a 0600 temporary file in the same folder, are fsync'ed, then renamed over the key
file (POSIX rename is atomic), so a crash leaves either the old or the new file, never half of one.
Run rotation commands from one place at a time: two concurrent writers would lose one change.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from governance.crypto.errors import MasterKeyError
from governance.crypto.keysource import (
    KEY_BYTES,
    LocalKeySource,
    Rng,
    decode_key,
    encode_key,
)

FILE_MODE = 0o600


def generate_key_file(path: str | os.PathLike[str], rng: Rng = os.urandom) -> LocalKeySource:
    """Create a key file with version 1 and a random index root; never overwrites a file.

    Raises FileExistsError when ``path`` exists: a new key over existing data would make it
    unreadable, so that must be a deliberate act (delete the file first).
    """
    target = Path(path)
    data = {
        "current": 1,
        "keys": {"1": encode_key(rng(KEY_BYTES))},
        "retired": [],
        "index_root": encode_key(rng(KEY_BYTES)),
    }
    _write(target, data, replace=False)
    return load_key_file(target)


def load_key_file(
    path: str | os.PathLike[str], *, strict_permissions: bool = True, rng: Rng = os.urandom
) -> LocalKeySource:
    """Load a key file; raises MasterKeyError if malformed or readable by group or others."""
    target = Path(path)
    data = _read(target, strict_permissions)
    where = f"key file {target}"
    keys = {
        _int(v, where): decode_key(_str(k, where), f"{where} key {v}")
        for v, k in data["keys"].items()
    }
    index_root, current = data.get("index_root"), data.get("current")
    return LocalKeySource(
        keys,
        current=None if current is None else _int(current, where),
        retired=[_int(v, where) for v in data.get("retired", [])],
        index_root=None if index_root is None else decode_key(_str(index_root, where), where),
        source_name=where,
        rng=rng,
    )


def add_version(
    path: str | os.PathLike[str], *, make_current: bool = True, rng: Rng = os.urandom
) -> int:
    """Add a new KEK version (highest + 1) and return it; by default it becomes current.

    With ``make_current=False`` the key is only distributed: copy the file to every server,
    then ``set_current_version`` so no server wraps under a version another cannot unwrap.
    """
    target = Path(path)
    data = _read(target, strict_permissions=True)
    version = max(int(v) for v in data["keys"]) + 1
    data["keys"][str(version)] = encode_key(rng(KEY_BYTES))
    if make_current:
        data["current"] = version
    _write(target, data, replace=True)
    return version


def set_current_version(path: str | os.PathLike[str], version: int) -> None:
    """Make ``version`` the one new wraps use; it must exist and not be retired."""
    target = Path(path)
    data = _read(target, strict_permissions=True)
    _require(data, version, target)
    if version in data.get("retired", []):
        raise MasterKeyError(f"key file {target}: version {version} is retired")
    data["current"] = version
    _write(target, data, replace=True)


def retire_version(path: str | os.PathLike[str], version: int) -> None:
    """Mark ``version`` retired (no more wrap or unwrap); the current version cannot be retired.

    The key material stays in the file. The caller must first check that no data key is still
    wrapped by ``version`` (that count lives in the database, not here).
    """
    target = Path(path)
    data = _read(target, strict_permissions=True)
    _require(data, version, target)
    if data.get("current") == version:
        raise MasterKeyError(f"key file {target}: version {version} is current; rotate first")
    data["retired"] = sorted(set(data.get("retired", [])) | {version})
    _write(target, data, replace=True)


def unretire_version(path: str | os.PathLike[str], version: int) -> None:
    """Undo ``retire_version`` (for example to re-wrap keys found still under it)."""
    target = Path(path)
    data = _read(target, strict_permissions=True)
    _require(data, version, target)
    data["retired"] = sorted(set(data.get("retired", [])) - {version})
    _write(target, data, replace=True)


def _read(path: Path, strict_permissions: bool) -> dict[str, Any]:
    where = f"key file {path}"
    try:
        mode = path.stat().st_mode
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MasterKeyError(f"{where} does not exist") from None
    if strict_permissions and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(
            f"{where} is accessible by group or others (mode "
            f"{stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise MasterKeyError(f"{where} is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict) or not data["keys"]:
        raise MasterKeyError(f"{where} has no 'keys' object")
    if not isinstance(data.get("retired", []), list):
        raise MasterKeyError(f"{where}: 'retired' is not a list")
    return data


def _write(path: Path, data: dict[str, Any], *, replace: bool) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have masked bits; be explicit
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails with FileExistsError instead of overwriting
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _require(data: dict[str, Any], version: int, path: Path) -> None:
    if str(version) not in data["keys"]:
        raise MasterKeyError(f"key file {path} has no version {version}")


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MasterKeyError(f"{where}: a version is a positive integer")
    return int(value)


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise MasterKeyError(f"{where}: a key is a base64 string")
    return value
