"""The matching engine: markets, accounts, orders, fills, market data; clock-stamped, no I/O.

Time is lazy: every operation first calls ``sync`` which advances the market models from
their last time to ``clock.time()``, so the engine runs the same on a ``SystemClock`` and a
``VirtualClock`` without a background task. Refusals raise ``SimError(status, code)`` with
Peatio's codes; the server turns them into ``{"errors": [code]}``.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import BookLevel, Candle, Market, MarketState, OrderBook, Ticker
from bot.domain.money import MONEY_CONTEXT, ZERO
from bot.domain.orders import Order, OrderType, Side
from bot.sim.accounts import Account
from bot.sim.market_model import MarketModel
from bot.sim.market_params import MarketParams
from bot.sim.matching import Listener, MarketBook, Matcher
from bot.sim.records import CANCEL, WAIT, SimError, SimFill, SimOrder, SimTrade, to_datetime
from bot.sim.tape import KEEP_MINUTES

NOT_FOUND = "record.not_found"
NO_MARKET = "market.market.doesnt_exist"
BAD_VOLUME_OR_PRICE = "market.order.invalid_volume_or_price"
NON_POSITIVE_VOLUME = "market.order.non_positive_volume"
NON_POSITIVE_PRICE = "market.order.non_positive_price"
MARKET_ORDER_PRICE = "market.order.market_order_price"
NO_LIQUIDITY = "market.order.insufficient_market_liquidity"
DUPLICATE_CLIENT_ID = "market.order.duplicate_client_id"


_PRUNE_EVERY_S = 3600.0
_ONLY_WAIT = frozenset({WAIT})


class MatchingEngine:
    """A local SafeTrade: one engine behind both the in-process and the HTTP front door."""

    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        *,
        fee_rate: Decimal = Decimal("0.002"),
        maker_fee_rate: Decimal | None = None,
        keep_minutes: int = KEEP_MINUTES,
        order_history_s: float | None = None,
        echo_client_ids: bool = True,
    ) -> None:
        """``keep_minutes`` of k-line buckets are kept per market; with ``order_history_s``
        finished orders older than that are forgotten (checked once per simulated hour), so
        a simulator that runs for days stays the same size; by default every order is kept.
        ``echo_client_ids=False`` plays an exchange that neither stores nor echoes a client
        id (orders are found only by id or by their shape).
        """
        self.echo_client_ids = echo_client_ids
        self.clock = clock
        self._keep_minutes = keep_minutes
        self._order_history_s = order_history_s
        self._pruned_at = clock.time()
        self._rng = rng
        self._books: dict[str, MarketBook] = {}
        self._accounts: dict[str, Account] = {}
        self._orders: dict[int, SimOrder] = {}
        self._next_order_id = 1
        self._baseline: dict[str, Decimal] = {}
        self.listeners: list[Listener] = []
        self._matcher = Matcher(
            self._accounts,
            self._books,
            taker_fee=fee_rate,
            maker_fee=fee_rate if maker_fee_rate is None else maker_fee_rate,
            listeners=self.listeners,
        )

    # setup

    def add_market(
        self,
        market: Market,
        params: MarketParams | None = None,
        *,
        seed: int | str | None = None,
        shared_path: bool = False,
    ) -> None:
        """Add a market; with ``params`` it gets a living background market seeded by ``seed``
        (``shared_path``: drawn once per process for every engine with this market, seed and
        start, see ``exogenous.py``)."""
        now = self.clock.time()
        if seed is None:
            seed = self._rng.getrandbits(64)
        model = (
            MarketModel(market.id, params, seed, now, shared=shared_path)
            if params is not None
            else None
        )
        mb = MarketBook(market, model, now, keep_minutes=self._keep_minutes)
        self._books[market.id] = mb
        self._baseline[market.id] = params.daily_volume if params is not None else ZERO
        if model is not None:
            mb.tape.record_price(now, model.mid_price())

    def set_market_state(self, market_id: str, state: MarketState) -> None:
        mb = self._book(market_id)
        mb.market = replace(mb.market, state=state)

    def account(self, key: str) -> Account:
        """Return the account of ``key``, creating it empty."""
        acct = self._accounts.get(key)
        if acct is None:
            acct = self._accounts[key] = Account(key)
        return acct

    def deposit(self, key: str, currency: str, amount: Decimal) -> None:
        self.account(key).deposit(currency, amount)

    def has_account(self, key: str) -> bool:
        return key in self._accounts

    def model(self, market_id: str) -> MarketModel | None:
        return self._book(market_id).model

    # time

    def sync(self, market_id: str | None = None) -> float:
        """Advance the market models (one market, or all) to the clock; return the time."""
        now = self.clock.time()
        self._matcher.now = now
        books = self._books.values() if market_id is None else (self._book(market_id),)
        for mb in books:
            if mb.synced_at < now:
                self._advance(mb, now)
        if self._order_history_s is not None and now - self._pruned_at >= _PRUNE_EVERY_S:
            self._forget_orders_before(now - self._order_history_s)
            self._pruned_at = now
        return now

    def _forget_orders_before(self, cutoff: float) -> None:
        """Drop finished orders last updated before ``cutoff`` (open orders always stay)."""
        for acct in self._accounts.values():
            for order_id in acct.forget_finished(cutoff):
                self._orders.pop(order_id, None)

    def _advance(self, mb: MarketBook, now: float) -> None:
        model, matcher = mb.model, self._matcher
        if model is not None:
            # only explicit orders can be crossed by the moving touch, and none can arrive
            # while the market advances (fills only take them away)
            crossable = bool(mb.book.bids or mb.book.asks)
            for event in model.events_until(now):
                matcher.now = model.t
                if event is None:
                    mb.tape.record_price(model.t, model.mid_price())
                else:
                    matcher.take(mb, None, event.side, None, event.amount)
                if crossable:
                    matcher.uncross(mb)
            matcher.now = now
            matcher.uncross(mb)
        mb.synced_at = now

    def _book(self, market_id: str) -> MarketBook:
        mb = self._books.get(market_id)
        if mb is None:
            raise SimError(404, NOT_FOUND)
        return mb

    # trading

    def place_order(
        self,
        key: str,
        market_id: str,
        side: Side,
        ord_type: OrderType,
        amount: Decimal,
        price: Decimal | None = None,
        client_id: str | None = None,
    ) -> SimOrder:
        """Validate, lock funds, match and rest (limit) or cancel the rest (market).

        Raises:
            SimError: 422 with Peatio's code for every refusal.
        """
        mb = self._books.get(market_id)
        if mb is None or mb.market.state is not MarketState.ENABLED:
            raise SimError(422, NO_MARKET)
        now = self.clock.time()
        matcher = self._matcher
        matcher.now = now
        if mb.synced_at < now:
            self._advance(mb, now)
        self._validate(mb, ord_type, amount, price)
        acct = self._accounts.get(key) or self.account(key)
        if not self.echo_client_ids:
            client_id = None
        if client_id is not None and client_id in acct.by_client:
            raise SimError(422, DUPLICATE_CLIENT_ID)
        order = SimOrder(
            self._next_order_id, key, market_id, side, ord_type, price, amount, client_id, now
        )
        self._lock(mb, acct, order)
        self._next_order_id += 1
        self._orders[order.id] = order
        acct.orders.append(order)
        acct.open[order.id] = order
        if client_id is not None:
            acct.by_client[client_id] = order
        matcher.take(mb, order, side, price, amount)
        if order.state == WAIT:  # still open: something remains (a filled order is done)
            if ord_type is OrderType.LIMIT:
                (mb.book.asks if side is Side.SELL else mb.book.bids).add(order)
            else:
                matcher.finish(order, CANCEL)
        if self.listeners:
            matcher.emit(key, order)
        return order

    def _validate(
        self, mb: MarketBook, ord_type: OrderType, amount: Decimal, price: Decimal | None
    ) -> None:
        market = mb.market
        if not amount.is_finite() or amount <= ZERO:
            raise SimError(422, NON_POSITIVE_VOLUME)
        if ord_type is OrderType.MARKET:
            if price is not None:
                raise SimError(422, MARKET_ORDER_PRICE)
        elif price is None or not price.is_finite() or price <= ZERO:
            raise SimError(422, NON_POSITIVE_PRICE)
        try:  # the quotient has integer + precision digits: the wide money context holds them
            on_step = not MONEY_CONTEXT.remainder(amount, mb.lot) and (
                price is None or not MONEY_CONTEXT.remainder(price, mb.tick)
            )
        except InvalidOperation:  # past even that context: not a value Peatio stores either
            on_step = False
        ok = on_step and amount >= market.min_amount
        if price is not None:
            ok = ok and price >= market.min_price
            ok = ok and (not market.max_price or price <= market.max_price)
            ok = ok and (not market.min_value or price * amount >= market.min_value)
        if not ok:
            raise SimError(422, BAD_VOLUME_OR_PRICE)

    def _lock(self, mb: MarketBook, acct: Account, order: SimOrder) -> None:
        market = mb.market
        if order.side is Side.SELL:
            acct.lock(market.base, order.origin)
            order.locked = order.origin
            return
        cost = order.price * order.origin if order.price is not None else self._cost(mb, order)
        acct.lock(market.quote, cost)
        order.locked = cost

    def _cost(self, mb: MarketBook, order: SimOrder) -> Decimal:
        """Estimate the quote a market buy needs by walking the asks (Peatio locks that)."""
        left, cost = order.origin, ZERO
        for price, amount in self._book_levels(mb, Side.SELL, 1000):
            take = min(left, amount)
            cost += take * price
            left -= take
            if left <= 0:
                return cost
        raise SimError(422, NO_LIQUIDITY)

    def cancel_order(self, key: str, order_id: int) -> SimOrder:
        """Cancel an open order; an order already final is returned unchanged."""
        order = self._own(key, order_id)
        self.sync(order.market)
        if order.state == WAIT:
            self._matcher.now = self.clock.time()
            self._matcher.cancel(self._books[order.market], order)
            if self.listeners:
                self._matcher.emit(key, order)
        return order

    def cancel_all(self, key: str, market_id: str | None = None) -> list[SimOrder]:
        if market_id is not None:
            self._book(market_id)
        self.sync(market_id)
        acct = self.account(key)
        targets = [o for o in acct.open.values() if market_id is None or o.market == market_id]
        return [self.cancel_order(key, o.id) for o in targets]

    # queries

    def _own(self, key: str, order_id: int) -> SimOrder:
        order = self._orders.get(order_id)
        if order is None or order.account != key:
            raise SimError(404, NOT_FOUND)
        return order

    def get_order(self, key: str, order_id: int) -> SimOrder:
        order = self._own(key, order_id)
        self.sync(order.market)
        return order

    def find_order(self, key: str, client_id: str) -> SimOrder | None:
        order = self.account(key).by_client.get(client_id)
        if order is not None:
            self.sync(order.market)
        return order

    def list_orders(
        self,
        key: str,
        *,
        market: str | None = None,
        state: str | Collection[str] | None = None,
        page: int = 1,
        limit: int = 100,
        client_id: str | None = None,
    ) -> list[SimOrder]:
        """Return one page of the account's orders, newest first (``state``: one or any of)."""
        self.sync(market)
        acct = self.account(key)
        states = None if state is None else frozenset({state} if isinstance(state, str) else state)
        if client_id is not None:
            found = acct.by_client.get(client_id)
            pool: list[SimOrder] = [found] if found is not None else []
        elif states == _ONLY_WAIT:
            pool = list(acct.open.values())
        else:
            pool = acct.orders
        skip, out = (max(page, 1) - 1) * limit, []
        for order in reversed(pool):
            if (market is None or order.market == market) and (
                states is None or order.state in states
            ):
                if skip:
                    skip -= 1
                    continue
                out.append(order)
                if len(out) >= limit:
                    break
        return out

    def open_orders(self, key: str, market: str | None = None) -> list[Order]:
        """Return the account's open orders as domain orders, newest first (test helper)."""
        self.sync(market)
        opened = self.account(key).open.values()
        return [o.to_order() for o in reversed(opened) if market is None or o.market == market]

    def order_fills(self, key: str, order_id: int, start: int = 0) -> list[SimFill]:
        """Return the order's fills, oldest first, from the ``start``-th on."""
        order = self._own(key, order_id)
        self.sync(order.market)
        return order.fill_records(start)

    def account_fills(
        self,
        key: str,
        *,
        market: str | None = None,
        order_id: int | None = None,
        page: int = 1,
        limit: int = 100,
    ) -> list[SimFill]:
        """Return one page of the account's fills, newest first, of one order if given."""
        self.sync(market)
        acct = self.account(key)
        if order_id is not None:
            order = self._orders.get(order_id)
            orders = [order] if order is not None and order.account == key else []
        else:
            orders = acct.orders
        rows = [
            (row, order)
            for order in orders
            if market is None or order.market == market
            for row in order.fills
        ]
        rows.sort(key=lambda pair: pair[0][0], reverse=True)  # trade ids grow with time
        start = (max(page, 1) - 1) * limit
        return [order.fill_record(row) for row, order in rows[start : start + limit]]

    def fee_rates(self) -> tuple[Decimal, Decimal]:
        """Return the (maker, taker) fee rates every market charges."""
        return self._matcher.maker_fee, self._matcher.taker_fee

    def balances(self, key: str) -> list[Balance]:
        self.sync()
        return self.account(key).balances()

    def balance(self, key: str, currency: str) -> Balance:
        self.sync()
        acct = self.account(key)
        return Balance(
            currency, acct.available.get(currency, ZERO), acct.locked.get(currency, ZERO)
        )

    # market data

    def markets(self) -> list[Market]:
        return [mb.market for mb in self._books.values()]

    def market(self, market_id: str) -> Market:
        return self._book(market_id).market

    def mid(self, market_id: str) -> Decimal | None:
        self.sync(market_id)
        return self._book(market_id).mid()

    def ticker(self, market_id: str) -> Ticker:
        mb = self._book(market_id)
        now = self.sync(market_id)
        bid = self._best(mb, Side.BUY)
        ask = self._best(mb, Side.SELL)
        mid = mb.mid()
        return mb.tape.ticker(
            now,
            fallback_price=mid if mid is not None else ZERO,
            best_bid=bid,
            best_ask=ask,
            baseline_volume=self._baseline[market_id],
        )

    def tickers(self) -> dict[str, Ticker]:
        return {m: self.ticker(m) for m in self._books}

    def _best(self, mb: MarketBook, resting: Side) -> Decimal | None:
        levels = self._book_levels(mb, resting, 1)
        return levels[0][0] if levels else None

    def _book_levels(self, mb: MarketBook, resting: Side, depth: int) -> list[BookLevel]:
        explicit = mb.book.side(resting).levels(depth)
        if mb.model is None:
            return [BookLevel(p, a) for p, a in explicit]
        background = mb.model.snapshot(resting, depth)
        if not explicit:
            return background
        return _merge(explicit, background, depth, descending=resting is Side.BUY)

    def order_book(self, market_id: str, depth: int = 50) -> OrderBook:
        mb = self._book(market_id)
        now = self.sync(market_id)
        return OrderBook(
            market=market_id,
            bids=tuple(self._book_levels(mb, Side.BUY, depth)),
            asks=tuple(self._book_levels(mb, Side.SELL, depth)),
            at=to_datetime(now),
        )

    def public_trades(self, market_id: str, limit: int = 100) -> list[SimTrade]:
        mb = self._book(market_id)
        self.sync(market_id)
        trades = mb.tape.trades
        newest_first = range(len(trades) - 1, max(-1, len(trades) - 1 - limit), -1)
        return [SimTrade.from_row(market_id, trades[i]) for i in newest_first]

    def candles(
        self, market_id: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        mb = self._book(market_id)
        self.sync(market_id)
        return mb.tape.candles(period_min, time_from, time_to)


def _merge(
    explicit: list[tuple[Decimal, Decimal]],
    background: list[BookLevel],
    depth: int,
    *,
    descending: bool,
) -> list[BookLevel]:
    """Merge two best-first level lists (amounts at one price added), keeping ``depth``."""
    out: list[BookLevel] = []
    i = j = 0
    while len(out) < depth and (i < len(explicit) or j < len(background)):
        if j >= len(background):
            out.append(BookLevel(*explicit[i]))
            i += 1
            continue
        if i >= len(explicit):
            out.extend(background[j : j + depth - len(out)])
            break
        (ep, ea), bg = explicit[i], background[j]
        if ep == bg.price:
            out.append(BookLevel(ep, ea + bg.amount))
            i, j = i + 1, j + 1
        elif (ep > bg.price) == descending:
            out.append(BookLevel(ep, ea))
            i += 1
        else:
            out.append(bg)
            j += 1
    return out
