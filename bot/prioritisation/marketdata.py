"""Fetch what the prioritiser needs, and no more.

A pass makes, through the ``Exchange`` port (normally a ``CachedExchange``):

1. ``markets()`` — one request (cached for an hour by ``CachedExchange``);
2. ``tickers()`` — every ticker in one request;
3. for each *candidate* only: ``order_book(market)`` and, unless the volatility cache has a
   fresh figure, ``candles(market, 1 min, last hour)``.

A candidate is a balance with available amount, not excluded, on an enabled market into the
quote currency, at or above the market's minimum amount, and not clearly dust at the ticker
price (worth less than half the minimum value at the best bid, or the last price when the
ticker has no bid). The final classification is ``scoring``'s, on the book's best bid.

Volatility is the per-hour realised volatility of 1-minute k-line closes over the last hour
(``scoring.volatility_bps_per_hour``); with fewer than three k-lines it falls back to the
ticker's 24 h high/low range (``scoring.range_volatility_bps_per_hour``). A failed book or
k-line request leaves that market to be scored from its ticker, never fails the pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import structlog

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Market, OrderBook, Ticker
from bot.domain.money import ZERO
from bot.exchange.errors import ExchangeError
from bot.exchange.port import Exchange
from bot.prioritisation.scoring import (
    MarketSnapshot,
    index_markets,
    range_volatility_bps_per_hour,
    volatility_bps_per_hour,
    with_market_facts,
)

log = structlog.get_logger(__name__)

CANDLE_PERIOD_MIN = 1
CANDLE_WINDOW_MIN = 60
DUST_MARGIN = 2  # a balance is clearly dust when worth < minimum / DUST_MARGIN at the ticker


class VolatilityCache:
    """Per-market volatility kept ``ttl_s`` on the clock: it moves slowly, k-lines cost a call."""

    def __init__(self, clock: Clock, ttl_s: float = 300.0) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Decimal | None]] = {}

    def get(self, market: str) -> tuple[bool, Decimal | None]:
        """Return (found, volatility); found is False when absent or stale."""
        entry = self._entries.get(market)
        if entry is None or self._clock.monotonic() >= entry[0]:
            return False, None
        return True, entry[1]

    def put(self, market: str, volatility: Decimal | None) -> None:
        self._entries[market] = (self._clock.monotonic() + self._ttl_s, volatility)


@dataclass(frozen=True, slots=True)
class _Fetched:
    market: str
    book: OrderBook | None
    volatility: Decimal | None


async def build_snapshot(
    exchange: Exchange,
    balances: Iterable[Balance],
    *,
    quote: str,
    excluded: frozenset[str],
    clock: Clock,
    min_value: Decimal = ZERO,
    book_depth: int = 50,
    max_candidates: int | None = None,
    max_concurrency: int = 8,
    volatility_cache: VolatilityCache | None = None,
) -> MarketSnapshot:
    """Fetch markets, all tickers, and books and volatility for candidate markets only."""
    held = tuple(balances)
    quote = quote.lower()
    excluded = frozenset(c.lower() for c in excluded)
    markets = await exchange.markets()
    tickers = await exchange.tickers()
    candidates = candidate_markets(
        held,
        index_markets(markets, quote),
        tickers,
        excluded=excluded | {quote},
        min_value=min_value,
    )
    if max_candidates is not None:
        candidates = candidates[:max_candidates]
    limit = asyncio.Semaphore(max(1, max_concurrency))
    cache = volatility_cache or VolatilityCache(clock, ttl_s=0)

    async def fetch(market: str) -> _Fetched:
        async with limit:
            book = await _book(exchange, market, book_depth)
            volatility = await _volatility(exchange, market, tickers.get(market), clock, cache)
        return _Fetched(market, book, volatility)

    fetched = await asyncio.gather(*(fetch(m) for m in candidates))
    snapshot = MarketSnapshot(
        quote=quote,
        balances=held,
        markets={m.id: m for m in markets},
        tickers=tickers,
        books={f.market: f.book for f in fetched if f.book is not None},
        volatility_bps_per_hour={
            f.market: f.volatility for f in fetched if f.volatility is not None
        },
        excluded=excluded,
        at=clock.now(),
    )
    return with_market_facts(snapshot)


def candidate_markets(
    balances: Iterable[Balance],
    by_base: Mapping[str, Market],
    tickers: Mapping[str, Ticker],
    *,
    excluded: frozenset[str],
    min_value: Decimal,
) -> list[str]:
    """Return the markets worth a book request, largest estimated value first."""
    found: list[tuple[Decimal, str]] = []
    for balance in balances:
        currency = balance.currency.lower()
        market = by_base.get(currency)
        if currency in excluded or market is None or not market.enabled:
            continue
        amount = balance.available
        if amount <= 0 or amount < market.min_amount:
            continue
        estimate = _estimate(amount, tickers.get(market.id))
        floor = max(market.min_value, min_value)
        if estimate is not None and estimate * DUST_MARGIN < floor:
            continue
        found.append((estimate if estimate is not None else ZERO, market.id))
    found.sort(key=lambda e: (-e[0], e[1]))
    return [market for _, market in found]


def _estimate(amount: Decimal, ticker: Ticker | None) -> Decimal | None:
    if ticker is None:
        return None
    price = ticker.best_bid if ticker.best_bid is not None else ticker.last
    return amount * price


async def _book(exchange: Exchange, market: str, depth: int) -> OrderBook | None:
    try:
        return await exchange.order_book(market, depth)
    except ExchangeError as e:
        log.warning("order_book_unavailable", market=market, error=str(e))
        return None


async def _volatility(
    exchange: Exchange, market: str, ticker: Ticker | None, clock: Clock, cache: VolatilityCache
) -> Decimal | None:
    found, cached = cache.get(market)
    if found:
        return cached
    now = int(clock.time())
    try:
        candles = await exchange.candles(
            market, CANDLE_PERIOD_MIN, now - CANDLE_WINDOW_MIN * 60, now
        )
    except ExchangeError as e:
        log.warning("candles_unavailable", market=market, error=str(e))
        candles = []
    volatility = volatility_bps_per_hour([c.close for c in candles], CANDLE_PERIOD_MIN)
    if volatility is None and ticker is not None:
        volatility = range_volatility_bps_per_hour(ticker)
    cache.put(market, volatility)
    return volatility
