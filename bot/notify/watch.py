"""Tell the operator when the exchange has been blocked or unreachable for too long.

Each scheduler job reports its outcome; a job that fails on a block page
(``ExchangeBlocked``) or an unreachable exchange (``ExchangeUnavailable``) starts its outage
clock, and its next success stops it. Once the oldest running outage passes ``after_s``, one
event is published; when every job succeeds again, one more says the exchange is back.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.exchange.errors import ExchangeBlocked, ExchangeUnavailable
from bot.notify.events import Event, exchange_back, exchange_down


class ExchangeWatch:
    def __init__(self, clock: Clock, after_s: float, publish: Callable[[Event], object]) -> None:
        self._clock = clock
        self._after_s = after_s
        self._publish = publish
        self._since: dict[str, float] = {}
        self._reported_at: float | None = None

    def failed(self, job: str, error: BaseException) -> None:
        """Record a job's failure; only a block or an unreachable exchange counts."""
        if not isinstance(error, ExchangeBlocked | ExchangeUnavailable):
            return
        now = self._clock.monotonic()
        self._since.setdefault(job, now)
        down_s = now - min(self._since.values())
        if self._reported_at is None and down_s >= self._after_s:
            self._reported_at = min(self._since.values())
            reason = error.reason if isinstance(error, ExchangeBlocked) else type(error).__name__
            self._publish(exchange_down(reason, down_s / 60))

    def ok(self, job: str) -> None:
        """Record a job's success; once no job is failing, report the exchange back."""
        self._since.pop(job, None)
        if self._reported_at is not None and not self._since:
            down_s = self._clock.monotonic() - self._reported_at
            self._reported_at = None
            self._publish(exchange_back(down_s / 60))
