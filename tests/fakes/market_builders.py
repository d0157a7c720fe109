"""Builders for markets, books, tickers and snapshots used by scoring and advisor tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from bot.domain.balances import Balance
from bot.domain.market import BookLevel, Market, MarketState, OrderBook, Ticker
from bot.prioritisation.scoring import MarketSnapshot

AT = datetime(2026, 1, 1, tzinfo=UTC)
D = Decimal


def make_market(
    base: str = "abc",
    *,
    quote: str = "usdt",
    min_amount: str = "0.1",
    min_value: str = "0",
    state: MarketState = MarketState.ENABLED,
) -> Market:
    return Market(
        id=f"{base}{quote}",
        base=base,
        quote=quote,
        amount_precision=4,
        price_precision=6,
        min_amount=D(min_amount),
        min_value=D(min_value),
        state=state,
    )


def make_book(
    market: str,
    *,
    mid: str = "1",
    spread_bps: str = "20",
    levels: int = 20,
    step_bps: str = "25",
    amount: str = "100",
) -> OrderBook:
    """Return a symmetric book: ``levels`` per side, ``step_bps`` apart, ``amount`` each."""
    m, half, step = D(mid), D(spread_bps) / 2 / 10_000, D(step_bps) / 10_000
    bids = tuple(BookLevel(m * (1 - half - step * k), D(amount)) for k in range(levels))
    asks = tuple(BookLevel(m * (1 + half + step * k), D(amount)) for k in range(levels))
    return OrderBook(market, bids, asks, AT)


def make_ticker(
    market: str,
    *,
    last: str = "1",
    bid: str | None = None,
    ask: str | None = None,
    quote_volume: str = "100000",
    high: str = "1.05",
    low: str = "0.95",
) -> Ticker:
    return Ticker(
        market=market,
        last=D(last),
        high=D(high),
        low=D(low),
        open=D(last),
        volume=D(0),
        quote_volume=D(quote_volume),
        at=AT,
        best_bid=D(bid) if bid else None,
        best_ask=D(ask) if ask else None,
    )


def balance(currency: str, available: str) -> Balance:
    return Balance(currency, D(available), D(0))


def make_snapshot(
    balances: Iterable[Balance],
    markets: Iterable[Market],
    *,
    books: Iterable[OrderBook] = (),
    tickers: Iterable[Ticker] = (),
    volatility: dict[str, Decimal] | None = None,
    excluded: frozenset[str] = frozenset(),
) -> MarketSnapshot:
    return MarketSnapshot(
        quote="usdt",
        balances=tuple(balances),
        markets={m.id: m for m in markets},
        tickers={t.market: t for t in tickers},
        books={b.market: b for b in books},
        volatility_bps_per_hour=volatility or {},
        excluded=excluded,
    )


def liquid_market(
    base: str,
    *,
    mid: str = "1",
    spread_bps: str = "20",
    amount: str = "100",
    volatility: str = "50",
) -> tuple[Market, OrderBook, Ticker, Decimal]:
    """Return a market with a book and ticker around ``mid``, and its volatility."""
    market = make_market(base)
    book = make_book(market.id, mid=mid, spread_bps=spread_bps, amount=amount)
    return market, book, make_ticker(market.id, last=mid), D(volatility)
