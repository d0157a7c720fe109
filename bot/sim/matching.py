"""Matching: a taker walks the merged book (explicit orders + model background), trades settle.

At one price the background liquidity is ahead of explicit orders: an order of ours resting
at a price fills only after the visible depth ahead of it at that price is gone. Fees are
charged on what the order receives (quote for sells, base for buys), maker or taker rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

from bot.domain.market import Market
from bot.domain.money import ZERO
from bot.domain.orders import Side
from bot.sim.accounts import Account
from bot.sim.book import Book
from bot.sim.market_model import MarketModel
from bot.sim.records import CANCEL, DONE, SimFill, SimOrder, SimTrade, TradeRow
from bot.sim.tape import KEEP_MINUTES, Tape

SimEvent = SimOrder | SimFill | SimTrade
Listener = Callable[[str, SimEvent], None]  # (account key or "" for public, event)


class MarketBook:
    """Everything the engine keeps about one market."""

    __slots__ = ("book", "lot", "market", "model", "synced_at", "tape", "tick", "units")

    def __init__(
        self,
        market: Market,
        model: MarketModel | None,
        start: float,
        *,
        keep_minutes: int = KEEP_MINUTES,
    ) -> None:
        self.market = market
        self.lot = market.lot
        self.tick = market.tick
        self.units = f"{market.base}/{market.quote}"
        self.book = Book(market.id)
        self.model = model
        self.tape = Tape(
            market.id,
            start=start,
            amount_precision=market.amount_precision,
            keep_minutes=keep_minutes,
        )
        self.synced_at = start

    def mid(self) -> Decimal | None:
        if self.model is not None:
            return self.model.mid_price()
        bid, ask = self.book.bids.best_price(), self.book.asks.best_price()
        if bid is None or ask is None:
            return bid if ask is None else ask
        return (bid + ask) / 2


_SELL = Side.SELL


def _fee(order: SimOrder | None, amount: Decimal, total: Decimal, rate: Decimal) -> Decimal:
    """Return what ``order`` pays on its side of a trade: charged on what it receives."""
    if order is None or not rate:
        return ZERO
    return (total if order.side is _SELL else amount) * rate


def _better_or_equal(resting: Side, a: Decimal, b: Decimal) -> bool:
    """Return whether price ``a`` is at least as good as ``b`` for a taker of resting ``side``."""
    return a >= b if resting is Side.BUY else a <= b


class Matcher:
    """Walks books and settles trades into accounts."""

    def __init__(
        self,
        accounts: dict[str, Account],
        books: dict[str, MarketBook],
        *,
        taker_fee: Decimal,
        maker_fee: Decimal,
        listeners: list[Listener],
    ) -> None:
        self.accounts = accounts
        self.books = books
        self.taker_fee = taker_fee
        self.maker_fee = maker_fee
        self.listeners = listeners
        self.trade_ids = itertools.count(1)
        self.now = 0.0

    def emit(self, key: str, event: SimEvent) -> None:
        for listener in self.listeners:
            listener(key, event)

    def take(
        self,
        mb: MarketBook,
        taker: SimOrder | None,
        side: Side,
        limit: Decimal | None,
        amount: Decimal,
    ) -> None:
        """Walk the opposite side for up to ``amount``."""
        model = mb.model
        if model is None:
            self._take_explicit(mb, taker, side, limit, amount)
            return
        resting = Side.SELL if side is Side.BUY else Side.BUY
        opp = mb.book.opposite(side)
        bg = model.levels(resting)
        bg_level = next(bg, None)
        left = amount
        while left > ZERO:
            ep = opp.best_price()
            if bg_level is not None and (ep is None or _better_or_equal(resting, bg_level[0], ep)):
                price, avail = bg_level
                if limit is not None and not _better_or_equal(resting, price, limit):
                    break
                qty = left if left < avail else avail
                self._trade(mb, None, taker, side, price, qty)
                model.consume(resting, qty)
                left -= qty
                bg_level = next(bg, None) if qty == avail else (price, avail - qty)
            elif ep is not None:
                if limit is not None and not _better_or_equal(resting, ep, limit):
                    break
                maker = opp.front()
                if maker is None:
                    break
                qty = left if left < maker.remaining else maker.remaining
                self._trade(mb, maker, taker, side, ep, qty)
                opp.fill_front(qty)
                left -= qty
            else:
                break

    def _take_explicit(
        self,
        mb: MarketBook,
        taker: SimOrder | None,
        side: Side,
        limit: Decimal | None,
        amount: Decimal,
    ) -> None:
        # the hot path when there is no background: price-time walk of the explicit book
        buying = side is not _SELL
        opp = mb.book.asks if buying else mb.book.bids
        left = amount
        while left > ZERO:
            level = opp.best_level()
            if level is None:
                break
            price = level.price
            if limit is not None and (price > limit if buying else price < limit):
                break
            maker = level.orders[0]
            qty = left if left < maker.remaining else maker.remaining
            self._trade(mb, maker, taker, side, price, qty)
            opp.fill_front(qty)
            left -= qty

    def uncross(self, mb: MarketBook) -> None:
        """Let the background trade with explicit orders its moving touch now crosses."""
        model = mb.model
        if model is None:
            return
        # asked after every market event: first whether the touch reaches the best explicit
        # price at all (a level is dropped when its last live order goes)
        best = mb.book.asks.best_price()
        if best is not None and model.reaches(Side.BUY, best):
            self._uncross_side(mb, model, Side.SELL)
        best = mb.book.bids.best_price()
        if best is not None and model.reaches(Side.SELL, best):
            self._uncross_side(mb, model, Side.BUY)

    def _uncross_side(self, mb: MarketBook, model: MarketModel, explicit: Side) -> None:
        side = mb.book.side(explicit)
        background = Side.BUY if explicit is Side.SELL else Side.SELL
        while True:
            maker = side.front()
            if maker is None or maker.price is None or not model.reaches(background, maker.price):
                return
            available = ZERO
            for price, amount in model.levels(background):
                if not _better_or_equal(background, price, maker.price):
                    break
                available += amount
                if available >= maker.remaining:
                    break
            if available <= 0:
                return
            qty = min(available, maker.remaining)
            self._trade(mb, maker, None, background, maker.price, qty)
            model.consume(background, qty)
            side.fill_front(qty)

    def _trade(
        self,
        mb: MarketBook,
        maker: SimOrder | None,
        taker: SimOrder | None,
        taker_side: Side,
        price: Decimal,
        amount: Decimal,
    ) -> None:
        total = amount * price
        maker_fee = _fee(maker, amount, total, self.maker_fee)
        taker_fee = _fee(taker, amount, total, self.taker_fee)
        maker_id = 0 if maker is None else maker.id
        taker_id = 0 if taker is None else taker.id
        trade: TradeRow = (
            next(self.trade_ids), price, amount, taker_side is _SELL, self.now,
            maker_id, taker_id, maker_fee, taker_fee, mb.units,
        )  # fmt: skip
        mb.tape.record_trade(trade, total)
        market = mb.market
        if maker is not None:
            self._settle(market, maker, trade, amount, total, maker_fee)
        if taker is not None:
            self._settle(market, taker, trade, amount, total, taker_fee)
        if self.listeners:
            self.emit("", SimTrade.from_row(market.id, trade))

    def _settle(
        self,
        market: Market,
        order: SimOrder,
        trade: TradeRow,
        amount: Decimal,
        total: Decimal,
        fee: Decimal,
    ) -> None:
        """Apply one side of ``trade`` (``amount`` for ``total``, less ``fee``) to ``order``."""
        # the hot path of matching: plain dict arithmetic, no helper calls
        acct = self.accounts[order.account]
        remaining = order.remaining = order.remaining - amount
        order.executed += amount
        order.funds += total
        order.updated_at = self.now
        available = acct.available
        if order.side is _SELL:
            order.locked -= amount
            acct.locked[market.base] -= amount
            currency = market.quote
            available[currency] = available.get(currency, ZERO) + (total - fee)
        else:
            order.locked -= total
            acct.locked[market.quote] -= total
            currency = market.base
            available[currency] = available.get(currency, ZERO) + (amount - fee)
        order.fills += (trade,)
        if not remaining:  # a trade takes at most what remains: never below zero
            self._close(acct, market, order, DONE)
        if self.listeners:
            self.emit(order.account, order.fill_record(trade))
            self.emit(order.account, order)

    def finish(self, order: SimOrder, state: str) -> None:
        """Move an order to a final state and release what it still holds."""
        self._close(self.accounts[order.account], self.books[order.market].market, order, state)

    def _close(self, acct: Account, market: Market, order: SimOrder, state: str) -> None:
        order.state = state
        order.updated_at = self.now
        locked = order.locked
        if locked:
            currency = market.base if order.side is _SELL else market.quote
            acct.locked[currency] -= locked
            acct.available[currency] = acct.available.get(currency, ZERO) + locked
            order.locked = ZERO
        del acct.open[order.id]

    def cancel(self, mb: MarketBook, order: SimOrder) -> None:
        mb.book.side(order.side).remove(order)
        self.finish(order, CANCEL)
