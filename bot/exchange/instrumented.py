"""``InstrumentedExchange``: latency and errors of every exchange call, by endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clock import Clock
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.port import Exchange
from bot.metrics import Metrics

T = TypeVar("T")


class InstrumentedExchange(ForwardingExchange):
    """Time each call on ``inner`` and count its errors, without changing behaviour."""

    def __init__(self, inner: Exchange, metrics: Metrics, clock: Clock) -> None:
        super().__init__(inner)
        self._metrics = metrics
        self._clock = clock

    async def _forward(self, name: str, call: Callable[[], Awaitable[T]]) -> T:
        start = self._clock.monotonic()
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._metrics.request_errors.inc(endpoint=name, error=type(e).__name__)
            raise
        finally:
            self._metrics.request_latency.observe(self._clock.monotonic() - start, endpoint=name)
