"""A malformed WebSocket frame drops the connection and its books, never the stream task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bench.reliability.stream_leg import bad_frames, bad_price
from bot.clock import SystemClock
from bot.domain.market import OrderBook
from bot.exchange.safetrade.stream import BadMessage, SafeTradeStream
from bot.sim.server import SimServer
from tests.contract import test_stream
from tests.contract.test_stream import _stream, _until

MARKET = "btcusdt"
KINDS = sorted(bad_frames(MARKET))
server = test_stream.server  # the same simulator fixture


async def _watch(stream: SafeTradeStream, served: list[OrderBook]) -> None:
    """Record every book the stream serves, as a reader polling it would get them."""
    clock = SystemClock()
    while True:
        book = stream.book(MARKET)
        if book is not None:
            served.append(book)
        await clock.sleep(0.002)


@asynccontextmanager
async def _with_a_book(stream: SafeTradeStream) -> AsyncIterator[SafeTradeStream]:
    """Start ``stream``, wait until it holds a book of ``MARKET``, close it on the way out."""
    await stream.start()
    try:
        await _until(lambda: stream.book(MARKET) is not None)
        yield stream
    finally:
        await stream.close()


async def _bad_frame_then_recovery(
    server: SimServer, stream: SafeTradeStream, frame: str
) -> tuple[list[OrderBook], OrderBook | None]:
    """Send ``frame`` to a stream that holds a book, hold fresh snapshots back until it has
    reconnected, then let them through; return every book a reader polling the stream got,
    and the book it holds at the end. Checks that nothing is served while held back."""
    served: list[OrderBook] = []
    await stream.start()
    watcher = asyncio.create_task(_watch(stream, served))
    try:
        await _until(lambda: stream.book(MARKET) is not None)
        server.hub.hold_books = True  # no fresh snapshot until released
        assert server.hub.inject_raw(frame) == 1
        await _until(lambda: stream.connects == 2 and stream.connected["public"])
        served_before_release = len(served)
        await SystemClock().sleep(0.1)  # reconnected and subscribed, snapshot held back

        assert stream.book(MARKET) is None  # nothing stale served as in sync meanwhile
        assert len(served) == served_before_release
        server.hub.release_books()
        await _until(lambda: stream.book(MARKET) is not None)
        return served, stream.book(MARKET)
    finally:
        watcher.cancel()
        await stream.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_bad_frame_reconnects_and_no_stale_or_bad_book_is_served(
    server: SimServer, kind: str
) -> None:
    stream = _stream(server)

    served, after = await _bad_frame_then_recovery(server, stream, bad_frames(MARKET)[kind])

    assert after is not None
    assert after.best_bid is not None
    assert after.best_ask is not None
    assert after.best_bid < after.best_ask
    assert [b for b in served if bad_price(b)] == []
    assert stream.health().bad_messages == 1
    assert stream.health().reconnects == 1


async def test_the_stream_reports_down_while_the_server_is_gone(server: SimServer) -> None:
    async with _with_a_book(_stream(server)) as stream:
        assert stream.health().down_for_s is None
        await server.stop()  # every socket closed and no new one accepted
        await _until(lambda: not stream.connected["public"])
        await SystemClock().sleep(0.1)
        health = stream.health()
        assert stream.book(MARKET) is None

    assert not health.connected
    assert health.down_for_s is not None
    assert health.down_for_s >= 0.1


async def test_a_bad_frame_drops_the_books_at_once_not_after_the_close(server: SimServer) -> None:
    async with _with_a_book(_stream(server)) as stream:
        with pytest.raises(BadMessage):
            stream._apply(bad_frames(MARKET)["negative_price"], private=False)
        in_sync_meanwhile = stream.book(MARKET) is not None or stream.connected["public"]

    assert not in_sync_meanwhile
