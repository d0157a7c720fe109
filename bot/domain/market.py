"""Markets and market data in the bot's own terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from bot.domain.money import BPS, ZERO, step


class MarketState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Market:
    """A spot market: precisions are decimals; ``min_value`` is the minimum notional in quote."""

    id: str
    base: str
    quote: str
    amount_precision: int
    price_precision: int
    min_amount: Decimal
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO
    min_value: Decimal = ZERO
    state: MarketState = MarketState.ENABLED

    @property
    def tick(self) -> Decimal:
        return step(self.price_precision)

    @property
    def lot(self) -> Decimal:
        return step(self.amount_precision)

    @property
    def enabled(self) -> bool:
        return self.state is MarketState.ENABLED


@dataclass(frozen=True, slots=True)
class Ticker:
    market: str
    last: Decimal
    high: Decimal
    low: Decimal
    open: Decimal
    volume: Decimal  # base volume, 24 h
    quote_volume: Decimal  # quote volume, 24 h
    at: datetime
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None


class BookLevel(NamedTuple):
    """One price level (a tuple: books are built by the thousand per second in backtests)."""

    price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Bids descending, asks ascending."""

    market: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    at: datetime | None = None
    sequence: int | None = None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return bid if ask is None else ask
        return (bid + ask) / 2

    @property
    def spread_bps(self) -> Decimal | None:
        bid, ask, mid = self.best_bid, self.best_ask, self.mid
        if bid is None or ask is None or not mid:
            return None
        return (ask - bid) / mid * BPS

    def bid_depth_within(self, pct: Decimal) -> Decimal:
        """Return the bid-side quote depth within ``pct`` (0.01 = 1%) of the mid price."""
        mid = self.mid
        if mid is None:
            return ZERO
        floor = mid * (1 - pct)
        return sum((lv.price * lv.amount for lv in self.bids if lv.price >= floor), ZERO)

    def bid_amount(self) -> Decimal:
        return sum((lv.amount for lv in self.bids), ZERO)

    def sell_proceeds(self, amount: Decimal) -> tuple[Decimal, Decimal]:
        """Return (proceeds, amount filled) of selling ``amount`` into the bids at once."""
        left, proceeds = amount, ZERO
        for lv in self.bids:
            take = min(left, lv.amount)
            proceeds += take * lv.price
            left -= take
            if left <= 0:
                break
        return proceeds, amount - left


@dataclass(frozen=True, slots=True)
class PublicTrade:
    id: str
    market: str
    price: Decimal
    amount: Decimal
    taker_side: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Candle:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
