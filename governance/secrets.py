"""Loading the server's secrets: session key, master key (KEKs) and the audit signing key.

Outside development none of them is ever invented: a missing secret stops the server with a
message naming the variable. In development (``GOVERNANCE_DEV=true``, ``governance up``, tests)
missing files are generated under the instance folder with mode 0600 and a loud warning, but
never when the database already holds data written under another key.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import SigningKeyError, generate_signing_key, load_private_key_pem
from audit.checkpoint import private_key_pem as dump_private_key
from governance.config import ConfigError
from governance.crypto import KeySource, LocalKeySource, MasterKeyError
from governance.crypto.keyfile import generate_key_file, load_key_file

log = logging.getLogger(__name__)

DEV_WARNING = (
    "DEVELOPMENT KEY generated at %s: for development only. In production set %s "
    "(and back it up: without it the data cannot be read)."
)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def secret_key(config: dict[str, Any], may_create: bool) -> str:
    """The Flask session secret from the environment or the instance file."""
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    path = Path(config["INSTANCE_PATH"]) / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    if not may_create:
        raise ConfigError(
            "GOVERNANCE_SECRET_KEY is not set and no instance/secret_key exists "
            "(run `governance up` for a development set-up)"
        )
    _write_private(path, secrets.token_urlsafe(48).encode())
    log.warning(DEV_WARNING, path, "GOVERNANCE_SECRET_KEY")
    return path.read_text().strip()


def master_keys(config: dict[str, Any], may_create: bool, has_data: bool) -> KeySource:
    """The KEK source: GOVERNANCE_MASTER_KEY, else the key file, else (dev only) a new file."""
    if config.get("MASTER_KEY"):
        try:
            return LocalKeySource.from_text(str(config["MASTER_KEY"]))
        except MasterKeyError as exc:
            raise ConfigError(str(exc)) from None
    path = Path(config["MASTER_KEY_FILE"])
    if path.is_file():
        try:
            return load_key_file(path)
        except MasterKeyError as exc:
            raise ConfigError(str(exc)) from None
    if has_data:
        raise ConfigError(
            f"no master key: GOVERNANCE_MASTER_KEY is not set and {path} is missing, but the "
            "database holds data encrypted under a master key; restore the key (never "
            "generate a new one over existing data)"
        )
    if not may_create:
        raise ConfigError(
            "no master key: set GOVERNANCE_MASTER_KEY or GOVERNANCE_MASTER_KEY_FILE "
            "(or run `governance up` for a development set-up)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    source = generate_key_file(path)
    log.warning(DEV_WARNING, path, "GOVERNANCE_MASTER_KEY or GOVERNANCE_MASTER_KEY_FILE")
    return source


def signing_key(config: dict[str, Any], may_create: bool, has_log: bool) -> Ed25519PrivateKey:
    """The Ed25519 key that signs audit checkpoints."""
    path = Path(config["SIGNING_KEY_FILE"])
    if path.is_file():
        try:
            return load_private_key_pem(path.read_bytes())
        except SigningKeyError as exc:
            raise ConfigError(f"GOVERNANCE_SIGNING_KEY_FILE {path}: {exc}") from None
    if has_log:
        raise ConfigError(
            f"the audit signing key {path} is missing but the audit log has checkpoints; "
            "restore it (set GOVERNANCE_SIGNING_KEY_FILE)"
        )
    if not may_create:
        raise ConfigError(
            f"no audit signing key at {path}: set GOVERNANCE_SIGNING_KEY_FILE "
            "(or run `governance up` for a development set-up)"
        )
    key = generate_signing_key()
    _write_private(path, dump_private_key(key))
    log.warning(DEV_WARNING, path, "GOVERNANCE_SIGNING_KEY_FILE")
    return key
