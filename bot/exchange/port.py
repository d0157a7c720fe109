"""The ``Exchange`` port: everything the bot needs from an exchange, in domain terms."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.balances import Balance
from bot.domain.market import Candle, Market, OrderBook, PublicTrade, Ticker
from bot.domain.orders import Fill, Order, OrderRequest, OrderState


class Exchange(Protocol):
    async def server_time(self) -> datetime:
        """Return the exchange's clock."""
        ...

    async def markets(self) -> list[Market]:
        """Return every market with its precisions, minimums and state."""
        ...

    async def tickers(self) -> dict[str, Ticker]:
        """Return every market's ticker in one call."""
        ...

    async def ticker(self, market: str) -> Ticker: ...

    async def order_book(self, market: str, depth: int = 50) -> OrderBook: ...

    async def public_trades(self, market: str, limit: int = 100) -> list[PublicTrade]: ...

    async def candles(
        self, market: str, period_min: int, time_from: int, time_to: int
    ) -> list[Candle]: ...

    async def balances(self) -> list[Balance]: ...

    async def place_order(self, request: OrderRequest) -> Order:
        """Place an order.

        Raises:
            OrderOutcomeUnknown: the order may exist; resolve with ``find_order``.
        """
        ...

    async def get_order(self, order_id: str) -> Order: ...

    async def find_order(self, market: str, client_id: str) -> Order | None:
        """Return the order placed with ``client_id`` on ``market``, or None if none exists."""
        ...

    async def orders(
        self,
        market: str | None = None,
        state: OrderState | None = None,
        *,
        page: int = 1,
        limit: int = 100,
    ) -> list[Order]:
        """Return one page of our orders, newest first."""
        ...

    async def open_orders(self, market: str | None = None) -> list[Order]:
        """Return every open order (all pages)."""
        ...

    async def order_trades(self, order_id: str) -> list[Fill]: ...

    async def cancel_order(self, order_id: str) -> Order: ...

    async def cancel_all(self, market: str | None = None) -> list[Order]: ...

    async def close(self) -> None: ...
