"""Rate limits: per bearer token on the API, per client address on the sign-in form.

Counting is the ``limits`` library's (the engine under Flask-Limiter, by the same maintainers):
a sliding-window counter (O(1) per call, no burst at window edges) in the storage named by
``GOVERNANCE_RATELIMIT_STORAGE`` (``memory://`` per process, ``redis://`` shared, …). What this
module adds is only which limit applies to a request and the HTTP headers.

Flask-Limiter was used first. It resolved on every request which of its limits applied to the
route (route and blueprint exemptions, decorators, defaults); measured with ``bench/api.py``
that was about 260 µs per API call, more than authentication, Casbin and the SQL query together,
for two limits that never change per route. Here a request costs one counter update.
"""

from __future__ import annotations

import time
from typing import Any

from limits import RateLimitItem, parse, parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter, WindowStats

from governance.config import ConfigError
from governance.errors import TooManyRequests

PREFIX = "governance"
# A refusal is audited once per key and minute, not per refused call.
AUDIT_ONCE = parse("1 per minute")


class RateLimiter:
    """Named limits over one storage: ``check(name, key)`` counts a call or refuses it."""

    def __init__(self, storage_uri: str, limits: dict[str, str]) -> None:
        try:
            storage = storage_from_string(storage_uri)
        except (ConfigurationError, ValueError) as exc:
            raise ConfigError(f"GOVERNANCE_RATELIMIT_STORAGE is unusable: {exc}") from None
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self.specs = dict(limits)
        self.items: dict[str, list[RateLimitItem]] = {n: parse_many(s) for n, s in limits.items()}

    def check(self, name: str, key: str, message: str) -> tuple[RateLimitItem, WindowStats]:
        """Count one call of ``key`` under limit ``name``; returns the tightest window's state.

        Raises RateLimited when a limit is exhausted; its ``first`` is true for the first refusal
        of ``key`` this minute (the one to audit).
        """
        for item in self.items[name]:
            if not self.strategy.hit(item, PREFIX, name, key):
                stats = self.strategy.get_window_stats(item, PREFIX, name, key)
                first = self.strategy.hit(AUDIT_ONCE, PREFIX, "audit", key)
                raise RateLimited(message, item, stats, first)
        item = self.items[name][0]
        return item, self.strategy.get_window_stats(item, PREFIX, name, key)


class RateLimited(TooManyRequests):
    """429 with the window that was exhausted (``headers`` adds Retry-After from it)."""

    def __init__(self, detail: str, item: RateLimitItem, stats: WindowStats, first: bool) -> None:
        super().__init__(detail)
        self.item = item
        self.stats = stats
        self.first = first


def headers(item: RateLimitItem, stats: WindowStats, refused: bool) -> dict[str, Any]:
    """``X-RateLimit-Limit/-Remaining/-Reset`` (and ``Retry-After`` when refused)."""
    reset = int(stats.reset_time)
    out = {
        "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(max(stats.remaining, 0)),
        "X-RateLimit-Reset": str(reset),
    }
    if refused:
        out["Retry-After"] = str(max(1, reset - int(time.time())))
    return out
