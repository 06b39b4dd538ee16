"""Start-up check that the configured master key is the one the database was written with.

The database records, per KEK version, the non-secret ``KeySource.fingerprint`` (and once the
``index_fingerprint``). At start the server compares them with the configured source and refuses
to run on a mismatch, instead of wrapping new keys under a stranger key or silently missing every
blind-index lookup. Fingerprints are HMAC-SHA256 values (RFC 2104), compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from governance.crypto.errors import WrongMasterKeyError
from governance.crypto.keysource import KeySource


def check_fingerprints(
    source: KeySource, recorded: Mapping[int, str], recorded_index: str | None = None
) -> list[int]:
    """Compare ``source`` with fingerprints from the database; return versions not yet recorded.

    Raises WrongMasterKeyError when a version known to both differs, when the database knows
    versions but none of them is configured, or when the blind-index root differs. A version
    recorded but not configured is not an error here: unwrapping under it raises MissingKeyError,
    and the caller decides whether DEKs still depend on it.
    """
    configured = set(source.versions())
    shared = sorted(configured & set(recorded))
    if recorded and not shared:
        raise WrongMasterKeyError(
            f"none of the configured KEK versions {sorted(configured)} is known to the database "
            f"(it knows {sorted(recorded)}): wrong GOVERNANCE_MASTER_KEY or key file"
        )
    for version in shared:
        if not hmac.compare_digest(source.fingerprint(version), recorded[version]):
            raise WrongMasterKeyError(
                f"KEK version {version} does not match the key this database was written with: "
                "wrong GOVERNANCE_MASTER_KEY or key file"
            )
    if recorded_index is not None and not hmac.compare_digest(
        source.index_fingerprint(), recorded_index
    ):
        raise WrongMasterKeyError(
            "the blind-index root does not match the one this database was indexed with "
            "(was the lowest KEK version removed, or the index root changed?)"
        )
    return sorted(configured - set(recorded))
