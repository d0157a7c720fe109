"""``ConcurrencyLimiter``: a global cap, one execution per market, a priority queue.

Waiters are granted in priority order (highest first, then first come) among those whose
market is free; a waiter blocked by a busy market does not block others behind it.
``budget_lock`` serialises whoever reads the daily budget and queues sales against it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(order=True)
class _Waiter:
    sort_key: tuple[Decimal, int]
    market: str = field(compare=False)
    key: str = field(compare=False)
    future: asyncio.Future[None] = field(compare=False)


class ConcurrencyLimiter:
    """At most ``max_concurrent`` holders at once, at most one per market."""

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self._max = max_concurrent
        self._running: dict[str, str] = {}  # market -> key
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        # held from reading the daily ledger to writing the sales it allows: two cycles at
        # once must not both spend the same budget
        self.budget_lock = asyncio.Lock()

    @property
    def running(self) -> dict[str, str]:
        """Return market → key of every holder."""
        return dict(self._running)

    @property
    def queued(self) -> list[str]:
        """Return the keys waiting, in the order they would be considered."""
        return [w.key for w in sorted(self._waiting)]

    def busy(self, market: str) -> bool:
        return market in self._running

    async def acquire(self, market: str, *, priority: Decimal = Decimal(0), key: str = "") -> None:
        """Wait until a slot is free for ``market``; higher ``priority`` goes first."""
        waiter = _Waiter(
            sort_key=(-priority, next(self._seq)),
            market=market,
            key=key or market,
            future=asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(waiter)
        self._grant()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                self.release(market)  # granted just as we were cancelled
            raise

    def release(self, market: str) -> None:
        """Free the slot held for ``market``."""
        self._running.pop(market, None)
        self._grant()

    @asynccontextmanager
    async def slot(
        self, market: str, *, priority: Decimal = Decimal(0), key: str = ""
    ) -> AsyncIterator[None]:
        """Hold a slot for ``market`` for the duration of the block."""
        await self.acquire(market, priority=priority, key=key)
        try:
            yield
        finally:
            self.release(market)

    def _grant(self) -> None:
        for waiter in sorted(self._waiting):
            if len(self._running) >= self._max:
                return
            if waiter.market in self._running or waiter.future.done():
                continue
            self._waiting.remove(waiter)
            self._running[waiter.market] = waiter.key
            waiter.future.set_result(None)
