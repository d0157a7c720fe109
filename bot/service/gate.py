"""``GatedExchange``: the kill switch at the port — no new order while paused."""

from __future__ import annotations

from typing import Any

from bot.domain.orders import Order, OrderRequest
from bot.exchange.errors import RateLimited
from bot.exchange.port import Exchange


class GatedExchange:
    """Pass everything through to ``inner`` except new orders while ``paused``.

    A refused order was never sent: it surfaces as ``RateLimited`` so executors wait and
    try again later instead of failing the sale.
    """

    def __init__(self, inner: Exchange, *, retry_after_s: float = 30.0) -> None:
        self.inner = inner
        self.paused = False
        self.refused = 0
        self._retry_after_s = retry_after_s

    async def place_order(self, request: OrderRequest) -> Order:
        if self.paused:
            self.refused += 1
            raise RateLimited("paused by the kill switch", retry_after_s=self._retry_after_s)
        return await self.inner.place_order(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
