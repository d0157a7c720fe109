"""The stream's part of ``/readyz``: up, or down for how long, and which books come from REST."""

from __future__ import annotations

from bot.exchange.safetrade.stream import SafeTradeStream
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.service.ops_http import StreamStatus

log = get_logger("sellbot.streaming")


class StreamReadiness:
    """The stream's part of ``/readyz``: not ready once it has been down longer than ``grace_s``.

    Markets whose books come from REST are listed (``books_via_rest``) but keep it ready.
    Each call also brings the stream gauges and counters in ``metrics`` up to date.
    """

    def __init__(self, stream: SafeTradeStream, metrics: Metrics, grace_s: float = 10.0) -> None:
        self._stream, self._metrics, self._grace_s = stream, metrics, grace_s
        self._counted = (0, 0)  # bad messages, reconnects already added to the counters

    def __call__(self) -> StreamStatus:
        health = self._stream.health()
        bad, reconnects = self._counted
        self._metrics.stream_connected.set(1.0 if health.connected else 0.0)
        self._metrics.stream_bad_messages.inc(health.bad_messages - bad)
        self._metrics.stream_reconnects.inc(health.reconnects - reconnects)
        self._metrics.stream_books_polled.set(float(len(health.books_via_rest)))
        self._counted = (health.bad_messages, health.reconnects)
        down = health.down_for_s
        ready = down is None or down <= self._grace_s
        detail: dict[str, object] = {
            "connected": health.connected,
            "down_for_s": _rounded(down),
            "last_message_age_s": _rounded(health.last_message_age_s),
            "reconnects": health.reconnects,
            "bad_messages": health.bad_messages,
            "books_via_rest": list(health.books_via_rest),
        }
        if not ready:
            detail["reason"] = f"stream down for {down:.1f} s (grace {self._grace_s:g} s)"
        return StreamStatus(ready, detail)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
