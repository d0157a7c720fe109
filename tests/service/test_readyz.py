"""``/readyz``: one exchange call per cache window, and the WebSocket stream's state."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

import aiohttp

from bench.reliability.stream_leg import bad_frames
from bot.clock import SystemClock, VirtualClock
from bot.exchange.forwarding import ForwardingExchange
from bot.exchange.gate import GatedExchange
from bot.exchange.port import Exchange
from bot.exchange.safetrade.stream import SafeTradeStream
from bot.exchange.streaming import StreamingExchange, stream_of
from bot.metrics import Metrics
from bot.service.ops_http import OpsServer, ReadinessChecks, create_ops_app
from bot.service.streaming import StreamReadiness
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from bot.sim.server import SimServer
from tests.contract import test_stream
from tests.contract.test_stream import _until

server = test_stream.server  # the simulator fixture


class CountingExchange(ForwardingExchange):
    """``inner`` with its ``server_time`` calls counted (the daemon's exchange check)."""

    def __init__(self, inner: Exchange) -> None:
        super().__init__(inner)
        self.server_time_calls = 0

    async def server_time(self) -> datetime:
        self.server_time_calls += 1
        return await self.inner.server_time()


async def _ok() -> bool:
    return True


async def _serve(checks: ReadinessChecks, metrics: Metrics | None = None) -> OpsServer:
    ops = OpsServer(create_ops_app(metrics or Metrics(), checks), host="127.0.0.1", port=0)
    await ops.start()
    return ops


async def _get(ops: OpsServer, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{ops.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        body = await resp.json() if path == "/readyz" else await resp.text()
        return resp.status, body


async def test_readyz_asks_the_exchange_once_per_cache_window() -> None:
    clock = VirtualClock()
    engine, _ = build_demo_engine(clock, seed=1)
    exchange = CountingExchange(SimExchange(engine, DEMO_KEY, clock=clock))

    async def exchange_ok() -> bool:
        await exchange.server_time()
        return True

    checks = ReadinessChecks(
        database=_ok, exchange=exchange_ok, scheduler=lambda: True, clock=clock, exchange_cache_s=5
    )
    ops = await _serve(checks)
    try:
        statuses = [(await _get(ops, "/readyz"))[0] for _ in range(25)]
        statuses += [s for s, _ in await asyncio.gather(*(_get(ops, "/readyz") for _ in range(25)))]
        within_window = exchange.server_time_calls
        await clock.advance(5)
        status, body = await _get(ops, "/readyz")
    finally:
        await ops.stop()

    assert statuses == [200] * 50
    assert within_window == 1
    assert exchange.server_time_calls == 2
    assert status == 200
    assert body["exchange"] is True


async def test_readyz_reports_a_bad_frame_and_the_stream_down(server: SimServer) -> None:
    stream = SafeTradeStream(
        server.base_url, clock=SystemClock(), rng=random.Random(3), markets=["btcusdt"],
        backoff_base_s=0.05, backoff_cap_s=0.2,
    )  # fmt: skip
    metrics = Metrics()
    checks = ReadinessChecks(
        database=_ok, exchange=_ok, scheduler=lambda: True,
        stream=StreamReadiness(stream, metrics, grace_s=0.2),
    )  # fmt: skip
    ops = await _serve(checks, metrics)
    await stream.start()
    try:
        await _until(lambda: stream.book("btcusdt") is not None)
        server.hub.inject_raw(bad_frames("btcusdt")["negative_price"])
        await _until(lambda: stream.connects == 2 and stream.book("btcusdt") is not None)
        up_status, up = await _get(ops, "/readyz")
        await server.stop()  # the exchange's WebSocket is gone and stays gone
        await _until(lambda: not stream.connected["public"])
        await SystemClock().sleep(0.3)  # past the grace
        down_status, down = await _get(ops, "/readyz")
        _, scraped = await _get(ops, "/metrics")
    finally:
        await stream.close()
        await ops.stop()

    assert up_status == 200
    assert up["stream"]["connected"] is True
    assert up["stream"]["bad_messages"] == 1
    assert up["stream"]["reconnects"] == 1
    assert down_status == 503
    assert down["ready"] is False
    assert down["stream"]["ready"] is False
    assert down["stream"]["connected"] is False
    assert "stream down" in down["stream"]["reason"]
    assert "sellbot_stream_connected 0.0" in scraped
    assert "sellbot_stream_ready 0.0" in scraped
    assert "sellbot_stream_bad_messages_total 1.0" in scraped
    assert "sellbot_stream_reconnects_total 1.0" in scraped


async def test_the_daemon_finds_the_stream_behind_the_gate(server: SimServer) -> None:
    stream = SafeTradeStream(
        server.base_url, clock=SystemClock(), rng=random.Random(3), markets=["btcusdt"]
    )
    inner = SimExchange(server.engine, DEMO_KEY, clock=SystemClock())

    assert stream_of(GatedExchange(StreamingExchange(inner, stream))) is stream
    assert stream_of(GatedExchange(inner)) is None
