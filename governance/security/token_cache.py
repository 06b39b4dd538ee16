"""A short-lived, per-process cache of verified bearer tokens.

Looking a token up costs a database transaction per API call (on SQLite, the write lock), which
was most of what authentication cost (``bench/api.py``). A verified token is therefore kept for
``GOVERNANCE_TOKEN_CACHE_SECONDS`` (default 2; 0 turns the cache off) with what the guard needs:
its id and expiry, and the account's id, name and roles.

Entries are found by the exact ``Authorization`` header that was verified, secret included, so a
call is served from the cache only when it presents, character for character, a credential this
process checked against the stored SHA-256 hash within the window. (The lookup is a dictionary
probe: Python's per-process randomised string hashing means its timing depends on the hash of
the presented value, not on how much of a cached secret it shares, so it leaks nothing a
constant-time comparison would protect.) Entries older than the window are dropped at the next
sweep (at most once per window, on a lookup), so a secret is not held in memory much longer
than the window while the process serves calls.

What stays exact:

- a wrong or altered secret never matches a cached header: it is looked up and refused;
- expiry is checked on every call against the cached ``expires_at``;
- any change to a token or a service account committed by this process (revoke, rotate,
  disable, role change) empties the cache when it commits (``watch_session``), so the next call
  in this process sees it.

What is bounded rather than immediate: a change committed by *another* process (another gunicorn
worker, the CLI, another host) reaches this process when the entry ages out, at most
``GOVERNANCE_TOKEN_CACHE_SECONDS`` later. Set 0 where that window is not acceptable.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from governance.models import ApiToken, ServiceAccount

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class VerifiedToken:
    """What the guard needs about a token and its account, as read from the database."""

    token_id: str
    expires_at: datetime | None
    account_id: str
    account_name: str
    roles: tuple[str, ...]
    checked_at: float  # time.monotonic() of the database read


class TokenCache:
    """Verified tokens by the ``Authorization`` header they came in, each trusted for ``ttl``
    seconds after it was read."""

    def __init__(self, ttl: float, clock: Any = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, VerifiedToken] = {}  # by the verified Authorization header
        self._lock = threading.Lock()
        self._swept_at = clock()

    def get(self, header: str) -> VerifiedToken | None:
        """The entry verified for exactly this ``Authorization`` header, if still fresh."""
        if self.ttl <= 0:
            return None
        now = self._clock()
        if now - self._swept_at >= self.ttl:
            self._sweep(now)
        entry = self._entries.get(header)
        if entry is None or now - entry.checked_at >= self.ttl:
            return None
        return entry

    def put(self, header: str, token: ApiToken, account: ServiceAccount) -> VerifiedToken:
        """Remember a token just verified against the database (its secret matched the stored
        hash; active, unexpired) under the header it came in; returns the entry.

        With the cache off (ttl 0) nothing is kept, but the entry is still returned.
        """
        entry = VerifiedToken(
            token_id=token.id,
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
                self._entries[header] = entry
        return entry

    def _sweep(self, now: float) -> None:
        """Drop the entries older than the window (and the secrets in their keys)."""
        with self._lock:
            self._swept_at = now
            stale = [k for k, e in self._entries.items() if now - e.checked_at >= self.ttl]
            for key in stale:
                del self._entries[key]

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
