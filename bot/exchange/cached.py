"""``CachedExchange``: the ``Exchange`` port with TTL caches for public market data.

Markets are cached long, tickers and order books briefly; everything private (balances,
orders, fills) and every write passes straight through. A write on a market drops that
market's cached book and ticker, since our own order may have changed them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState
from bot.exchange.port import Exchange

T = TypeVar("T")


@dataclass(slots=True)
class _Entry:
    value: Any
    expires_at: float


class _TtlCache:
    """Per-key TTL entries on the clock's monotonic time; one fetch per key at a time."""

    def __init__(self, clock: Clock, ttl_s: float) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._entries: dict[Hashable, _Entry] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self.hits = 0
        self.misses = 0

    def peek(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._clock.monotonic():
            return None
        return entry.value

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # concurrent misses on one key make one request
            cached = self.peek(key)
            if cached is not None:
                self.hits += 1
                return cached  # type: ignore[no-any-return]
            self.misses += 1
            value = await fetch()
            self._entries[key] = _Entry(value, self._clock.monotonic() + self.ttl_s)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = _Entry(value, self._clock.monotonic() + self.ttl_s)

    def drop(self, predicate: Callable[[Hashable], bool] | None = None) -> None:
        if predicate is None:
            self._entries.clear()
            return
        for key in [k for k in self._entries if predicate(k)]:
            del self._entries[key]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "size": len(self._entries)}


class CachedExchange:
    """Wrap an ``Exchange``; same Protocol, cached public reads, hit/miss counters."""

    def __init__(
        self,
        inner: Exchange,
        clock: Clock,
        *,
        markets_ttl_s: float = 3600.0,
        tickers_ttl_s: float = 2.0,
        book_ttl_s: float = 1.0,
    ) -> None:
        self.inner = inner
        self._markets = _TtlCache(clock, markets_ttl_s)
        self._tickers = _TtlCache(clock, tickers_ttl_s)
        self._ticker = _TtlCache(clock, tickers_ttl_s)
        self._books = _TtlCache(clock, book_ttl_s)

    def stats(self) -> dict[str, dict[str, int]]:
        """Return hits, misses and size per cache."""
        return {
            "markets": self._markets.stats(),
            "tickers": self._tickers.stats(),
            "ticker": self._ticker.stats(),
            "order_book": self._books.stats(),
        }

    def invalidate(self, market: str | None = None) -> None:
        """Drop cached data: everything, or the tickers and books of one ``market``."""
        if market is None:
            for cache in (self._markets, self._tickers, self._ticker, self._books):
                cache.drop()
            return
        self._tickers.drop()
        self._ticker.drop(lambda k: k == market)
        self._books.drop(lambda k: isinstance(k, tuple) and k[0] == market)

    # --- cached public reads ---

    async def markets(self) -> list[Market]:
        return list(await self._markets.get("all", self.inner.markets))

    async def tickers(self) -> dict[str, Ticker]:
        return dict(await self._tickers.get("all", self.inner.tickers))

    async def ticker(self, market: str) -> Ticker:
        every = self._tickers.peek("all")
        if isinstance(every, dict) and market in every:
            self._ticker.hits += 1
            return every[market]  # type: ignore[no-any-return]
        return await self._ticker.get(market, lambda: self.inner.ticker(market))

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        return await self._books.get((market, depth), lambda: self.inner.order_book(market, depth))

    # --- pass-through ---

    async def server_time(self) -> datetime:
        return await self.inner.server_time()

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        return await self.inner.public_trades(market, limit)

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        return await self.inner.candles(market, period_min, time_from, time_to)

    async def balances(self) -> list[Balance]:
        return await self.inner.balances()

    async def place_order(self, request: OrderRequest) -> Order:
        try:
            return await self.inner.place_order(request)
        finally:
            self.invalidate(request.market)

    async def get_order(self, order_id: str) -> Order:
        return await self.inner.get_order(order_id)

    async def find_order(self, market: str, client_id: str) -> Order | None:
        return await self.inner.find_order(market, client_id)

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        return await self.inner.orders(market, state, page=page, limit=limit)

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return await self.inner.open_orders(market)

    async def order_trades(self, order_id: str) -> list[Fill]:
        return await self.inner.order_trades(order_id)

    async def cancel_order(self, order_id: str) -> Order:
        order = await self.inner.cancel_order(order_id)
        self.invalidate(order.market)
        return order

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        cancelled = await self.inner.cancel_all(market)
        if market is None:
            self._tickers.drop()
            self._ticker.drop()
            self._books.drop()
        else:
            self.invalidate(market)
        return cancelled

    async def close(self) -> None:
        await self.inner.close()
