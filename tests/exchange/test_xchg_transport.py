"""Both transports (aiohttp, curl_cffi) against the real simulator and a local echo server:
the same answers, limits and errors; the non-browser challenge; the switch between them."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bot.clock import SystemClock
from bot.exchange.errors import MalformedResponse
from bot.exchange.safetrade import endpoints
from bot.exchange.safetrade.errors import blocked_error
from bot.exchange.safetrade.transport import (
    HEARTBEAT_S,
    AiohttpTransport,
    Transport,
    TransportError,
    TransportSwitch,
    WsConnection,
)
from bot.exchange.safetrade.transport_curl import CurlTransport
from bot.sim.demo import build_demo_engine
from bot.sim.faults import FaultPlan
from bot.sim.server import SimServer

NAMES = ("aiohttp", "curl_cffi")
OUR_UA = {endpoints.HEADER_USER_AGENT: endpoints.USER_AGENT}
TICKERS = "global.tickers"
TIMESTAMP = "/trade/public/timestamp"  # a JSON string: the server's time
MARKETS = "/public/markets"
_FRAMES = 200  # a wanted frame arrives within this many, or the test fails


@dataclass
class Sim:
    server: SimServer
    plan: FaultPlan

    def url(self, path: str) -> str:
        return self.server.base_url + path

    @property
    def ws_public(self) -> str:
        return self.server.ws_url + "/public"


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    clock = SystemClock()
    engine, credentials = build_demo_engine(clock, seed=7)
    plan = FaultPlan(seed=1)
    async with SimServer(
        engine, credentials=credentials, clock=clock, faults=plan, ws_interval_s=0.05
    ) as server:
        yield Sim(server, plan)


Make = Callable[..., Transport]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Build transports by name (closed at the end of the test)."""
    built: list[Transport] = []

    def build(name: str, timeout_s: float = 5.0, heartbeat_s: float = HEARTBEAT_S) -> Transport:
        transport: Transport = (
            AiohttpTransport(timeout_s)
            if name == "aiohttp"
            else CurlTransport(timeout_s, heartbeat_s=heartbeat_s)
        )
        built.append(transport)
        return transport

    yield build
    for transport in built:
        await transport.close()


async def _get(transport: Transport, url: str, *, max_body: int = 1 << 20) -> bytes:
    reply = await transport.request(
        "GET", url, params=None, data=None, headers=OUR_UA, max_body=max_body
    )
    assert reply.status == 200
    return reply.body


async def _next_with(ws: WsConnection, key: str) -> dict[str, object]:
    for _ in range(_FRAMES):
        text = await ws.receive_text()
        assert text is not None, "the connection ended"
        frame = json.loads(text)
        if key in frame:
            return dict(frame)
    pytest.fail(f"no {key} frame in {_FRAMES}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there any more


# --- REST ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
async def test_get_returns_the_status_headers_and_body(sim: Sim, make: Make, name: str) -> None:
    transport = make(name)

    reply = await transport.request(
        "GET", sim.url(TIMESTAMP), params=None, data=None, headers=OUR_UA, max_body=4096
    )

    assert transport.name == name
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["Content-Type"] == reply.headers["CONTENT-TYPE"]
    assert json.loads(reply.body).startswith(str(SystemClock().now().year))


@pytest.mark.parametrize("name", NAMES)
async def test_a_body_over_max_body_is_malformed(sim: Sim, make: Make, name: str) -> None:
    transport = make(name)
    size = len(await _get(transport, sim.url(MARKETS)))

    with pytest.raises(MalformedResponse, match="larger than"):
        await _get(transport, sim.url(MARKETS), max_body=size - 1)

    assert len(await _get(transport, sim.url(MARKETS), max_body=size)) == size


@pytest.mark.parametrize("name", NAMES)
async def test_a_refused_connection_is_a_transport_error(make: Make, name: str) -> None:
    transport = make(name)

    with pytest.raises(TransportError) as info:
        await _get(transport, f"http://127.0.0.1:{_closed_port()}/api/v2/trade/public/timestamp")

    assert info.value.status is None
    assert info.value.error  # the underlying exception's type name


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "query": dict(request.query),
            "body": await request.text(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        },
        headers={"X-Echo": "yes"},
    )


