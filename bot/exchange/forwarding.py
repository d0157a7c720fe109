"""``ForwardingExchange``: an ``Exchange`` that passes every call to ``inner``, type-checked.

Wrappers (the gate, instrumentation, the stream) subclass it and override what they change;
every call also goes through ``_forward(name, call)``, the one place a wrapper can act on
all of them (``InstrumentedExchange`` times them there). No ``__getattr__``: mypy checks each
method against the ``Exchange`` protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState
from bot.exchange.port import Exchange

T = TypeVar("T")


class ForwardingExchange:
    """Every ``Exchange`` method, forwarded to ``inner`` through ``_forward``."""

    def __init__(self, inner: Exchange) -> None:
        self.inner = inner

    async def _forward(self, name: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one forwarded call (``name`` is the port method); override to act on all."""
        return await call()

    async def server_time(self) -> datetime:
        return await self._forward("server_time", self.inner.server_time)

    async def markets(self) -> list[Market]:
        return await self._forward("markets", self.inner.markets)

    async def tickers(self) -> dict[str, Ticker]:
        return await self._forward("tickers", self.inner.tickers)

    async def ticker(self, market: str) -> Ticker:
        return await self._forward("ticker", lambda: self.inner.ticker(market))

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        return await self._forward("order_book", lambda: self.inner.order_book(market, depth))

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]:
        return await self._forward("public_trades", lambda: self.inner.public_trades(market, limit))

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]:
        return await self._forward(
            "candles", lambda: self.inner.candles(market, period_min, time_from, time_to)
        )

    async def balances(self) -> list[Balance]:
        return await self._forward("balances", self.inner.balances)

    async def place_order(self, request: OrderRequest) -> Order:
        return await self._forward("place_order", lambda: self.inner.place_order(request))

    async def get_order(self, order_id: str) -> Order:
        return await self._forward("get_order", lambda: self.inner.get_order(order_id))

    async def find_order(self, market: str, client_id: str) -> Order | None:
        return await self._forward("find_order", lambda: self.inner.find_order(market, client_id))

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        return await self._forward(
            "orders", lambda: self.inner.orders(market, state, page=page, limit=limit)
        )

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return await self._forward("open_orders", lambda: self.inner.open_orders(market))

    async def order_trades(self, order_id: str) -> list[Fill]:
        return await self._forward("order_trades", lambda: self.inner.order_trades(order_id))

    async def cancel_order(self, order_id: str) -> Order:
        return await self._forward("cancel_order", lambda: self.inner.cancel_order(order_id))

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        return await self._forward("cancel_all", lambda: self.inner.cancel_all(market))

    async def close(self) -> None:
        await self.inner.close()


L = TypeVar("L")


def layer(exchange: object, kind: type[L]) -> L | None:
    """Return the wrapper of type ``kind`` in ``exchange``'s chain of ``inner``s, or None."""
    for _ in range(8):  # wrappers are a few layers deep at most
        if isinstance(exchange, kind):
            return exchange
        exchange = getattr(exchange, "inner", None)
        if exchange is None:
            return None
    return None
