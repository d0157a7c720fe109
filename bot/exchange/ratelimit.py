"""Token bucket on the injected clock."""

from __future__ import annotations

import asyncio

from bot.clock import Clock

_EPSILON = 1e-6
_MIN_WAIT_S = 0.001


class TokenBucket:
    """Allow ``rate_per_s`` requests per second on average, bursts up to ``burst``.

    Waiters are served in arrival order (one lock), and wait on the clock, so virtual time
    drives them in tests.
    """

    def __init__(self, clock: Clock, rate_per_s: float, *, burst: float | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self._clock = clock
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s)
        self._tokens = self.burst
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()
        self.waits = 0  # how many acquisitions had to wait

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
        self._updated = now

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` now if available; never waits."""
        self._refill()
        if self._tokens >= tokens and not self._lock.locked():
            self._tokens -= tokens
            return True
        return False

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait on the clock until ``tokens`` are available, then take them."""
        if tokens > self.burst:
            raise ValueError("cannot acquire more tokens than the burst size")
        async with self._lock:
            self._refill()
            if self._tokens < tokens:
                self.waits += 1
            while self._tokens < tokens - _EPSILON:
                # at least 1 ms: an epoch-scale float clock cannot move by nanoseconds
                await self._clock.sleep(max(_MIN_WAIT_S, (tokens - self._tokens) / self.rate_per_s))
                self._refill()
            self._tokens -= tokens
