"""Envelope encryption core: KEK sources, per-subject data keys, field ciphertext, blind indexes.

Flask-free and database-free. The format of every byte this package writes is specified in
FORMAT.md (same folder). AES-256-GCM per NIST SP 800-38D, HKDF per RFC 5869, HMAC per RFC 2104.
"""

from __future__ import annotations

from governance.crypto.blindindex import (
    BLIND_INDEX_PURPOSE,
    INDEX_BYTES,
    BlindIndexer,
    blind_index,
    blind_index_equals,
)
from governance.crypto.datakey import DEK_ID_BYTES, new_data_key, new_data_key_id, rewrap
from governance.crypto.errors import (
    CryptoError,
    FormatError,
    IntegrityError,
    KeyMismatchError,
    MasterKeyError,
    MissingKeyError,
    RetiredKeyError,
    WrongMasterKeyError,
)
from governance.crypto.fields import (
    FieldCipher,
    FieldPlace,
    blob_dek_id,
    canonical_json,
    decrypt_field,
    decrypt_json,
    encrypt_field,
    encrypt_json,
)
from governance.crypto.fingerprints import check_fingerprints
from governance.crypto.keyfile import (
    add_version,
    generate_key_file,
    load_key_file,
    retire_version,
    set_current_version,
    unretire_version,
)
from governance.crypto.keysource import (
    MASTER_KEY_VAR,
    KeySource,
    LocalKeySource,
    WrappedKey,
)

__all__ = [
    "BLIND_INDEX_PURPOSE",
    "DEK_ID_BYTES",
    "INDEX_BYTES",
    "MASTER_KEY_VAR",
    "BlindIndexer",
    "CryptoError",
    "FieldCipher",
    "FieldPlace",
    "FormatError",
    "IntegrityError",
    "KeyMismatchError",
    "KeySource",
    "LocalKeySource",
    "MasterKeyError",
    "MissingKeyError",
    "RetiredKeyError",
    "WrappedKey",
    "WrongMasterKeyError",
    "add_version",
    "blind_index",
    "blind_index_equals",
    "blob_dek_id",
    "canonical_json",
    "check_fingerprints",
    "decrypt_field",
    "decrypt_json",
    "encrypt_field",
    "encrypt_json",
    "generate_key_file",
    "load_key_file",
    "new_data_key",
    "new_data_key_id",
    "retire_version",
    "rewrap",
    "set_current_version",
    "unretire_version",
]
