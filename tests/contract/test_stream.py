"""The WebSocket client against the simulator's Ranger-style server over real WebSockets."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from bot.clock import SystemClock
from bot.domain.orders import Order, OrderRequest, OrderType, Side
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.stream import LocalBook, SafeTradeStream, SequenceGap
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.server import SimServer


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    clock = SystemClock()
    engine, credentials = build_demo_engine(clock, seed=5)
    async with SimServer(
        engine, credentials=credentials, clock=clock, port=0, ws_interval_s=0.05
    ) as srv:
        yield srv


async def _until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + timeout_s
    while not predicate():
        if clock.monotonic() > deadline:
            pytest.fail("condition not met in time")
        await clock.sleep(0.02)


def _stream(srv: SimServer, *, private: bool = False) -> SafeTradeStream:
    return SafeTradeStream(
        srv.base_url,
        clock=SystemClock(),
        rng=random.Random(3),
        markets=["btcusdt"],
        api_key=DEMO_KEY if private else None,
        api_secret=DEMO_SECRET if private else None,
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
    )


async def test_streamed_book_matches_the_rest_book(server: SimServer) -> None:
    stream = _stream(server)
    client = SafeTradeClient(server.base_url, None, None, clock=SystemClock(), rng=random.Random(1))
    await stream.start()
    try:
        await _until(lambda: stream.book("btcusdt") is not None)
        streamed = stream.book("btcusdt", depth=10)
        rest = await client.order_book("btcusdt", depth=10)
    finally:
        await stream.close()
        await client.close()

    assert streamed is not None
    assert streamed.best_bid is not None
    assert abs(streamed.best_bid - (rest.best_bid or 0)) / streamed.best_bid < Decimal("0.01")


def test_a_sequence_gap_is_detected() -> None:
    book = LocalBook("btcusdt")
    book.snapshot({"bids": [["100", "1"]], "asks": [["101", "2"]], "sequence": 1})
    book.increment({"bids": [["100", "0"], ["99", "3"]], "asks": [], "sequence": 2})

    assert book.to_order_book().best_bid == Decimal(99)
    with pytest.raises(SequenceGap):
        book.increment({"bids": [], "asks": [], "sequence": 4})


async def test_a_gap_resubscribes_and_a_fresh_snapshot_resyncs(server: SimServer) -> None:
    stream = _stream(server)
    await stream.start()
    try:
        await _until(lambda: stream.book("btcusdt") is not None)
        local = stream.books["btcusdt"]
        assert local.sequence is not None
        replies = stream.handle(
            {"btcusdt.ob-inc": {"bids": [], "asks": [], "sequence": local.sequence + 5}}
        )
        assert stream.book("btcusdt") is None
        assert [r["event"] for r in replies] == ["unsubscribe", "subscribe"]
    finally:
        await stream.close()

    assert stream.gaps == 1


async def test_reconnects_and_resubscribes_after_the_server_drops_it(server: SimServer) -> None:
    stream = _stream(server)
    await stream.start()
    try:
        await _until(lambda: stream.book("btcusdt") is not None)
        await server.hub.shutdown(server.app)  # the server closes every socket
        await _until(lambda: stream.connects >= 2)
        stream.books.clear()
        await _until(lambda: stream.book("btcusdt") is not None)
    finally:
        await stream.close()

    assert stream.connects >= 2


async def test_private_stream_pushes_our_order_updates(server: SimServer) -> None:
    stream = _stream(server, private=True)
    seen: list[Order] = []
    stream.order_listeners.append(seen.append)
    client = SafeTradeClient(
        server.base_url, DEMO_KEY, DEMO_SECRET, clock=SystemClock(), rng=random.Random(2)
    )
    await stream.start()
    try:
        await _until(lambda: stream.connected["private"])
        await SystemClock().sleep(0.1)  # let the subscription land on the server
        await client.place_order(
            OrderRequest("sb-ws-1", "btcusdt", Side.SELL, OrderType.MARKET, Decimal("0.01"))
        )
        await _until(lambda: any(o.client_id == "sb-ws-1" for o in seen))
    finally:
        await stream.close()
        await client.close()

    assert any(o.client_id == "sb-ws-1" and o.filled == Decimal("0.01") for o in seen)
