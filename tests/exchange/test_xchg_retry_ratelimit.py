from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from bot.clock import VirtualClock
from bot.exchange.errors import ExchangeUnavailable, InvalidOrder, RateLimited
from bot.exchange.ratelimit import TokenBucket
from bot.exchange.retry import RetryPolicy


class FlakyRead:
    """Fail with the scripted errors, then succeed; record the clock at every call."""

    def __init__(self, clock: VirtualClock, errors: list[Exception]) -> None:
        self.clock = clock
        self.errors = errors
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(self.clock.time())
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_transient_errors_are_retried_until_success(
    clock: VirtualClock, rng: random.Random
) -> None:
    policy = RetryPolicy(clock, rng, attempts=4, base_s=0.5, cap_s=4.0)
    read = FlakyRead(clock, [ExchangeUnavailable("502"), ExchangeUnavailable("503")])

    result = await clock.run(policy.run(read))

    assert result == "ok"
    assert len(read.calls) == 3
    assert policy.retries == 2


async def test_backoff_is_capped_and_fully_jittered(
    clock: VirtualClock, rng: random.Random
) -> None:
    policy = RetryPolicy(clock, rng, attempts=50, base_s=0.5, cap_s=2.0)

    delays = [policy.backoff_s(n) for n in range(40)]

    assert all(0.0 <= d <= 2.0 for d in delays)
    assert all(d <= 0.5 for d in delays[:1])
    assert len({round(d, 6) for d in delays}) > 30  # jittered, not a fixed ladder


async def test_backoff_is_deterministic_for_a_seed(clock: VirtualClock) -> None:
    first = RetryPolicy(clock, random.Random(7))
    second = RetryPolicy(clock, random.Random(7))

    assert [first.backoff_s(n) for n in range(5)] == [second.backoff_s(n) for n in range(5)]


async def test_gives_up_after_attempts_with_last_error(
    clock: VirtualClock, rng: random.Random
) -> None:
    policy = RetryPolicy(clock, rng, attempts=3)
    read = FlakyRead(clock, [ExchangeUnavailable(str(n)) for n in range(5)])

    with pytest.raises(ExchangeUnavailable, match="2"):
        await clock.run(policy.run(read))

    assert len(read.calls) == 3


async def test_definitive_errors_are_not_retried(clock: VirtualClock, rng: random.Random) -> None:
    policy = RetryPolicy(clock, rng, attempts=5)
    read = FlakyRead(clock, [InvalidOrder("422")])

    with pytest.raises(InvalidOrder):
        await clock.run(policy.run(read))

    assert len(read.calls) == 1


async def test_retry_after_is_honoured(clock: VirtualClock, rng: random.Random) -> None:
    policy = RetryPolicy(clock, rng, attempts=3, base_s=0.1, cap_s=0.2)
    read = FlakyRead(clock, [RateLimited("429", retry_after_s=7.0)])

    await clock.run(policy.run(read))

    assert read.calls[1] - read.calls[0] >= 7.0


async def test_retry_after_beyond_the_limit_is_raised_not_waited(
    clock: VirtualClock, rng: random.Random
) -> None:
    policy = RetryPolicy(clock, rng, attempts=3, max_retry_after_s=10.0)
    read = FlakyRead(clock, [RateLimited("429", retry_after_s=600.0)])

    with pytest.raises(RateLimited):
        await clock.run(policy.run(read))

    assert len(read.calls) == 1


async def test_token_bucket_allows_burst_then_paces_at_rate(clock: VirtualClock) -> None:
    bucket = TokenBucket(clock, rate_per_s=5.0, burst=5.0)
    stamps: list[float] = []

    async def take_all() -> None:
        for _ in range(15):
            await bucket.acquire()
            stamps.append(clock.monotonic())

    await clock.run(take_all())

    assert stamps[:5] == [0.0] * 5
    assert stamps[-1] == pytest.approx(2.0)
    assert bucket.waits == 10


async def test_token_bucket_serves_concurrent_waiters_without_exceeding_rate(
    clock: VirtualClock,
) -> None:
    bucket = TokenBucket(clock, rate_per_s=2.0, burst=1.0)
    stamps: list[float] = []

    async def worker() -> None:
        for _ in range(3):
            await bucket.acquire()
            stamps.append(clock.monotonic())

    async def all_workers() -> None:
        await asyncio.gather(*(worker() for _ in range(4)))

    await clock.run(all_workers())

    stamps.sort()
    assert len(stamps) == 12
    assert all(b - a >= 0.5 - 1e-9 for a, b in itertools.pairwise(stamps))


def test_try_acquire_never_waits(clock: VirtualClock) -> None:
    bucket = TokenBucket(clock, rate_per_s=1.0, burst=2.0)

    taken = [bucket.try_acquire() for _ in range(3)]

    assert taken == [True, True, False]
