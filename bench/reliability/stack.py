"""``ReadRetrying``: the SafeTrade client's read retries, in front of an in-process exchange.

``SafeTradeClient`` retries idempotent reads with ``RetryPolicy`` and never retries an order
write; ``SimExchange`` has no HTTP client in front of it, so the in-process campaign puts
this wrapper there to give the daemon the same exchange stack it has in production.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clock import Clock
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.port import Exchange
from bot.exchange.retry import RetryPolicy

T = TypeVar("T")
WRITES = frozenset({"place_order", "cancel_order", "cancel_all", "close"})


class ReadRetrying(ForwardingExchange):
    """Pass writes straight through; retry every read with ``RetryPolicy``."""

    def __init__(self, inner: Exchange, clock: Clock, rng: random.Random) -> None:
        super().__init__(inner)
        self.retry = RetryPolicy(clock, rng)

    async def _forward(self, name: str, call: Callable[[], Awaitable[T]]) -> T:
        if name in WRITES:
            return await call()
        return await self.retry.run(call, name=name)
