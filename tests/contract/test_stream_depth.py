"""Book streams: ``{market}.depth`` (the example client's), ``ob-snap``/``ob-inc``, or neither."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import aiohttp
import pytest
from structlog.testing import capture_logs

from bench.reliability.stream_leg import bad_frames, bad_price
from bot.clock import SystemClock
from bot.domain.market import OrderBook
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.stream import LocalBook, SafeTradeStream
from bot.exchange.streaming import StreamingExchange
from bot.metrics import Metrics
from bot.service.streaming import StreamReadiness
from bot.sim.server import SimServer
from bot.sim.websocket import parse_book_streams
from tests.contract import test_stream
from tests.contract.test_stream import _stream, _until
from tests.contract.test_stream_faults import _bad_frame_then_recovery, _with_a_book

MARKET = "btcusdt"
server = test_stream.server  # the same simulator fixture


def _quiet_stream(srv: SimServer) -> SafeTradeStream:
    """``_stream`` with the book timeout (10 s by default) shortened for the test."""
    return SafeTradeStream(
        srv.base_url,
        clock=SystemClock(),
        rng=random.Random(3),
        markets=[MARKET],
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
        book_timeout_s=0.3,
    )


def _rest(srv: SimServer) -> SafeTradeClient:
    return SafeTradeClient(srv.base_url, None, None, clock=SystemClock(), rng=random.Random(1))


async def _served(srv: SimServer, stream: SafeTradeStream) -> tuple[OrderBook, OrderBook, int]:
    """Return the book ``StreamingExchange`` serves, the REST book, and how many streamed."""
    exchange = StreamingExchange(_rest(srv), stream)
    book = await exchange.order_book(MARKET, depth=10)
    rest = await exchange.inner.order_book(MARKET, depth=10)
    await exchange.inner.close()
    return book, rest, exchange.served_from_stream


def _close(a: Decimal | None, b: Decimal | None) -> bool:
    return a is not None and b is not None and abs(a - b) / a < Decimal("0.01")


@pytest.mark.parametrize("kind", ["depth", "ob"])
async def test_one_book_stream_kind_alone_serves_the_books(server: SimServer, kind: str) -> None:
    server.hub.book_streams = frozenset({kind})
    async with _with_a_book(_stream(server)) as stream:
        book, rest, from_stream = await _served(server, stream)

    assert stream.book_kinds == {MARKET: kind}
    assert from_stream == 1
    assert (book.sequence is None) == (kind == "depth")  # the simulator's .depth carries none
    assert _close(book.best_bid, rest.best_bid)
    assert _close(book.best_ask, rest.best_ask)


async def test_with_both_the_first_kind_to_deliver_is_kept(server: SimServer) -> None:
    async with _with_a_book(_stream(server)) as stream:
        await SystemClock().sleep(0.2)  # several publishing rounds
        (conn,) = server.hub._conns
        subscribed = set(conn.streams)

    assert stream.book_kinds == {MARKET: "ob"}  # ob-snap answers the first subscription
    assert f"{MARKET}.depth" not in subscribed  # the other kind was unsubscribed
    assert f"{MARKET}.ob-inc" in subscribed


async def test_no_book_stream_falls_back_to_rest_and_says_so(server: SimServer) -> None:
    server.hub.book_streams = frozenset()
    stream = _quiet_stream(server)
    metrics = Metrics()
    with capture_logs() as logs:
        await stream.start()
        try:
            await _until(lambda: stream.health().books_via_rest == (MARKET,))
            book, _, from_stream = await _served(server, stream)
            status = StreamReadiness(stream, metrics)()
            server.hub.book_streams = frozenset({"depth"})  # the stream starts delivering
            await _until(lambda: stream.book(MARKET) is not None)
            after = stream.health().books_via_rest
        finally:
            await stream.close()

    assert stream.connects == 1
    assert from_stream == 0
    assert book.best_bid is not None  # served by REST
    assert status.ready
    assert status.detail["books_via_rest"] == [MARKET]
    assert "sellbot_stream_books_polled 1.0" in metrics.render()
    missing = [e for e in logs if e["event"] == "stream_books_missing"]
    assert [(e["markets"], e["fallback"]) for e in missing] == [([MARKET], "rest")]
    assert after == ()


def _bad_depth_frames() -> dict[str, str]:
    frames = {k: v.replace(".ob-snap", ".depth") for k, v in bad_frames(MARKET).items()}
    frames["not_an_object"] = json.dumps({f"{MARKET}.depth": [["60000", "1"]]})
    frames["bad_sequence"] = json.dumps({f"{MARKET}.depth": {"bids": [], "sequence": "x"}})
    return frames


@pytest.mark.parametrize("kind", sorted(_bad_depth_frames()))
async def test_a_bad_depth_frame_reconnects_and_no_stale_book_is_served(
    server: SimServer, kind: str
) -> None:
    server.hub.book_streams = frozenset({"depth"})
    stream = _stream(server)

    served, _ = await _bad_frame_then_recovery(server, stream, _bad_depth_frames()[kind])

    assert [b for b in served if bad_price(b)] == []
    assert stream.health().bad_messages == 1
    assert stream.book_kinds == {MARKET: "depth"}


async def test_the_example_clients_subscription_receives_depth(server: SimServer) -> None:
    url = server.base_url.replace("http://", "ws://") + "/websocket/public"
    assert url.endswith("/api/v2/websocket/public")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"event": "subscribe", "streams": [f"{MARKET}.depth"]}))
        messages = [json.loads((await ws.receive(timeout=5)).data) for _ in range(2)]

    assert messages[0]["success"]["streams"] == [f"{MARKET}.depth"]
    depth = messages[1][f"{MARKET}.depth"]
    bids = [Decimal(p) for p, _ in depth["bids"]]
    asks = [Decimal(p) for p, _ in depth["asks"]]
    assert bids
    assert asks
    assert max(bids) < min(asks)


def test_a_depth_snapshot_replaces_the_book_with_or_without_a_sequence() -> None:
    book = LocalBook(MARKET)
    book.snapshot({"bids": [["100", "1"]], "asks": [["101", "2"]]}, sequenced=False)
    first = book.to_order_book()
    book.snapshot({"bids": [["99", "1"]], "asks": [], "sequence": 7}, sequenced=False)
    second = book.to_order_book()

    assert book.synced
    assert (first.best_bid, first.best_ask, first.sequence) == (Decimal(100), Decimal(101), None)
    assert (second.best_bid, second.best_ask, second.sequence) == (Decimal(99), None, 7)
    with pytest.raises(ValueError, match="sequence"):
        book.snapshot({"bids": [], "asks": []})  # an ob-snap must carry one


def test_book_stream_kinds_parse_from_the_flag() -> None:
    assert parse_book_streams("depth,ob") == {"depth", "ob"}
    assert parse_book_streams("none") == frozenset()
    with pytest.raises(ValueError, match="unknown"):
        parse_book_streams("depth,ob-snap")
