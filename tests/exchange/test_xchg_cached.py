from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.balances import Balance
from bot.domain.market import BookLevel, Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState, OrderType, Side
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeUnavailable
from bot.exchange.port import Exchange

AT = datetime(2026, 1, 1, tzinfo=UTC)


class CountingExchange:
    """A tiny in-memory exchange that counts calls; prices move on every read."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.fail_next = False

    def _ticker(self, market: str) -> Ticker:
        last = Decimal(self.calls["tick"])
        return Ticker(market, last, last, last, last, Decimal(0), Decimal(0), AT)

    async def server_time(self) -> datetime:
        return AT

    async def markets(self) -> list[Market]:
        self.calls["markets"] += 1
        return [Market("xusdt", "x", "usdt", 2, 4, Decimal("0.01"))]

    async def tickers(self) -> dict[str, Ticker]:
        self.calls["tickers"] += 1
        self.calls["tick"] += 1
        return {"xusdt": self._ticker("xusdt")}

    async def ticker(self, market: str) -> Ticker:
        self.calls["ticker"] += 1
        self.calls["tick"] += 1
        return self._ticker(market)

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        self.calls["order_book"] += 1
        if self.fail_next:
            self.fail_next = False
            raise ExchangeUnavailable("502")
        bid = BookLevel(Decimal(self.calls["order_book"]), Decimal(1))
        return OrderBook(market, (bid,), ())

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        return []

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        return []

    async def balances(self) -> list[Balance]:
        self.calls["balances"] += 1
        return [Balance("x", Decimal(self.calls["balances"]), Decimal(0))]

    def _order(self, order_id: str, market: str = "xusdt") -> Order:
        return Order(
            order_id, None, market, Side.SELL, OrderType.LIMIT, Decimal(1), Decimal(1),
            Decimal(0), None, OrderState.OPEN, AT,
        )  # fmt: skip

    async def place_order(self, request: OrderRequest) -> Order:
        self.calls["place_order"] += 1
        return self._order("1", request.market)

    async def get_order(self, order_id: str) -> Order:
        return self._order(order_id)

    async def find_order(self, market: str, client_id: str) -> Order | None:
        return None

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        return []

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return []

    async def order_trades(self, order_id: str) -> list[Fill]:
        return []

    async def cancel_order(self, order_id: str) -> Order:
        return self._order(order_id)

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        return []

    async def close(self) -> None:
        self.calls["close"] += 1


def _cached(clock: VirtualClock) -> tuple[CachedExchange, CountingExchange]:
    inner = CountingExchange()
    return CachedExchange(inner, clock, markets_ttl_s=3600, tickers_ttl_s=2, book_ttl_s=1), inner


def test_cached_exchange_satisfies_the_port(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)
    as_port: Exchange = cached
    also: Exchange = inner

    assert as_port is cached
    assert also is inner


async def test_markets_are_served_from_cache_until_ttl(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)

    await cached.markets()
    await clock.advance(3599)
    await cached.markets()
    await clock.advance(2)
    await cached.markets()

    assert inner.calls["markets"] == 2
    assert cached.stats()["markets"] == {"hits": 1, "misses": 2, "size": 1}


async def test_book_ttl_is_short_and_keyed_by_market_and_depth(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)

    first = await cached.order_book("xusdt", 10)
    again = await cached.order_book("xusdt", 10)
    other_depth = await cached.order_book("xusdt", 5)
    await clock.advance(1.0)
    fresh = await cached.order_book("xusdt", 10)

    assert first == again
    assert other_depth != first
    assert fresh.best_bid == Decimal(3)
    assert cached.stats()["order_book"]["hits"] == 1
    assert inner.calls["order_book"] == 3


async def test_single_ticker_is_served_from_fresh_all_tickers(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)

    await cached.tickers()
    one = await cached.ticker("xusdt")
    await clock.advance(2.5)
    two = await cached.ticker("xusdt")

    assert one.last == Decimal(1)
    assert two.last == Decimal(2)
    assert inner.calls["ticker"] == 1
    assert inner.calls["tickers"] == 1


async def test_private_reads_and_writes_pass_through(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)
    request = OrderRequest("sb-a-1", "xusdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal(1))

    balances = [await cached.balances(), await cached.balances()]
    await cached.place_order(request)
    await cached.close()

    assert balances[0] != balances[1]
    assert inner.calls["balances"] == 2
    assert inner.calls["place_order"] == 1
    assert inner.calls["close"] == 1


async def test_a_write_drops_that_markets_book(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)
    request = OrderRequest("sb-a-1", "xusdt", Side.SELL, OrderType.LIMIT, Decimal(1), Decimal(1))

    await cached.order_book("xusdt")
    await cached.place_order(request)
    await cached.order_book("xusdt")
    await cached.cancel_order("1")
    await cached.order_book("xusdt")

    assert inner.calls["order_book"] == 3


async def test_errors_are_not_cached(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)
    inner.fail_next = True

    with contextlib.suppress(ExchangeUnavailable):
        await cached.order_book("xusdt")
    book = await cached.order_book("xusdt")

    assert book.best_bid == Decimal(2)
    assert cached.stats()["order_book"]["misses"] == 2


async def test_concurrent_misses_make_one_request(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)

    books = await asyncio.gather(*(cached.order_book("xusdt") for _ in range(5)))

    assert len({b.best_bid for b in books}) == 1
    assert inner.calls["order_book"] == 1
    assert cached.stats()["order_book"] == {"hits": 4, "misses": 1, "size": 1}


async def test_invalidate_drops_everything(clock: VirtualClock) -> None:
    cached, inner = _cached(clock)
    await cached.markets()
    await cached.tickers()

    cached.invalidate()
    await cached.markets()
    await cached.tickers()

    assert inner.calls["markets"] == 2
    assert inner.calls["tickers"] == 2
