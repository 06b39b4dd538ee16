"""A short-lived, per-process cache of verified bearer tokens.

Looking a token up costs a database transaction per API call (on SQLite, the write lock), which
was most of what authentication cost (``bench/api.py``). A verified token is therefore kept for
``GOVERNANCE_TOKEN_CACHE_SECONDS`` (default 2; 0 turns the cache off) with what the guard needs:
the stored hash of the full token, its expiry, and the account's id, name, state and roles.

What stays exact:

- the secret is checked on every call (SHA-256 of the presented token against the stored hash,
  in constant time), so a wrong secret for a cached id is refused like any other;
- expiry is checked on every call against the cached ``expires_at``;
- any change to a token or a service account committed by this process (revoke, rotate,
  disable, role change) empties the cache when it commits (``watch_session``), so the next call
  in this process sees it.

What is bounded rather than immediate: a change committed by *another* process (another gunicorn
worker, the CLI, another host) reaches this process when the entry ages out, at most
``GOVERNANCE_TOKEN_CACHE_SECONDS`` later. Set 0 where that window is not acceptable.
"""

from __future__ import annotations

import hmac
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from governance.models import ApiToken, ServiceAccount
from governance.security.tokens import hash_token_secret, verify_token_hash

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class VerifiedToken:
    """What the guard needs about a token and its account, as read from the database."""

    token_id: str
    secret_hash: str
    expires_at: datetime | None
    account_id: str
    account_name: str
    roles: tuple[str, ...]
    checked_at: float  # time.monotonic() of the database read


class TokenCache:
    """Verified tokens by id, each trusted for ``ttl`` seconds after it was read."""

    def __init__(self, ttl: float, clock: Any = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, VerifiedToken] = {}
        self._lock = threading.Lock()

    def get(self, token_id: str, full_token: str) -> VerifiedToken | None:
        """The cached entry if it is fresh and ``full_token`` matches its hash, else None."""
        entry = self._entries.get(token_id)
        if entry is None or self._clock() - entry.checked_at >= self.ttl:
            return None
        # The stored hash was checked to be a SHA-256 hex digest when the entry was put.
        if not hmac.compare_digest(hash_token_secret(full_token), entry.secret_hash):
            return None
        return entry

    def put(self, token: ApiToken, account: ServiceAccount) -> VerifiedToken:
        """Remember a token just verified against the database (its secret matched the stored
        hash, which is therefore a SHA-256 hex digest; active, unexpired); returns it.

        With the cache off (ttl 0) nothing is kept, but the entry is still returned.
        """
        entry = VerifiedToken(
            token_id=token.id,
            secret_hash=token.secret_hash,
            expires_at=token.expires_at,
            account_id=account.id,
            account_name=account.name,
            roles=tuple(account.roles),
            checked_at=self._clock(),
        )
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()  # simple and safe: the next calls re-read
                self._entries[token.id] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_WATCHED = (ApiToken, ServiceAccount)
_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def register(cache: TokenCache) -> None:
    """Empty ``cache`` whenever a session of this process commits a token or account change."""
    _caches.add(cache)
    _install_listeners()


_installed = False


def _install_listeners() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    @event.listens_for(Session, "before_flush")
    def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
        for obj in (*session.dirty, *session.deleted, *session.new):
            if isinstance(obj, _WATCHED):
                session.info["governance.credentials_changed"] = True
                return

    @event.listens_for(Session, "after_commit")
    def _forget(session: Session) -> None:
        if session.info.pop("governance.credentials_changed", False):
            for cache in list(_caches):
                cache.clear()

    @event.listens_for(Session, "after_rollback")
    def _drop_note(session: Session) -> None:
        session.info.pop("governance.credentials_changed", None)
