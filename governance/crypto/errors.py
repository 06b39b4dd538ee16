"""Errors of the cryptographic core: one small hierarchy, messages with ids and names only.

No message ever contains a plaintext value, a key, or key material in any encoding: only table
and column names, subject ids, DEK ids (random, non-secret) and KEK version numbers.
"""

from __future__ import annotations

from governance.errors import InternalError


class CryptoError(InternalError):
    """Base of every error raised by ``governance.crypto`` (a 500 if one reaches a client: the
    vault and the key services turn the expected ones into their own 4xx/503 errors)."""


class IntegrityError(CryptoError):
    """An AES-GCM tag did not verify: tampered bytes, a value moved to another row, column or
    table, or the wrong key (for wrapped DEKs: most likely the wrong master key)."""

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        subject_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.subject_id = subject_id


class FormatError(CryptoError):
    """A blob is truncated, too short, or carries an unknown format version."""


class KeyMismatchError(CryptoError):
    """The DEK id inside a field blob is not the id of the data key given to decrypt it."""


class RetiredKeyError(CryptoError):
    """A KEK version is retired: it may no longer wrap or unwrap data keys."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"KEK version {version} is retired; re-wrap its data keys under the current version "
            "(un-retire it temporarily if some remain)"
        )
        self.version = version


class MissingKeyError(CryptoError):
    """A KEK version (or other key) is not present in the configured key source."""

    def __init__(self, message: str, *, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version


class MasterKeyError(CryptoError, ValueError):
    """The master key text or key file is malformed; the message names the variable or file."""


class WrongMasterKeyError(CryptoError):
    """The configured master key does not match the fingerprints recorded in the database."""
