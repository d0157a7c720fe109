"""``ReadRetrying``: the SafeTrade client's read retries, in front of an in-process exchange.

``SafeTradeClient`` retries idempotent reads with ``RetryPolicy`` and never retries an order
write; ``SimExchange`` has no HTTP client in front of it, so the in-process campaign puts
this wrapper there to give the daemon the same exchange stack it has in production.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from bot.clock import Clock
from bot.domain.orders import Order, OrderRequest
from bot.exchange.port import Exchange
from bot.exchange.retry import RetryPolicy

WRITES = frozenset({"place_order", "cancel_order", "cancel_all", "close"})


class ReadRetrying:
    """Pass writes straight through; retry every other coroutine method with ``RetryPolicy``."""

    def __init__(self, inner: Exchange, clock: Clock, rng: random.Random) -> None:
        self.inner = inner
        self.retry = RetryPolicy(clock, rng)

    async def place_order(self, request: OrderRequest) -> Order:
        return await self.inner.place_order(request)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name in WRITES or not callable(target):
            return target

        async def retried(*args: Any, **kwargs: Any) -> Any:
            operation: Callable[[], Awaitable[Any]] = lambda: target(*args, **kwargs)  # noqa: E731
            return await self.retry.run(operation, name=name)

        return retried
