"""``InstrumentedExchange``: latency and errors of every exchange call, by endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.clock import Clock
from bot.exchange.port import Exchange
from bot.service.metrics import Metrics


class InstrumentedExchange:
    """Time each awaited call on ``inner`` and count its errors, without changing behaviour."""

    def __init__(self, inner: Exchange, metrics: Metrics, clock: Clock) -> None:
        self.inner = inner
        self._metrics = metrics
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name.startswith("_") or not asyncio.iscoroutinefunction(attr):
            return attr
        return self._wrap(name, attr)

    def _wrap(
        self, name: str, call: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = self._clock.monotonic()
            try:
                return await call(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._metrics.request_errors.inc(endpoint=name, error=type(e).__name__)
                raise
            finally:
                self._metrics.request_latency.observe(
                    self._clock.monotonic() - start, endpoint=name
                )

        return timed
