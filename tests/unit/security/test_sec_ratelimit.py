"""The in-process sliding-window counter (memory://) counts as the limits library does."""

from __future__ import annotations

import importlib.util
import time

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from governance.config import ConfigError
from governance.security.ratelimit import LocalCounter, RateLimited, RateLimiter


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_counts_up_to_the_limit_then_refuses() -> None:
    clock = Clock(1_000_020.0)  # 20 s into a minute
    counter = LocalCounter(clock)
    five = parse("5 per minute")
    assert [counter.hit(five, "api", "k") for _ in range(6)] == [True] * 5 + [False]
    assert counter.hit(five, "api", "other")  # keys count apart
    stats = counter.get_window_stats(five, "api", "k")
    assert stats.remaining == 0 and stats.reset_time == 1_000_020.0 // 60 * 60 + 60


def test_the_previous_window_weighs_by_its_overlap() -> None:
    clock = Clock(60 * 1000 + 30)
    counter = LocalCounter(clock)
    ten = parse("10 per minute")
    for _ in range(10):
        assert counter.hit(ten, "k")
    clock.now += 45  # 15 s into the next minute: the last window still weighs 3/4 -> 7.5 used
    assert counter.get_window_stats(ten, "k").remaining == 2
    assert counter.hit(ten, "k") and counter.hit(ten, "k")  # 8.5, 9.5
    assert not counter.hit(ten, "k")  # 10.5 would exceed
    clock.now += 60 * 2  # two windows later nothing is left of either
    assert counter.get_window_stats(ten, "k").remaining == 10


def test_same_decisions_as_the_limits_library() -> None:
    clock = Clock(60 * 5000 + 7)
    ours = LocalCounter(clock)
    item = parse("4 per minute")
    storage = MemoryStorage()
    theirs = SlidingWindowCounterRateLimiter(storage)
    # drive both at the same real moments: theirs reads the wall clock, ours the fake one

    start = time.time()
    clock.now = start
    mine = [ours.hit(item, "x") for _ in range(6)]
    lib = [theirs.hit(item, "x") for _ in range(6)]
    assert mine == lib == [True] * 4 + [False] * 2


def test_limiter_refuses_with_the_window_and_flags_the_first_refusal() -> None:
    limiter = RateLimiter("memory://", {"api": "2 per minute", "login": "1 per minute"})
    limiter.check("api", "t", "slow down")
    limiter.check("api", "t", "slow down")
    with pytest.raises(RateLimited) as first:
        limiter.check("api", "t", "slow down")
    with pytest.raises(RateLimited) as second:
        limiter.check("api", "t", "slow down")
    assert first.value.first and not second.value.first  # audited once a minute
    assert first.value.status == 429 and first.value.item.amount == 2
    limiter.check("login", "t", "x")  # another limit, its own counter


def test_a_shared_store_without_its_driver_is_a_config_error() -> None:
    if importlib.util.find_spec("redis") is not None:
        pytest.skip("the redis package is installed here")
    with pytest.raises(ConfigError, match="GOVERNANCE_RATELIMIT_STORAGE is unusable"):
        RateLimiter("redis://localhost:6379/0", {"api": "1 per minute"})


def test_count_counts_and_reports_like_hit_then_window_stats() -> None:
    clock = Clock(60 * 7000 + 50)
    fused, split = LocalCounter(clock), LocalCounter(clock)
    three = parse("3 per minute")
    for _ in range(4):
        counted, remaining, reset = fused.count(3, 60, "k")
        assert counted == split.hit(three, "k")
        assert (reset, remaining) == split.get_window_stats(three, "k")
        clock.now += 4
    assert not counted and remaining == 0


def test_limiter_reports_the_tightest_of_several_limits() -> None:
    limiter = RateLimiter("memory://", {"api": "100 per minute;3 per second"})
    item, stats = limiter.check("api", "t", "slow down")
    assert item.amount == 3 and stats.remaining == 2
    limiter.check("api", "t", "slow down")
    limiter.check("api", "t", "slow down")
    with pytest.raises(RateLimited) as refused:
        limiter.check("api", "t", "slow down")
    assert refused.value.item.amount == 3


@pytest.mark.parametrize("spec", ["3 per minute", "100 per hour;3 per minute"])
def test_response_headers_count_down_then_refuse(spec: str) -> None:
    limiter = RateLimiter("memory://", {"api": spec})
    seen = [dict(limiter.response_headers("api", "t", "slow down")) for _ in range(3)]
    assert [h["X-RateLimit-Remaining"] for h in seen] == ["2", "1", "0"]
    assert {h["X-RateLimit-Limit"] for h in seen} == {"3"}
    reset = int(seen[0]["X-RateLimit-Reset"])
    assert reset % 60 == 0 and 0 < reset - time.time() <= 60
    with pytest.raises(RateLimited) as refused:
        limiter.response_headers("api", "t", "slow down")
    assert refused.value.first and refused.value.item.amount == 3