async def _slow(request: web.Request) -> web.Response:
    await SystemClock().sleep(1.5)  # past the 0.3 s timeout
    return web.json_response("late")


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_route("*", "/slow", _slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/echo"
    await runner.cleanup()


@pytest.mark.parametrize("name", NAMES)
async def test_a_post_carries_its_params_body_and_headers(
    echo_url: str, make: Make, name: str
) -> None:
    headers = {**OUR_UA, "Content-Type": "application/json", "X-Auth-Apikey": "k"}

    reply = await make(name).request(
        "POST", echo_url, params={"limit": 5}, data='{"a": 1}', headers=headers, max_body=1 << 16
    )

    seen = json.loads(reply.body)
    assert reply.headers["x-echo"] == "yes"
    assert (seen["method"], seen["query"], seen["body"]) == ("POST", {"limit": "5"}, '{"a": 1}')
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["x-auth-apikey"] == "k"
    assert seen["headers"]["accept"] == "application/json"
    if name == "aiohttp":
        assert seen["headers"]["user-agent"] == endpoints.USER_AGENT
    else:  # the impersonated browser's own, never ours
        assert "sellbot" not in seen["headers"]["user-agent"]
        assert "Chrome/" in seen["headers"]["user-agent"]


@pytest.mark.parametrize("name", NAMES)
async def test_an_answer_later_than_the_timeout_is_a_transport_error(
    echo_url: str, make: Make, name: str
) -> None:
    clock = SystemClock()
    started = clock.monotonic()

    with pytest.raises(TransportError):
        await _get(make(name, timeout_s=0.3), echo_url.replace("/echo", "/slow"))

    assert clock.monotonic() - started < 1.2


@pytest.mark.parametrize(
    ("name", "status"), [("aiohttp", 403), ("curl_cffi", 200)], ids=["aiohttp", "curl_cffi"]
)
async def test_the_non_browser_challenge_stops_aiohttp_and_passes_curl(
    sim: Sim, make: Make, name: str, status: int
) -> None:
    sim.plan.challenge_non_browser = True

    reply = await make(name).request(
        "GET", sim.url(TIMESTAMP), params=None, data=None, headers=OUR_UA, max_body=4096
    )

    assert reply.status == status
    blocked = blocked_error(reply.status, reply.body, reply.headers)
    if status == 403:
        assert reply.headers["CF-Mitigated"] == "challenge"
        assert blocked is not None
        assert blocked.reason == endpoints.REASON_CHALLENGE
    else:
        assert blocked is None
    assert sim.plan.counters["challenge"] == (1 if status == 403 else 0)


def test_challenge_non_browser_is_reset_by_clear() -> None:
    plan = FaultPlan(challenge_non_browser=True)
    assert plan.block(endpoints.USER_AGENT) == "challenge"

    plan.clear()

    assert plan.block(endpoints.USER_AGENT) is None


# --- the switch ---------------------------------------------------------------------------


async def test_auto_moves_to_curl_once_and_then_passes_the_challenge(sim: Sim) -> None:
    switch = TransportSwitch("auto", 5.0)
    sim.plan.challenge_non_browser = True
    try:
        assert switch.current().name == "aiohttp"
        with capture_logs() as logs:
            first, second = switch.on_challenge(), switch.on_challenge()

        body = await _get(switch.current(), sim.url(TIMESTAMP))
    finally:
        await switch.close()

    assert (first, second) == (True, False)
    assert switch.current().name == "curl_cffi"
    assert json.loads(body)
    switched = [e for e in logs if e["event"] == "exchange_transport_switched"]
    assert [(e["from"], e["to"]) for e in switched] == [("aiohttp", "curl_cffi")]


@pytest.mark.parametrize("mode", ["aiohttp", "curl_cffi"])
async def test_a_fixed_mode_never_switches(mode: str) -> None:
    switch = TransportSwitch(mode, 5.0)

    moved = switch.on_challenge()
    await switch.close()

    assert moved is False
    assert switch.current().name == mode


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        TransportSwitch("bogus", 5.0)


async def test_closing_the_switch_leaves_an_injected_session_open(sim: Sim) -> None:
    async with aiohttp.ClientSession() as session:
        switch = TransportSwitch("auto", 5.0, aiohttp_session=session)
        await _get(switch.current(), sim.url(TIMESTAMP))
        switch.on_challenge()
        await _get(switch.current(), sim.url(TIMESTAMP))

        await switch.close()

        assert not session.closed


# --- WebSocket ----------------------------------------------------------------------------


def _subscribe(*streams: str) -> str:
    return json.dumps({endpoints.WS_EVENT: endpoints.WS_SUBSCRIBE, endpoints.WS_STREAMS: streams})


@pytest.mark.parametrize("name", NAMES)
async def test_a_websocket_subscribes_and_receives_tickers(sim: Sim, make: Make, name: str) -> None:
    async with make(name).ws_connect(sim.ws_public, OUR_UA) as ws:
        await ws.send_text(_subscribe(TICKERS))

        frame = await _next_with(ws, TICKERS)

    assert "btcusdt" in frame[TICKERS]  # type: ignore[operator]


@pytest.mark.parametrize("name", NAMES)
async def test_a_websocket_outlives_the_request_timeout(sim: Sim, make: Make, name: str) -> None:
    clock = SystemClock()
    async with make(name, timeout_s=0.2).ws_connect(sim.ws_public, OUR_UA) as ws:
        await ws.send_text(_subscribe(TICKERS))
        await clock.sleep(0.5)

        frame = await _next_with(ws, TICKERS)

    assert frame[TICKERS]


async def test_curl_pings_an_idle_websocket_and_keeps_receiving(sim: Sim, make: Make) -> None:
    sim.server.hub.interval_s = 0.5  # ten heartbeats pass between two ticker frames
    async with make("curl_cffi", heartbeat_s=0.05).ws_connect(sim.ws_public, OUR_UA) as ws:
        await ws.send_text(_subscribe(TICKERS))

        first = await _next_with(ws, TICKERS)
        second = await _next_with(ws, TICKERS)

    assert first[TICKERS]
    assert second[TICKERS]


@pytest.mark.parametrize("name", NAMES)
async def test_a_closed_websocket_receives_none_and_refuses_sends(
    sim: Sim, make: Make, name: str
) -> None:
    async with make(name).ws_connect(sim.ws_public, OUR_UA) as ws:
        await ws.send_text(_subscribe(TICKERS))
        await _next_with(ws, TICKERS)
        await sim.server.stop()  # the hub closes every connection

        texts = [await ws.receive_text() for _ in range(_FRAMES)]

        with pytest.raises(TransportError):
            await ws.send_text(_subscribe(TICKERS))

    assert None in texts
    assert texts[texts.index(None) :] == [None] * (len(texts) - texts.index(None))


@pytest.mark.parametrize("name", NAMES)
async def test_a_blocked_handshake_is_a_transport_error_with_its_status(
    sim: Sim, make: Make, name: str
) -> None:
    sim.plan.challenge_all = True

    with pytest.raises(TransportError) as info:
        async with make(name).ws_connect(sim.ws_public, OUR_UA):
            pytest.fail("the handshake was refused")

    assert info.value.status == 403
    assert info.value.headers["cf-mitigated"] == "challenge"
    blocked = blocked_error(403, "", info.value.headers)
    assert blocked is not None
    assert blocked.reason == endpoints.REASON_CHALLENGE


@pytest.mark.parametrize("name", NAMES)
async def test_a_refused_websocket_connection_has_no_status(make: Make, name: str) -> None:
    url = f"ws://127.0.0.1:{_closed_port()}/api/v2/websocket/public"

    with pytest.raises(TransportError) as info:
        async with make(name).ws_connect(url, OUR_UA):
            pytest.fail("nothing listens there")

    assert info.value.status is None


async def test_only_the_browser_handshake_passes_the_non_browser_challenge(
    sim: Sim, make: Make
) -> None:
    sim.plan.challenge_non_browser = True

    with pytest.raises(TransportError) as info:
        async with make("aiohttp").ws_connect(sim.ws_public, OUR_UA):
            pytest.fail("aiohttp is not a browser")
    async with make("curl_cffi").ws_connect(sim.ws_public, OUR_UA) as ws:
        await ws.send_text(_subscribe(TICKERS))
        frame = await _next_with(ws, TICKERS)

    assert info.value.status == 403
    assert frame[TICKERS]
