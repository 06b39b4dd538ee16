"""Per-subject data keys (DEKs): creation, ids, and re-wrapping under a new KEK version.

A DEK is 32 random bytes used with AES-256-GCM (NIST SP 800-38D) for one data subject's fields.
Its id is 8 random bytes, stored beside the wrapped key and inside every field blob. A random id
(rather than the subject id) reveals nothing about the subject, has a fixed width, and changes if
a subject is ever re-keyed, so a blob sealed under an old key is recognised as such
(``KeyMismatchError``) instead of failing as tampering. 64 random bits make a collision among
even 10^8 keys unlikely (about 3e-4); the ``data_keys.key_id`` unique constraint catches the rest.
"""

from __future__ import annotations

import os

from governance.crypto.keysource import KEY_BYTES, KeySource, Rng, WrappedKey

DEK_ID_BYTES = 8


def new_data_key(rng: Rng = os.urandom) -> bytes:
    """Return a fresh 256-bit data key."""
    key = rng(KEY_BYTES)
    if len(key) != KEY_BYTES:
        raise ValueError("the random source returned the wrong number of bytes")
    return key


def new_data_key_id(rng: Rng = os.urandom) -> bytes:
    """Return a fresh random 8-byte data key id."""
    key_id = rng(DEK_ID_BYTES)
    if len(key_id) != DEK_ID_BYTES:
        raise ValueError("the random source returned the wrong number of bytes")
    return key_id


def rewrap(source: KeySource, wrapped: WrappedKey, version: int | None = None) -> WrappedKey:
    """Unwrap and wrap again under ``version`` (default: current); a no-op if already there.

    Idempotent, so a rotation job interrupted half-way can simply run again. Raises what
    ``KeySource.unwrap`` raises.
    """
    target = source.current_version() if version is None else version
    if wrapped.version == target:
        return wrapped
    return source.wrap(source.unwrap(wrapped), target)
