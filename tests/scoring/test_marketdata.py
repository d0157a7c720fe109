"""build_snapshot over the simulator: what it fetches, and how many requests a pass costs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.balances import Balance, Classification
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState
from bot.exchange.cached import CachedExchange
from bot.exchange.errors import ExchangeUnavailable
from bot.exchange.port import Exchange
from bot.prioritisation.marketdata import VolatilityCache, build_snapshot
from bot.prioritisation.scoring import ScoreWeights, prioritise
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.engine import MatchingEngine
from bot.sim.exchange import SimExchange
from bot.sim.market_params import MarketParams

D = Decimal
EXCLUDED = frozenset({"btc"})


class CountingExchange:
    """The ``Exchange`` port, counting every call before passing it on (a fake, not a mock)."""

    def __init__(self, inner: Exchange, *, failing_books: frozenset[str] = frozenset()) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.books: list[str] = []
        self._failing_books = failing_books

    async def server_time(self) -> datetime:
        self.calls["server_time"] += 1
        return await self.inner.server_time()

    async def markets(self) -> list[Market]:
        self.calls["markets"] += 1
        return await self.inner.markets()

    async def tickers(self) -> dict[str, Ticker]:
        self.calls["tickers"] += 1
        return await self.inner.tickers()

    async def ticker(self, market: str) -> Ticker:
        self.calls["ticker"] += 1
        return await self.inner.ticker(market)

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        self.calls["order_book"] += 1
        self.books.append(market)
        if market in self._failing_books:
            raise ExchangeUnavailable("scripted 503")
        return await self.inner.order_book(market, depth)

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        self.calls["public_trades"] += 1
        return await self.inner.public_trades(market, limit)

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        self.calls["candles"] += 1
        return await self.inner.candles(market, period_min, time_from, time_to)

    async def balances(self) -> list[Balance]:
        self.calls["balances"] += 1
        return await self.inner.balances()

    async def place_order(self, request: OrderRequest) -> Order:
        self.calls["place_order"] += 1
        return await self.inner.place_order(request)

    async def get_order(self, order_id: str) -> Order:
        self.calls["get_order"] += 1
        return await self.inner.get_order(order_id)

    async def find_order(self, market: str, client_id: str) -> Order | None:
        self.calls["find_order"] += 1
        return await self.inner.find_order(market, client_id)

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        self.calls["orders"] += 1
        return await self.inner.orders(market, state, page=page, limit=limit)

    async def open_orders(self, market: str | None = None) -> list[Order]:
        self.calls["open_orders"] += 1
        return await self.inner.open_orders(market)

    async def order_trades(self, order_id: str) -> list[Fill]:
        self.calls["order_trades"] += 1
        return await self.inner.order_trades(order_id)

    async def cancel_order(self, order_id: str) -> Order:
        self.calls["cancel_order"] += 1
        return await self.inner.cancel_order(order_id)

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        self.calls["cancel_all"] += 1
        return await self.inner.cancel_all(market)

    async def close(self) -> None:
        await self.inner.close()


def add_synthetic_markets(engine: MatchingEngine, count: int) -> list[str]:
    """Add ``count`` living USDT markets with balances: a third dust, the rest sellable."""
    bases = []
    for i in range(count):
        base = f"syn{i:03d}"
        mid = D(1 + i % 50) / 10
        market = Market(
            id=f"{base}usdt",
            base=base,
            quote="usdt",
            amount_precision=2,
            price_precision=4,
            min_amount=D(1),
            min_value=D(1),
        )
        params = MarketParams(
            mid0=mid,
            price_precision=4,
            amount_precision=2,
            sigma_per_s=0.0005,
            half_spread_bps=15.0,
            d0=D(200),
            level_ticks=3,
            min_amount=D(1),
            min_value=D(1),
            step_s=5.0,
        )
        engine.add_market(market, params, seed=i)
        engine.deposit(DEMO_KEY, base, D("0.5") if i % 3 == 0 else D(100 + i))
        bases.append(base)
    return bases


async def demo_exchange(clock: VirtualClock, synthetic: int = 0) -> tuple[SimExchange, int]:
    engine, _ = build_demo_engine(clock, seed=7)
    add_synthetic_markets(engine, synthetic)
    for i in range(synthetic // 10):  # balances with no market at all
        engine.deposit(DEMO_KEY, f"nomkt{i}", D(5))
    await clock.advance(600)  # ten minutes of k-lines
    return SimExchange(engine, DEMO_KEY, clock=clock), synthetic // 10


async def test_demo_account_is_fetched_and_classified(clock: VirtualClock) -> None:
    sim, _ = await demo_exchange(clock)
    counting = CountingExchange(sim)
    balances = await sim.balances()

    snapshot = await build_snapshot(
        counting, balances, quote="usdt", excluded=EXCLUDED, clock=clock, min_value=D(1)
    )
    scores = {s.currency: s for s in prioritise(snapshot, weights=ScoreWeights(), min_value=D(1))}

    assert {c: s.classification for c, s in scores.items()} == {
        "btc": Classification.EXCLUDED,
        "usdt": Classification.EXCLUDED,
        "eth": Classification.SELL,
        "qubic": Classification.SELL,
        "xyo": Classification.SELL,
        "doge": Classification.DUST,
        "luna": Classification.MARKET_DISABLED,
        "ltc": Classification.NO_MARKET,
    }
    assert sorted(counting.books) == ["ethusdt", "qubicusdt", "xyousdt"]
    assert set(snapshot.volatility_bps_per_hour) == {"ethusdt", "qubicusdt", "xyousdt"}
    assert scores["eth"].components["volatility_bps_per_hour"] != "unknown"


async def test_a_pass_over_200_balances_makes_two_requests_plus_two_per_candidate(
    clock: VirtualClock,
) -> None:
    sim, _ = await demo_exchange(clock, synthetic=175)
    balances = await sim.balances()
    counting = CountingExchange(sim)

    snapshot = await build_snapshot(
        counting, balances, quote="usdt", excluded=EXCLUDED, clock=clock, min_value=D(1)
    )
    scores = prioritise(snapshot, weights=ScoreWeights(), min_value=D(1))

    sells = {s.market for s in scores if s.classification is Classification.SELL}
    candidates = len(counting.books)
    print(f"balances={len(balances)} candidates={candidates} requests={dict(counting.calls)}")
    assert len(balances) == 200
    assert counting.calls == Counter(
        markets=1, tickers=1, order_book=candidates, candles=candidates
    )
    assert set(counting.books) == sells
    assert candidates == len(sells) == 3 + 116


async def test_second_pass_is_served_by_the_caches(clock: VirtualClock) -> None:
    sim, _ = await demo_exchange(clock, synthetic=175)
    balances = await sim.balances()
    counting = CountingExchange(sim)
    cached = CachedExchange(counting, clock)
    volatility = VolatilityCache(clock, ttl_s=300)

    async def one_pass() -> None:
        await build_snapshot(
            cached,
            balances,
            quote="usdt",
            excluded=EXCLUDED,
            clock=clock,
            min_value=D(1),
            volatility_cache=volatility,
        )

    await one_pass()
    first = Counter(counting.calls)
    await one_pass()  # same instant: everything cached
    second = counting.calls - first
    await clock.advance(30)  # tickers and books stale, markets and volatility fresh
    await one_pass()
    third = counting.calls - first - second

    print(f"first={dict(first)} second={dict(second)} third={dict(third)}")
    assert second == Counter()
    assert third == Counter(tickers=1, order_book=first["order_book"])


async def test_failed_book_leaves_the_market_scored_from_its_ticker(clock: VirtualClock) -> None:
    sim, _ = await demo_exchange(clock)
    counting = CountingExchange(sim, failing_books=frozenset({"ethusdt"}))

    snapshot = await build_snapshot(
        counting, await sim.balances(), quote="usdt", excluded=EXCLUDED, clock=clock, min_value=D(1)
    )
    scores = {s.currency: s for s in prioritise(snapshot, weights=ScoreWeights(), min_value=D(1))}

    assert "ethusdt" not in snapshot.books
    assert scores["eth"].classification is Classification.SELL
    assert scores["eth"].components["depth_5pct_quote"] == "unknown"


async def test_max_candidates_keeps_the_largest_estimated_values(clock: VirtualClock) -> None:
    sim, _ = await demo_exchange(clock)
    counting = CountingExchange(sim)

    await build_snapshot(
        counting,
        await sim.balances(),
        quote="usdt",
        excluded=EXCLUDED,
        clock=clock,
        min_value=D(1),
        max_candidates=1,
    )

    assert counting.books == ["ethusdt"]
