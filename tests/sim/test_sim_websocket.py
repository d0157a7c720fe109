"""WebSocket streams: book snapshot then sequenced increments, trades, tickers, private orders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from bot.clock import VirtualClock
from bot.domain.orders import Side
from bot.sim.server import SimServer
from bot.sim.websocket import _Conn
from tests.sim.sim_helpers import ALICE, BOB, Desk

SECRETS = {ALICE: "alice-secret"}


@pytest.fixture
async def server(desk: Desk) -> AsyncIterator[SimServer]:
    async with SimServer(desk.engine, credentials=SECRETS, clock=desk.clock) as srv:
        yield srv


def _auth(clock: VirtualClock) -> dict[str, str]:
    nonce = str(int(clock.time() * 1000))
    sig = hmac.new(SECRETS[ALICE].encode(), (nonce + ALICE).encode(), hashlib.sha256)
    return {"X-Auth-Apikey": ALICE, "X-Auth-Nonce": nonce, "X-Auth-Signature": sig.hexdigest()}


async def _next(ws: aiohttp.ClientWebSocketResponse, stream: str) -> Any:
    while True:
        message = await ws.receive_json(timeout=5)
        if stream in message:
            return message[stream]


async def test_book_snapshot_then_sequenced_increments(desk: Desk, server: SimServer) -> None:
    desk.limit(BOB, Side.BUY, "2", "10.00")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url + "/public") as ws,
    ):
        await ws.send_json({"event": "subscribe", "streams": ["abcusdt.ob-inc", "abcusdt.trades"]})
        ack = await _next(ws, "success")
        snap = await _next(ws, "abcusdt.ob-snap")

        desk.limit(ALICE, Side.SELL, "0.5", "10.00")
        trades = await _next(ws, "abcusdt.trades")
        desk.limit(BOB, Side.SELL, "1", "12.00")
        await desk.clock.advance(1.0)
        inc = await _next(ws, "abcusdt.ob-inc")

    assert ack["streams"] == ["abcusdt.ob-inc", "abcusdt.trades"]
    assert snap == {"bids": [["10.00", "2"]], "asks": [], "sequence": 1}
    assert trades["trades"][0]["price"] == "10.00"
    assert inc == {"bids": [["10.00", "1.5"]], "asks": [["12.00", "1"]], "sequence": 2}


async def test_global_tickers_are_published_on_the_clock(desk: Desk, server: SimServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url + "/public") as ws,
    ):
        await ws.send_json({"event": "subscribe", "streams": ["global.tickers"]})
        await _next(ws, "success")
        await desk.clock.advance(1.0)
        tickers = await _next(ws, "global.tickers")

    assert set(tickers) == {"abcusdt"}
    assert "last" in tickers["abcusdt"]


async def test_private_streams_need_auth_and_carry_own_orders(
    desk: Desk, server: SimServer
) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(server.ws_url + "/private")
        async with session.ws_connect(server.ws_url + "/private", headers=_auth(desk.clock)) as ws:
            await ws.send_json({"event": "subscribe", "streams": ["order", "trade"]})
            await _next(ws, "success")
            desk.limit(BOB, Side.BUY, "1", "10.00")
            desk.limit(ALICE, Side.SELL, "1", "10.00", client_id="ws-1")
            fill = await _next(ws, "trade")
            order = await _next(ws, "order")

    assert refused.value.status == 401
    assert fill["amount"] == "1"
    assert fill["side"] == "sell"
    assert order["client_id"] == "ws-1"
    assert order["state"] == "done"


class _ResetSocket:
    """The server side of a socket whose peer was SIGKILLed: not closed yet, writes fail."""

    closed = False

    async def send_str(self, data: str) -> None:
        raise ConnectionResetError("Cannot write to closing transport")


async def test_a_send_to_a_vanished_client_ends_its_sender_quietly(
    desk: Desk, server: SimServer
) -> None:
    conn = _Conn(cast(web.WebSocketResponse, _ResetSocket()), None)
    conn.queue.put_nowait({"global.tickers": {}})

    await asyncio.wait_for(server.hub._send_loop(conn), timeout=5)  # returns, no raise

    assert conn.queue.empty()
