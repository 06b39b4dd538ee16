"""Field protection for the customer store: per-subject data keys, field ciphertext, blind indexes.

This is the one place where customer fields are encrypted and decrypted (ARCHITECTURE invariant
2). Models only ever see ciphertext (``*_ct``) and blind indexes (``*_bidx``); which fields are
encrypted comes from ``policies/fields.yaml``.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance import crypto
from governance.crypto import KeySource
from governance.errors import GovernanceError
from governance.models import DataKey, Tombstone
from governance.policyfiles import FieldRule

log = logging.getLogger(__name__)


class SubjectErased(GovernanceError):
    """The data subject was erased; its data is gone for good."""

    status = 410
    slug = "subject-erased"
    title = "Data subject erased"


class DataUnavailable(GovernanceError):
    """Stored ciphertext could not be decrypted (integrity failure or missing key)."""

    status = 500
    slug = "data-integrity"
    title = "Stored data failed its integrity check"


UNWRAPPED_KEYS = 4096
"""Most unwrapped data keys a process keeps (``Vault.unwrap_rows``)."""


class WrappedKeyRow(Protocol):
    """What ``unwrap_rows`` reads of a ``data_keys`` row (the ORM row or a loaded tuple)."""

    @property
    def subject_id(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    @property
    def kek_version(self) -> int: ...
    @property
    def wrapped(self) -> bytes: ...


class Vault:
    """Encrypts and decrypts customer fields with the subject's data key."""

    def __init__(
        self,
        keys: KeySource,
        rules: dict[tuple[str, str], FieldRule],
        reload: Callable[[], KeySource] | None = None,
    ) -> None:
        self.keys = keys
        self.rules = rules
        self._reload = reload
        self._indexer = crypto.BlindIndexer.from_source(keys)
        self._encrypted: dict[str, frozenset[str]] = {}
        # Unwrapped data keys of recent reads, keyed by the stored wrapped bytes (KEK version,
        # blob, key id): a page of customers read again does not unwrap its keys again. Bounded
        # and per process; an entry can only be reached by presenting the wrapped key from the
        # database, so an erased subject's key (row deleted) or a rotated one (re-wrapped under
        # another blob) is never served from here; emptied when the key source changes.
        self._unwrapped: dict[tuple[int, bytes, bytes], crypto.FieldCipher] = {}
        self._unwrapped_lock = threading.Lock()

    # -- key source -----------------------------------------------------------------------
    def use_keys(self, keys: KeySource) -> None:
        """Switch to a newer key source (after a rotation); refuses changed keys or index root."""
        old = self.keys
        if not hmac.compare_digest(keys.index_fingerprint(), old.index_fingerprint()):
            raise crypto.WrongMasterKeyError("the reloaded key source has another index root")
        for version in set(keys.versions()) & set(old.versions()):
            if not hmac.compare_digest(keys.fingerprint(version), old.fingerprint(version)):
                raise crypto.WrongMasterKeyError(f"reloaded KEK version {version} differs")
        self.keys = keys
        self._indexer = crypto.BlindIndexer.from_source(keys)
        with self._unwrapped_lock:
            self._unwrapped.clear()

    def refresh_keys(self) -> bool:
        """Reload a file-backed key source (another process may have rotated); True if changed."""
        if self._reload is None:
            return False
        fresh = self._reload()
        old = self.keys
        if (fresh.versions(), fresh.current_version(), fresh.retired_versions()) == (
            old.versions(),
            old.current_version(),
            old.retired_versions(),
        ):
            return False
        self.use_keys(fresh)
        return True

    def unwrap(self, wrapped: crypto.WrappedKey) -> bytes:
        """Unwrap a DEK, reloading the key file once if its KEK version is not known yet."""
        try:
            return self.keys.unwrap(wrapped)
        except crypto.MissingKeyError:
            if not self.refresh_keys():
                raise
        return self.keys.unwrap(wrapped)

    # -- classification -------------------------------------------------------------------
    def encrypted_fields(self, table: str) -> frozenset[str]:
        """Names of the encrypted fields of ``table``."""
        found = self._encrypted.get(table)
        if found is None:
            found = frozenset(
                r.name for (t, _), r in self.rules.items() if t == table and r.encrypted
            )
            self._encrypted[table] = found
        return found

    def indexed_fields(self, table: str) -> dict[str, str]:
        """``{field: blind index kind}`` for ``table``."""
        return {
            r.name: r.blind_index
            for (t, _), r in self.rules.items()
            if t == table and r.blind_index is not None
        }

    # -- data keys ------------------------------------------------------------------------
    def new_subject_key(self, subject_id: str) -> tuple[crypto.FieldCipher, dict[str, Any]]:
        """A new DEK for a subject: its cipher and the ``data_keys`` row (wrapped) to insert."""
        dek = crypto.new_data_key()
        key_id = crypto.new_data_key_id()
        wrapped = self.keys.wrap(dek)
        row = {
            "subject_id": subject_id,
            "key_id": key_id,
            "kek_version": wrapped.version,
            "wrapped": wrapped.blob,
        }
        return crypto.FieldCipher(dek, key_id), row

    def create_subject_key(self, session: Session, subject_id: str) -> crypto.FieldCipher:
        """Make and store (wrapped) a new DEK for a subject; returns its cipher."""
        cipher, row = self.new_subject_key(subject_id)
        session.add(DataKey(**row))
        return cipher

    def subject_key(self, session: Session, subject_id: str) -> crypto.FieldCipher:
        """Unwrap a subject's DEK; raises SubjectErased when it was shredded."""
        row = session.get(DataKey, subject_id)
        if row is None:
            if session.get(Tombstone, subject_id) is not None:
                raise SubjectErased(f"subject {subject_id} was erased")
            raise DataUnavailable(f"no data key for subject {subject_id}")
        try:
            dek = self.unwrap(crypto.WrappedKey(row.kek_version, bytes(row.wrapped)))
        except crypto.CryptoError as exc:
            raise _unavailable(f"data key of subject {subject_id}: {exc}") from None
        return crypto.FieldCipher(dek, bytes(row.key_id))

    def subject_keys(self, session: Session, subject_ids: Iterable[str]) -> dict[str, Any]:
        """Unwrap many DEKs with one query; erased subjects are absent from the result."""
        ids = list(dict.fromkeys(subject_ids))
        keys: dict[str, crypto.FieldCipher] = {}
        for start in range(0, len(ids), 500):
            rows = session.scalars(
                select(DataKey).where(DataKey.subject_id.in_(ids[start : start + 500]))
            )
            keys.update(self.unwrap_rows(rows))
        return keys

    def unwrap_rows(self, rows: Iterable[WrappedKeyRow]) -> dict[str, crypto.FieldCipher]:
        """Unwrap already loaded ``data_keys`` rows (no query): ``{subject id: cipher}``."""
        keys: dict[str, crypto.FieldCipher] = {}
        cache = self._unwrapped
        for row in rows:
            blob, key_id = bytes(row.wrapped), bytes(row.key_id)
            slot = (row.kek_version, blob, key_id)
            cipher = cache.get(slot)
            if cipher is None:
                try:
                    dek = self.unwrap(crypto.WrappedKey(row.kek_version, blob))
                except crypto.CryptoError as exc:
                    raise _unavailable(f"data key of subject {row.subject_id}: {exc}") from None
                cipher = crypto.FieldCipher(dek, key_id)
                with self._unwrapped_lock:
                    if len(cache) >= UNWRAPPED_KEYS:
                        del cache[next(iter(cache))]  # the oldest: insertion order
                    cache[slot] = cipher
            keys[row.subject_id] = cipher
        return keys

    # -- fields ---------------------------------------------------------------------------
    def seal(
        self,
        key: crypto.FieldCipher,
        table: str,
        column: str,
        subject_id: str,
        value: Any,
        row_id: str | None = None,
    ) -> bytes | None:
        """Encrypt one field value (text, or a JSON value for structured fields)."""
        if value is None:
            return None
        text = value if isinstance(value, str) else _canonical(value)
        return key.encrypt(crypto.FieldPlace(table, column, subject_id, row_id), text)

    def open(
        self,
        key: crypto.FieldCipher,
        table: str,
        column: str,
        subject_id: str,
        blob: bytes | None,
        structured: bool = False,
        row_id: str | None = None,
    ) -> Any:
        """Decrypt one field; fails closed with DataUnavailable naming only ids and columns."""
        if blob is None:
            return None
        try:
            text = key.decrypt(crypto.FieldPlace(table, column, subject_id, row_id), bytes(blob))
        except crypto.CryptoError as exc:
            raise _unavailable(str(exc)) from None  # the message names the place, not the value
        return json.loads(text) if structured else text

    def open_row(
        self,
        key: crypto.FieldCipher,
        table: str,
        subject_id: str,
        blobs: dict[str, bytes | None],
        structured: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Decrypt several fields of one subject's row at once (``open`` for each, cheaper)."""
        present = {name: bytes(blob) for name, blob in blobs.items() if blob is not None}
        try:
            opened = key.open_row(table, subject_id, present)
        except crypto.CryptoError as exc:
            raise _unavailable(str(exc)) from None
        out: dict[str, Any] = dict.fromkeys(blobs)
        for name, raw in opened.items():
            try:
                text = raw.decode("utf-8")
                out[name] = json.loads(text) if name in structured else text
            except ValueError:  # includes UnicodeDecodeError
                raise _unavailable(f"{table}.{name} of subject {subject_id} is not text") from None
        return out

    def blind_index(self, kind: str, normalised: str | None) -> bytes | None:
        """Keyed HMAC of a normalised value for exact lookups."""
        if normalised is None:
            return None
        return self._indexer.index(kind, normalised)


def _unavailable(message: str) -> DataUnavailable:
    """Log a decryption failure (names and ids only, never a value) and build the error."""
    log.error("stored data unavailable: %s", message)
    return DataUnavailable(message)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
