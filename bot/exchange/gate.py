"""``GatedExchange``: the kill switch and the leader fence at the port.

No new order while paused, and no order at all (nor a cancel) unless this daemon holds the
leader lease: a daemon whose lease lapsed must not touch the account the next leader runs.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.orders import Order, OrderRequest
from bot.exchange.errors import RateLimited
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.port import Exchange
from bot.logs import get_logger

log = get_logger("sellbot.gate")

Fence = Callable[[], bool]


class GatedExchange(ForwardingExchange):
    """Pass everything through to ``inner`` except new orders while ``paused`` or fenced.

    ``fence`` (when set) says whether this daemon may trade (it holds the lease). A refused
    order was never sent: it surfaces as ``RateLimited`` so executors wait and try again
    later instead of failing the sale. A fenced daemon's cancels are refused the same way:
    its open orders are left for the next leader's reconciliation.
    """

    def __init__(
        self, inner: Exchange, *, retry_after_s: float = 30.0, fence: Fence | None = None
    ) -> None:
        super().__init__(inner)
        self.paused = False
        self.fence = fence
        self.refused = 0
        self._retry_after_s = retry_after_s

    def _check_fence(self) -> None:
        if self.fence is not None and not self.fence():
            self.refused += 1
            raise RateLimited(
                "not the leader: the lease is not held", retry_after_s=self._retry_after_s
            )

    async def place_order(self, request: OrderRequest) -> Order:
        self._check_fence()
        if self.paused:
            self.refused += 1
            raise RateLimited("paused by the kill switch", retry_after_s=self._retry_after_s)
        log.info("order_send", client_id=request.client_id)  # who sent what, for audits
        return await self.inner.place_order(request)

    async def cancel_order(self, order_id: str) -> Order:
        self._check_fence()
        return await self.inner.cancel_order(order_id)

    async def cancel_all(self, market: str | None = None) -> list[Order]:
        self._check_fence()
        return await self.inner.cancel_all(market)
