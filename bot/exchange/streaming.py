"""``StreamingExchange``: books from the WebSocket stream while it is in sync, else REST."""

from __future__ import annotations

from bot.domain.market import OrderBook
from bot.exchange.forwarding import ForwardingExchange, layer
from bot.exchange.port import Exchange
from bot.exchange.safetrade.stream import SafeTradeStream


class StreamingExchange(ForwardingExchange):
    """``inner`` with ``order_book`` served from the stream while it is in sync, else REST.

    A market the stream sends no book for (``stream.health().books_via_rest``) is polled.
    """

    def __init__(self, inner: Exchange, stream: SafeTradeStream) -> None:
        super().__init__(inner)
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


def stream_of(exchange: object) -> SafeTradeStream | None:
    """Return the stream behind ``exchange`` and the wrappers around it."""
    streaming = layer(exchange, StreamingExchange)
    return None if streaming is None else streaming.stream
