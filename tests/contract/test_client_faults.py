"""``SafeTradeClient`` against the simulator's server with faults injected on real HTTP."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from aiohttp import web

from bot.clock import SystemClock
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import AuthError, MalformedResponse, OrderOutcomeUnknown, RateLimited
from bot.exchange.retry import RetryPolicy
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.profiles import Family
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.engine import MatchingEngine
from bot.sim.faults import FaultPlan
from bot.sim.server import SimServer


@dataclass
class Rig:
    client: SafeTradeClient
    plan: FaultPlan
    engine: MatchingEngine
    base_url: str


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = SystemClock()
    engine, credentials = build_demo_engine(clock, seed=3)
    plan = FaultPlan(seed=1, retry_after_s=1.0)
    async with SimServer(engine, credentials=credentials, clock=clock, faults=plan) as server:
        retry = RetryPolicy(clock, random.Random(2), attempts=4, base_s=0.01, cap_s=0.05)
        client = SafeTradeClient(
            server.base_url,
            DEMO_KEY,
            DEMO_SECRET,
            clock=clock,
            rng=random.Random(2),
            retry=retry,
            rate_limit_per_s=1000,  # the client's own limiter is tested elsewhere
        )
        yield Rig(client, plan, engine, server.base_url)
        await client.close()


async def test_reads_survive_5xx_429_and_resets(rig: Rig) -> None:
    for kind in ("status_5xx", "rate_limited", "reset", "reset"):
        rig.plan.force(kind)

    book = await rig.client.order_book("btcusdt")

    assert book.bids
    assert rig.plan.counters["status_5xx"] == 1
    assert rig.plan.counters["rate_limited"] == 1
    assert rig.plan.counters["reset"] == 2


async def test_an_order_post_is_never_retried_on_429(rig: Rig) -> None:
    await rig.client.balances()  # the clock-offset sync happens before the 429 is armed
    rig.plan.force("rate_limited")
    request = OrderRequest("sb-f-429", "btcusdt", Side.SELL, OrderType.MARKET, Decimal("0.01"))

    with pytest.raises(RateLimited) as info:
        await rig.client.place_order(request)

    assert info.value.retry_after_s == pytest.approx(1.0)
    assert rig.engine.find_order(DEMO_KEY, "sb-f-429") is None


async def test_lost_responses_never_create_a_duplicate_order(rig: Rig) -> None:
    book = await rig.client.order_book("ethusdt")
    assert book.best_ask is not None
    price = (book.best_ask * 3).quantize(Decimal("0.01"))
    unknown = 0

    for i in range(100):
        rig.plan.force("lost_response")
        request = OrderRequest(
            f"sb-lost-{i}", "ethusdt", Side.SELL, OrderType.LIMIT, Decimal("0.01"), price
        )
        with pytest.raises(OrderOutcomeUnknown) as info:
            await rig.client.place_order(request)
        unknown += info.value.client_id == request.client_id
        found = await rig.client.find_order("ethusdt", request.client_id)  # resolve, never re-send
        assert found is not None
        assert found.state is OrderState.OPEN

    on_exchange = await rig.client.open_orders("ethusdt")
    assert unknown == 100
    assert rig.plan.counters["lost_response"] == 100
    assert len(on_exchange) == 100
    assert len({o.client_id for o in on_exchange}) == 100


async def test_wrong_secret_is_an_auth_error(rig: Rig) -> None:
    clock = SystemClock()
    bad = SafeTradeClient(rig.base_url, DEMO_KEY, "wrong", clock=clock, rng=random.Random(1))
    try:
        with pytest.raises(AuthError):
            await bad.balances()
    finally:
        await bad.close()


async def _garbage(request: web.Request) -> web.Response:
    bodies = ['{"oops"', "[1, 2", '"just a string"', "<html>bad gateway</html>", "{}", "null"]
    return web.Response(
        text=bodies[len(request.path) % len(bodies)], content_type="application/json"
    )


async def test_malformed_bodies_from_every_endpoint_raise_malformed_response() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _garbage)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    clock = SystemClock()
    retry = RetryPolicy(clock, random.Random(1), attempts=1)
    client = SafeTradeClient(
        f"http://127.0.0.1:{port}/api/v2",
        "k",
        "s",
        clock=clock,
        rng=random.Random(1),
        retry=retry,
        profile=Family.SEED,  # one path per call: discovery would try the next family
    )
    calls = {
        "markets": client.markets(),
        "tickers": client.tickers(),
        "ticker": client.ticker("btcusdt"),
        "order_book": client.order_book("btcusdt"),
        "public_trades": client.public_trades("btcusdt"),
        "candles": client.candles("btcusdt", 1, 0, 60),
        "balances": client.balances(),
        "get_order": client.get_order("1"),
        "orders": client.orders("btcusdt"),
        "order_trades": client.order_trades("1"),
        "cancel_order": client.cancel_order("1"),
        "cancel_all": client.cancel_all("btcusdt"),
    }
    outcomes: dict[str, str] = {}
    try:
        for name, call in calls.items():
            try:
                await call
                outcomes[name] = "no error"
            except MalformedResponse:
                outcomes[name] = "malformed"
            except Exception as e:
                outcomes[name] = type(e).__name__
    finally:
        await client.close()
        await runner.cleanup()

    assert outcomes == dict.fromkeys(calls, "malformed")


async def test_concurrent_private_requests_arriving_out_of_nonce_order_all_succeed(
    rig: Rig,
) -> None:
    # every request is delayed at random on the server, so later nonces often arrive first
    rig.plan.p_latency, rig.plan.max_latency_s = 1.0, 0.05
    await rig.client.balances()

    results = await asyncio.gather(*(rig.client.balances() for _ in range(20)))

    assert all(results)
    assert rig.plan.counters["latency"] >= 21
