"""``PaperExchange``: live public market data, orders filled locally (``SELLBOT_DRY_RUN``).

Reads of markets, tickers, books, trades and k-lines go to ``public`` (the live exchange).
Orders never leave the process: a sell fills against the *live* bids at or above its price
when placed, and a resting remainder fills later when the live best bid reaches it (checked
whenever the order is read). Balances are a local ledger seeded at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from itertools import count

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.money import MONEY_CONTEXT, ZERO
from bot.domain.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
    fill_totals,
)
from bot.exchange.errors import InsufficientBalance, InvalidOrder, NotFound
from bot.exchange.markets import find_market
from bot.exchange.port import Exchange

PAPER_FEE_RATE = Decimal("0.002")


@dataclass
class _PaperOrder:
    order: Order
    fills: list[Fill] = field(default_factory=list)


class PaperExchange:
    """The ``Exchange`` port over live public data with a local, simulated account."""

    def __init__(
        self,
        public: Exchange,
        balances: list[Balance],
        *,
        clock: Clock,
        fee_rate: Decimal = PAPER_FEE_RATE,
    ) -> None:
        self._public = public
        self._clock = clock
        self._fee_rate = fee_rate
        self._available = {b.currency: b.available for b in balances}
        self._locked: dict[str, Decimal] = {}
        self._orders: dict[str, _PaperOrder] = {}
        self._ids = count(1)
        self._trade_ids = count(1)

    # public data: straight to the live exchange
    async def server_time(self) -> datetime:
        return await self._public.server_time()

    async def markets(self) -> list[Market]:
        return await self._public.markets()

    async def tickers(self) -> dict[str, Ticker]:
        return await self._public.tickers()

    async def ticker(self, market: str) -> Ticker:
        return await self._public.ticker(market)

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        return await self._public.order_book(market, depth)

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        return await self._public.public_trades(market, limit)

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        return await self._public.candles(market, period_min, time_from, time_to)

    # the account: local
    async def balances(self) -> list[Balance]:
        currencies = sorted(set(self._available) | set(self._locked))
        return [
            Balance(c, self._available.get(c, ZERO), self._locked.get(c, ZERO)) for c in currencies
        ]

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self._market(request.market)
        self._validate(request, market)
        if self._available.get(market.base, ZERO) < request.amount:
            raise InsufficientBalance("market.account.insufficient_balance")
        self._move(market.base, request.amount, to_locked=True)
        now = self._clock.now()
        order = Order(
            id=str(next(self._ids)),
            client_id=request.client_id,
            market=market.id,
            side=request.side,
            type=request.type,
            price=request.price,
            amount=request.amount,
            filled=ZERO,
            avg_price=None,
            state=OrderState.OPEN,
            created_at=now,
            updated_at=now,
        )
        self._orders[order.id] = _PaperOrder(order)
        await self._match(order.id, market)
        return self._orders[order.id].order

    async def get_order(self, order_id: str) -> Order:
        paper = self._get(order_id)
        if paper.order.state is OrderState.OPEN:
            await self._match(order_id, await self._market(paper.order.market))
        return self._orders[order_id].order

    async def find_order(self, market: str, client_id: str) -> Order | None:
        for paper in self._orders.values():
            if paper.order.market == market and paper.order.client_id == client_id:
                return await self.get_order(paper.order.id)
        return None

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        picked = [
            p.order
            for p in reversed(self._orders.values())
            if (market is None or p.order.market == market)
            and (state is None or p.order.state is state)
        ]
        return picked[(page - 1) * limit : page * limit]

    async def open_orders(self, market: str | None = None) -> list[Order]:
        for order in await self.orders(market, OrderState.OPEN, limit=10**9):
            await self.get_order(order.id)
        return await self.orders(market, OrderState.OPEN, limit=10**9)

    async def order_trades(self, order_id: str) -> list[Fill]:
        return list(self._get(order_id).fills)

    async def cancel_order(self, order_id: str) -> Order:
        paper = self._get(order_id)
        if paper.order.state is OrderState.OPEN:
            market = await self._market(paper.order.market)
            self._move(market.base, paper.order.remaining, to_locked=False)
            paper.order = replace(
                paper.order, state=OrderState.CANCELLED, updated_at=self._clock.now()
            )
        return paper.order

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        return [await self.cancel_order(o.id) for o in await self.orders(market, OrderState.OPEN)]

    async def close(self) -> None:
        await self._public.close()

    # internals
    def _get(self, order_id: str) -> _PaperOrder:
        try:
            return self._orders[order_id]
        except KeyError as e:
            raise NotFound("record.not_found") from e

    async def _market(self, market_id: str) -> Market:
        market = await find_market(self._public, market_id)
        if market is None:
            raise NotFound("market.market.doesnt_exist")
        return market

    def _validate(self, request: OrderRequest, market: Market) -> None:
        if request.side is not Side.SELL:
            raise InvalidOrder("paper trading sells only")
        if request.amount <= 0 or request.amount < market.min_amount:
            raise InvalidOrder("market.order.invalid_volume_or_price")
        if request.amount != request.amount.quantize(market.lot, context=MONEY_CONTEXT):
            raise InvalidOrder("market.order.invalid_volume_or_price")
        if request.type is OrderType.LIMIT and (
            request.price is None
            or request.price <= 0
            or request.price != request.price.quantize(market.tick, context=MONEY_CONTEXT)
        ):
            raise InvalidOrder("market.order.invalid_volume_or_price")

    def _move(self, currency: str, amount: Decimal, *, to_locked: bool) -> None:
        src, dst = (self._available, self._locked) if to_locked else (self._locked, self._available)
        src[currency] = src.get(currency, ZERO) - amount
        dst[currency] = dst.get(currency, ZERO) + amount

    async def _match(self, order_id: str, market: Market) -> None:
        paper = self._orders[order_id]
        order = paper.order
        book = await self._public.order_book(market.id)
        left = order.remaining
        now = self._clock.now()
        for level in book.bids:
            if left <= 0 or (order.price is not None and level.price < order.price):
                break
            take = min(left, level.amount)
            fee = take * level.price * self._fee_rate
            paper.fills.append(
                Fill(
                    trade_id=f"paper-{next(self._trade_ids)}",
                    order_id=order.id,
                    market=market.id,
                    side=Side.SELL,
                    price=level.price,
                    amount=take,
                    fee=fee,
                    fee_currency=market.quote,
                    at=now,
                )
            )
            self._locked[market.base] -= take
            self._available[market.quote] = (
                self._available.get(market.quote, ZERO) + take * level.price - fee
            )
            left -= take
        self._settle(paper, market, now)

    def _settle(self, paper: _PaperOrder, market: Market, now: datetime) -> None:
        order = paper.order
        totals = fill_totals(paper.fills)
        filled, proceeds = totals.sold, totals.proceeds
        state = OrderState.FILLED if filled >= order.amount else OrderState.OPEN
        if state is OrderState.OPEN and order.type is OrderType.MARKET:
            self._move(market.base, order.amount - filled, to_locked=False)
            state = OrderState.CANCELLED  # an unfilled market remainder is cancelled
        paper.order = replace(
            order,
            filled=filled,
            avg_price=proceeds / filled if filled else None,
            state=state,
            updated_at=now,
        )
