"""Retry policy for idempotent reads: capped exponential back-off with full jitter.

Writes are never retried here: an order POST whose outcome is unknown is resolved by lookup
(``Exchange.find_order``), never re-sent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from bot.clock import Clock
from bot.exchange.errors import RateLimited, TransientError

T = TypeVar("T")

log = structlog.get_logger()


class RetryPolicy:
    """Run a read up to ``attempts`` times, sleeping on the clock between tries.

    The n-th back-off (n from 0) is uniform in ``[0, min(cap_s, base_s * 2**n)]`` (full
    jitter). A ``RateLimited`` error with ``retry_after_s`` waits at least that long; a
    ``retry_after_s`` above ``max_retry_after_s`` is not waited for and the error is raised.
    """

    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        *,
        attempts: int = 4,
        base_s: float = 0.25,
        cap_s: float = 5.0,
        max_retry_after_s: float = 30.0,
        retry_on: tuple[type[Exception], ...] = (TransientError,),
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._clock = clock
        self._rng = rng
        self.attempts = attempts
        self.base_s = base_s
        self.cap_s = cap_s
        self.max_retry_after_s = max_retry_after_s
        self._retry_on = retry_on
        self.retries = 0  # total retries made, for metrics and tests

    def backoff_s(self, attempt: int) -> float:
        """Return a jittered delay before retry number ``attempt`` (0-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        return self._rng.uniform(0.0, ceiling)

    def _delay_for(self, error: Exception, attempt: int) -> float | None:
        delay = self.backoff_s(attempt)
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            if error.retry_after_s > self.max_retry_after_s:
                return None
            delay = max(delay, error.retry_after_s)
        return delay

    async def run(self, operation: Callable[[], Awaitable[T]], *, name: str = "read") -> T:
        """Return ``operation()``'s result, retrying transient failures.

        Raises:
            The last error when attempts run out, or the first non-retryable error.
        """
        for attempt in range(self.attempts):
            try:
                return await operation()
            except asyncio.CancelledError:
                raise
            except self._retry_on as e:
                delay = self._delay_for(e, attempt)
                if attempt + 1 >= self.attempts or delay is None:
                    raise
                self.retries += 1
                log.info(
                    "exchange_read_retry",
                    operation=name,
                    attempt=attempt + 1,
                    delay_s=round(delay, 3),
                    error=type(e).__name__,
                )
                await self._clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
