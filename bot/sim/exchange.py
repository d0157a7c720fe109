"""``SimExchange``: the ``Exchange`` port over the matching engine, in-process.

The same engine serves the HTTP simulator; this front door skips HTTP for fast tests,
``sellbot advise --simulate`` and benchmarks. Engine refusals become the bot's exchange
errors. An optional ``FaultPlan`` injects the same faults the server would (5xx, 429, lost
responses).
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock
from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState
from bot.exchange.errors import (
    AuthError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidOrder,
    NotFound,
    OrderOutcomeUnknown,
    RateLimited,
)
from bot.sim.engine import MatchingEngine
from bot.sim.faults import Fault, FaultPlan
from bot.sim.records import STATE_TO_PEATIO, SimError


def to_exchange_error(e: SimError) -> ExchangeError:
    """Map an engine refusal to the bot's error tree (the same rules as the HTTP client)."""
    if e.status in (401, 403):
        return AuthError(e.code)
    if e.status == 404:
        return NotFound(e.code)
    if e.status == 429:
        return RateLimited(e.code)
    if e.status >= 500:
        return ExchangeUnavailable(e.code)
    if "insufficient_balance" in e.code:
        return InsufficientBalance(e.code)
    return InvalidOrder(e.code)


_FILL_MEMO_ORDERS = 256


def _order_id(order_id: str) -> int:
    if not order_id.isdigit():
        raise NotFound(f"record.not_found: {order_id}")
    return int(order_id)


class SimExchange:
    """The simulator behind the ``Exchange`` Protocol, for one API key."""

    def __init__(
        self,
        engine: MatchingEngine,
        api_key: str,
        *,
        clock: Clock,
        faults: FaultPlan | None = None,
    ) -> None:
        self.engine = engine
        self.api_key = api_key
        self._clock = clock
        self.faults = faults
        # an order's fills as converted so far (an order's trades only grow): a poll converts
        # only the new ones; the most recently filled orders are kept
        self._fills: dict[int, tuple[Fill, ...]] = {}
        engine.account(api_key)

    async def _before(self, *, write: bool = False) -> Fault | None:
        plan = self.faults
        if plan is None:
            return None
        plan.apply_maintenance(self.engine)
        fault = plan.draw(write=write)
        if fault.latency_s > 0:
            await self._clock.sleep(fault.latency_s)
        if fault.kind == "status_5xx" or fault.kind == "reset":
            raise ExchangeUnavailable(f"injected {fault.kind}")
        if fault.kind == "rate_limited":
            raise RateLimited("injected 429", retry_after_s=fault.retry_after_s)
        return fault

    async def server_time(self) -> datetime:
        await self._before()
        return self._clock.now()

    async def markets(self) -> list[Market]:
        await self._before()
        return self.engine.markets()

    async def tickers(self) -> dict[str, Ticker]:
        await self._before()
        return self.engine.tickers()

    async def ticker(self, market: str) -> Ticker:
        await self._before()
        try:
            return self.engine.ticker(market)
        except SimError as e:
            raise to_exchange_error(e) from e

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        await self._before()
        try:
            return self.engine.order_book(market, depth)
        except SimError as e:
            raise to_exchange_error(e) from e

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        await self._before()
        try:
            return [t.to_public() for t in self.engine.public_trades(market, limit)]
        except SimError as e:
            raise to_exchange_error(e) from e

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        await self._before()
        try:
            return self.engine.candles(market, period_min, time_from, time_to)
        except SimError as e:
            raise to_exchange_error(e) from e

    async def balances(self) -> list[Balance]:
        await self._before()
        return self.engine.balances(self.api_key)

    async def place_order(self, request: OrderRequest) -> Order:
        fault = await self._before(write=True)
        try:
            order = self.engine.place_order(
                self.api_key,
                request.market,
                request.side,
                request.type,
                request.amount,
                request.price,
                request.client_id,
            )
        except SimError as e:
            raise to_exchange_error(e) from e
        if fault is not None and fault.kind == "lost_response":
            raise OrderOutcomeUnknown("injected lost response", client_id=request.client_id)
        return order.to_order()

    async def get_order(self, order_id: str) -> Order:
        await self._before()
        try:
            return self.engine.get_order(self.api_key, _order_id(order_id)).to_order()
        except SimError as e:
            raise to_exchange_error(e) from e

    async def find_order(self, market: str, client_id: str) -> Order | None:
        await self._before()
        order = self.engine.find_order(self.api_key, client_id)
        if order is None or order.market != market:
            return None
        return order.to_order()

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        await self._before()
        peatio_state = None
        if state is not None:
            peatio_state = STATE_TO_PEATIO.get(state)
            if peatio_state is None:
                return []
        try:
            found = self.engine.list_orders(
                self.api_key, market=market, state=peatio_state, page=page, limit=limit
            )
        except SimError as e:
            raise to_exchange_error(e) from e
        return [o.to_order() for o in found]

    async def open_orders(self, market: str | None = None) -> list[Order]:
        await self._before()
        return self.engine.open_orders(self.api_key, market)

    async def order_trades(self, order_id: str) -> list[Fill]:
        await self._before()
        oid = _order_id(order_id)
        known = self._fills.get(oid, ())
        try:
            new = self.engine.order_fills(self.api_key, oid, start=len(known))
        except SimError as e:
            raise to_exchange_error(e) from e
        if not new:
            return list(known)
        fills = (*known, *(f.to_fill() for f in new))
        self._fills[oid] = fills
        if len(self._fills) > _FILL_MEMO_ORDERS:
            del self._fills[next(iter(self._fills))]
        return list(fills)

    async def cancel_order(self, order_id: str) -> Order:
        await self._before(write=True)
        try:
            return self.engine.cancel_order(self.api_key, _order_id(order_id)).to_order()
        except SimError as e:
            raise to_exchange_error(e) from e

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        await self._before(write=True)
        try:
            return [o.to_order() for o in self.engine.cancel_all(self.api_key, market)]
        except SimError as e:
            raise to_exchange_error(e) from e

    async def close(self) -> None:
        return None
