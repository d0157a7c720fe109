"""Order updates pushed by the exchange's stream, applied through the tracker like a poll."""

from __future__ import annotations

import asyncio

from bot.domain.orders import Order
from bot.execution.tracker import OrderTracker
from bot.logs import get_logger

log = get_logger("sellbot.streaming")


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
