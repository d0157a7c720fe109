"""Use the WebSocket streams when they are up: books from the stream, order updates applied."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.domain.market import OrderBook
from bot.domain.orders import Order
from bot.exchange.port import Exchange
from bot.exchange.safetrade.stream import SafeTradeStream
from bot.execution.tracker import OrderTracker
from bot.logs import get_logger

log = get_logger("sellbot.streaming")


class StreamingExchange:
    """``inner`` with ``order_book`` served from the stream while it is in sync."""

    def __init__(self, inner: Exchange, stream: SafeTradeStream) -> None:
        self.inner = inner
        self.stream = stream
        self.served_from_stream = 0

    async def order_book(self, market: str, depth: int = 50) -> OrderBook:
        book = self.stream.book(market, depth)
        if book is None:
            return await self.inner.order_book(market, depth)
        self.served_from_stream += 1
        return book

    async def close(self) -> None:
        await self.stream.close()
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class OrderUpdates:
    """Apply pushed order updates through the tracker (the same path as polling)."""

    def __init__(self, tracker: OrderTracker) -> None:
        self._tracker = tracker
        self._tasks: set[asyncio.Task[object]] = set()

    def __call__(self, order: Order) -> None:
        task = asyncio.get_running_loop().create_task(self._apply(order))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply(self, order: Order) -> object:
        try:
            return await self._tracker.apply(order)
        except asyncio.CancelledError:
            raise
        except Exception:  # a pushed update is advisory: polling remains the source
            log.exception("stream_update_failed", client_id=order.client_id)
            return None
