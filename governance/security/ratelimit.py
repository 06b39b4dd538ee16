"""Rate limits: per bearer token on the API, per client address on the sign-in form.

Counting is a sliding-window counter (O(1) per call, no burst at window edges). Limits are
written and parsed with the ``limits`` library (the engine under Flask-Limiter), and a shared
store named by ``GOVERNANCE_RATELIMIT_STORAGE`` (``redis://…``, ``memcached://…``) is counted by
its ``SlidingWindowCounterRateLimiter``. The default ``memory://`` is counted by ``LocalCounter``
below, the same algorithm in a dictionary.

Measured with ``bench/api.py`` and a profiler, per API call: Flask-Limiter, used first, spent
about 260 µs deciding which of its limits applied to the route (we have two fixed limits);
``limits``' own memory storage starts a ``threading.Timer`` thread to expire counters every
10 ms of traffic, about 200 µs per call on average under load. ``LocalCounter`` costs ~3 µs.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from limits import RateLimitItem, WindowStats, parse, parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from governance.config import ConfigError
from governance.errors import TooManyRequests

PREFIX = "governance"
# A refusal is audited once per key and minute, not per refused call.
AUDIT_ONCE = parse("1 per minute")


class RateLimiter:
    """Named limits over one storage: ``check(name, key)`` counts a call or refuses it."""

    def __init__(self, storage_uri: str, limits: dict[str, str]) -> None:
        self.strategy: LocalCounter | SlidingWindowCounterRateLimiter
        if storage_uri.startswith("memory://"):
            self.strategy = LocalCounter()
        else:
            try:
                storage = storage_from_string(storage_uri)
            except (ConfigurationError, ValueError) as exc:
                raise ConfigError(f"GOVERNANCE_RATELIMIT_STORAGE is unusable: {exc}") from None
            self.strategy = SlidingWindowCounterRateLimiter(storage)
        self.specs = dict(limits)
        self.items: dict[str, list[RateLimitItem]] = {n: parse_many(s) for n, s in limits.items()}
        # memory://: each limit's amount, period and key prefix, worked out once
        self._plans = {
            name: [
                (item, item.amount, item.get_expiry(), f"{name}/{index}/", str(item.amount))
                for index, item in enumerate(items)
            ]
            for name, items in self.items.items()
        }

    def check(self, name: str, key: str, message: str) -> tuple[RateLimitItem, WindowStats]:
        """Count one call of ``key`` under limit ``name``; returns the tightest window's state.

        Raises RateLimited when a limit is exhausted; its ``first`` is true for the first refusal
        of ``key`` this minute (the one to audit).
        """
        if isinstance(self.strategy, LocalCounter):
            item, _, remaining, reset = self._count_local(self.strategy, name, key, message)
            return item, WindowStats(reset, remaining)
        tightest: tuple[RateLimitItem, WindowStats] | None = None
        for item in self.items[name]:
            if not self.strategy.hit(item, PREFIX, name, key):
                stats = self.strategy.get_window_stats(item, PREFIX, name, key)
                first = self.strategy.hit(AUDIT_ONCE, PREFIX, "audit", key)
                raise RateLimited(message, item, stats, first)
            stats = self.strategy.get_window_stats(item, PREFIX, name, key)
            if tightest is None or stats.remaining < tightest[1].remaining:
                tightest = (item, stats)
        assert tightest is not None  # parse_many never returns an empty list
        return tightest

    def response_headers(self, name: str, key: str, message: str) -> list[tuple[str, str]]:
        """``check``, answered as the ``X-RateLimit-*`` headers of the tightest limit (the path
        of every API call: on ``memory://`` the strings are built straight from the counts).

        Raises RateLimited (``headers(..., refused=True)`` adds ``Retry-After``).
        """
        if isinstance(self.strategy, LocalCounter):
            _, amount, remaining, reset = self._count_local(self.strategy, name, key, message)
            return [
                ("X-RateLimit-Limit", amount),
                ("X-RateLimit-Remaining", str(remaining)),
                ("X-RateLimit-Reset", str(reset)),
            ]
        return headers(*self.check(name, key, message), refused=False)

    def _count_local(
        self, counter: LocalCounter, name: str, key: str, message: str
    ) -> tuple[RateLimitItem, str, int, int]:
        """Count on the in-process counter, one lock per limit and no key formatting; returns
        the tightest limit as (item, its amount as text, calls left, end of its window)."""
        tightest: tuple[RateLimitItem, str, int, int] | None = None
        for item, amount, period, prefix, amount_text in self._plans[name]:
            counted, remaining, reset = counter.count(amount, period, prefix + key)
            if not counted:
                first = counter.hit(AUDIT_ONCE, PREFIX, "audit", key)
                raise RateLimited(message, item, WindowStats(reset, remaining), first)
            if tightest is None or remaining < tightest[2]:
                tightest = (item, amount_text, remaining, reset)
        assert tightest is not None  # parse_many never returns an empty list
        return tightest


class LocalCounter:
    """Sliding-window counters of this process (``memory://``), as ``limits`` counts them.

    Per key: the number of calls in the current fixed window and in the one before; the count
    that is compared with the limit weights the previous window by the part of it that still
    overlaps the sliding window. Thread-safe; stale keys are dropped as the table grows.
    """

    PRUNE_ABOVE = 50_000

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [window index, calls in it, calls in the one before, last use]
        self._windows: dict[str, list[float]] = {}

    def _state(self, period: int, key: str, now: float) -> tuple[list[float], float]:
        index = now // period
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self.PRUNE_ABOVE:
                self._prune(now)
            window = self._windows[key] = [index, 0, 0, now]
        elif window[0] != index:
            window[2] = window[1] if window[0] == index - 1 else 0
            window[1], window[0] = 0, index
        window[3] = now
        weight = 1 - (now % period) / period  # share of the previous window still inside
        return window, window[2] * weight + window[1]

    def _prune(self, now: float) -> None:
        """Forget keys unused for a day (no limit here spans more), else the older half."""
        stale = [k for k, w in self._windows.items() if w[3] < now - 86_400]
        if not stale:
            by_use = sorted(self._windows, key=lambda k: self._windows[k][3])
            stale = by_use[: len(by_use) // 2]
        for key in stale:
            del self._windows[key]

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one call unless that would exceed ``item``; True when counted."""
        key = item.key_for(*identifiers)
        with self._lock:
            window, used = self._state(item.get_expiry(), key, self._clock())
            if used + 1 > item.amount:
                return False
            window[1] += 1
            return True

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """Calls left now, and when the current fixed window ends (epoch seconds)."""
        key = item.key_for(*identifiers)
        now = self._clock()
        period = item.get_expiry()
        with self._lock:
            _window, used = self._state(period, key, now)
        return WindowStats((now // period + 1) * period, max(0, item.amount - math.ceil(used)))

    def count(self, amount: int, period: int, key: str) -> tuple[bool, int, int]:
        """Count one call of ``key`` unless ``amount`` per ``period`` seconds would be exceeded.

        Returns (counted, calls left afterwards, epoch second the current window ends).
        """
        now = self._clock()
        with self._lock:
            window, used = self._state(period, key, now)
            counted = used + 1 <= amount
            if counted:
                window[1] += 1
                used += 1
        remaining = amount - math.ceil(used)
        return counted, remaining if remaining > 0 else 0, int((now // period + 1) * period)


class RateLimited(TooManyRequests):
    """429 with the window that was exhausted (``headers`` adds Retry-After from it)."""

    def __init__(self, detail: str, item: RateLimitItem, stats: WindowStats, first: bool) -> None:
        super().__init__(detail)
        self.item = item
        self.stats = stats
        self.first = first


def headers(item: RateLimitItem, stats: WindowStats, refused: bool) -> list[tuple[str, str]]:
    """``X-RateLimit-Limit/-Remaining/-Reset`` (and ``Retry-After`` when refused)."""
    reset = int(stats.reset_time)
    out = [
        ("X-RateLimit-Limit", str(item.amount)),
        ("X-RateLimit-Remaining", str(max(stats.remaining, 0))),
        ("X-RateLimit-Reset", str(reset)),
    ]
    if refused:
        out.append(("Retry-After", str(max(1, reset - int(time.time())))))
    return out
