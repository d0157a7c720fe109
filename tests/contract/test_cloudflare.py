"""``SafeTradeClient`` and ``SafeTradeStream`` behind the simulator's Cloudflare: challenge and
region-block pages are ``ExchangeBlocked`` on every endpoint, an order POST answered by one is an
unknown outcome resolved by lookup (never re-sent), and our User-Agent is not challenged."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bot.bootstrap import build_app
from bot.clock import SystemClock
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import ExchangeBlocked, OrderOutcomeUnknown
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.stream import SafeTradeStream
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.tracker import OrderTracker
from bot.service.cycle import run_prioritisation_cycle
from bot.service.jobs import guarded
from bot.sim.demo import DEMO_KEY
from tests.contract import test_client_faults
from tests.contract.test_client_faults import Rig
from tests.contract.test_stream import _until
from tests.service.test_two_daemons import _settings

Call = Callable[[SafeTradeClient], Awaitable[object]]


rig = test_client_faults.rig  # the simulator behind a FaultPlan, and a client


def _ws_url(rig: Rig) -> str:
    return rig.base_url.replace("http://", "ws://", 1) + "/websocket"


def _request(client_id: str, price: Decimal) -> OrderRequest:
    return OrderRequest(client_id, "ethusdt", Side.SELL, OrderType.LIMIT, Decimal("0.01"), price)


async def _far_price(rig: Rig) -> Decimal:
    book = await rig.client.order_book("ethusdt")
    assert book.best_ask is not None
    return (book.best_ask * 3).quantize(Decimal("0.01"))  # rests: never fills


def _ours(rig: Rig, client_id: str) -> list[str]:
    orders = rig.engine.open_orders(DEMO_KEY, "ethusdt")
    return [o.client_id for o in orders if o.client_id == client_id]


CALLS: dict[str, Call] = {
    "markets": lambda c: c.markets(),
    "tickers": lambda c: c.tickers(),
    "order_book": lambda c: c.order_book("btcusdt"),
    "balances": lambda c: c.balances(),
    "get_order": lambda c: c.get_order("1"),
    "find_order": lambda c: c.find_order("btcusdt", "sb-cf-0"),
    "cancel_order": lambda c: c.cancel_order("1"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_a_challenge_on_any_endpoint_is_exchange_blocked_and_not_retried(
    rig: Rig, name: str
) -> None:
    rig.plan.challenge_all = True

    with pytest.raises(ExchangeBlocked) as info:
        await CALLS[name](rig.client)

    assert info.value.reason == "Cloudflare challenge"
    assert rig.plan.counters["challenge"] == 1  # one request: a block is not retried
    assert rig.client.retry.retries == 0


async def test_a_geo_block_is_region_blocked(rig: Rig) -> None:
    rig.plan.geo_block = True

    with pytest.raises(ExchangeBlocked) as info:
        await rig.client.markets()

    assert info.value.reason == "region blocked"


async def test_a_challenged_order_post_is_unknown_and_never_resent(rig: Rig) -> None:
    price = await _far_price(rig)
    await rig.client.balances()  # the clock sync happens before the challenge is armed
    rig.plan.challenge_all = True

    with pytest.raises(OrderOutcomeUnknown) as info:
        await rig.client.place_order(_request("sb-cf-front", price))
    with pytest.raises(ExchangeBlocked):  # still blocked: the lookup cannot answer yet
        await rig.client.find_order("ethusdt", "sb-cf-front")
    rig.plan.challenge_all = False
    found = await rig.client.find_order("ethusdt", "sb-cf-front")

    assert isinstance(info.value.__cause__, ExchangeBlocked)
    assert info.value.client_id == "sb-cf-front"
    assert found is None  # Cloudflare never let it through: nothing to find, nothing re-sent
    assert _ours(rig, "sb-cf-front") == []


async def test_an_accepted_order_answered_by_a_challenge_is_found_once_unblocked(rig: Rig) -> None:
    price = await _far_price(rig)
    await rig.client.balances()
    rig.plan.lost_mode = "challenge"  # the order is placed; the answer is a challenge page
    rig.plan.force("lost_response")

    with pytest.raises(OrderOutcomeUnknown):
        await rig.client.place_order(_request("sb-cf-lost", price))
    rig.plan.challenge_all = True
    with pytest.raises(ExchangeBlocked):
        await rig.client.find_order("ethusdt", "sb-cf-lost")
    rig.plan.challenge_all = False
    found = await rig.client.find_order("ethusdt", "sb-cf-lost")

    assert found is not None
    assert found.state is OrderState.OPEN
    assert _ours(rig, "sb-cf-lost") == ["sb-cf-lost"]  # exactly one: no duplicate


async def test_the_tracker_records_a_challenged_post_as_unknown_then_resolves_it(rig: Rig) -> None:
    price = await _far_price(rig)
    await rig.client.balances()
    store = MemoryExecutionStore()
    tracker = OrderTracker(exchange=rig.client, store=store, clock=SystemClock())
    rig.plan.lost_mode = "challenge"
    rig.plan.force("lost_response")

    with capture_logs() as logs:
        record = await tracker.submit(
            "cf1", "ethusdt", type=OrderType.LIMIT, amount=Decimal("0.01"), price=price
        )

    events = [e["event"] for e in logs]
    assert "order_outcome_unknown" in events
    assert "order_rejected" not in events
    assert record.state is OrderState.OPEN  # resolved by lookup, not counted as rejected
    assert record.exchange_id is not None
    assert _ours(rig, record.client_id) == [record.client_id]


async def test_our_user_agent_is_not_challenged_while_a_bare_aiohttp_client_is(rig: Rig) -> None:
    rig.plan.challenge_default_ua = True

    markets = await rig.client.markets()
    balances = await rig.client.balances()
    async with (
        aiohttp.ClientSession() as bare,
        bare.get(rig.base_url + "/public/markets") as r,
    ):
        status, headers, text = r.status, r.headers, await r.text()

    assert markets
    assert balances
    assert status == 403
    assert headers["cf-mitigated"] == "challenge"
    assert headers["server"] == "cloudflare"
    assert "cf-ray" in headers
    assert "Just a moment..." in text
    assert rig.plan.counters["challenge"] == 1


def _stream(rig: Rig) -> SafeTradeStream:
    return SafeTradeStream(
        rig.base_url,
        clock=SystemClock(),
        rng=random.Random(3),
        markets=["btcusdt"],
        backoff_base_s=0.02,
        backoff_cap_s=0.05,
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("challenge_all", "Cloudflare challenge"), ("geo_block", "blocked by a proxy (HTTP 403)")],
)
async def test_a_blocked_websocket_handshake_logs_the_reason_once(
    rig: Rig, mode: str, reason: str
) -> None:
    setattr(rig.plan, mode, True)
    async with aiohttp.ClientSession() as bare:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await bare.ws_connect(_ws_url(rig) + "/public")
    stream = _stream(rig)

    with capture_logs() as logs:
        await stream.start()
        try:
            await _until(
                lambda: rig.plan.counters["challenge"] + rig.plan.counters["geo_block"] > 4
            )
        finally:
            await stream.close()

    blocked = [e for e in logs if e["event"] == "exchange_blocked"]
    assert info.value.status == 403
    assert [e["reason"] for e in blocked] == [reason]  # once, however many reconnects
    assert stream.connects == 0


async def test_the_stream_sends_our_user_agent_and_is_not_challenged(rig: Rig) -> None:
    rig.plan.challenge_default_ua = True
    stream = _stream(rig)

    await stream.start()
    try:
        await _until(lambda: stream.connected["public"])
    finally:
        await stream.close()

    assert rig.plan.counters["challenge"] == 0


async def test_a_200_challenge_page_is_caught_not_parsed() -> None:
    async def challenge(_request: web.Request) -> web.Response:
        headers = {"Server": "cloudflare", "CF-RAY": "8f1e2d3c4b5a6978-YYZ"}
        page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
        return web.Response(text=page, content_type="text/html", headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", challenge)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    clock = SystemClock()
    client = SafeTradeClient(
        f"http://127.0.0.1:{port}/api/v2", None, None, clock=clock, rng=random.Random(1)
    )
    try:
        with pytest.raises(ExchangeBlocked) as info:
            await client.markets()
    finally:
        await client.close()
        await runner.cleanup()

    assert info.value.reason == "Cloudflare challenge"
    assert info.value.status == 200


async def test_a_cycle_against_a_challenged_exchange_logs_one_line_and_no_traceback(
    rig: Rig, db_url: str
) -> None:
    app = build_app(
        _settings(db_url), clock=SystemClock(), rng=random.Random(1), exchange=rig.client
    )
    rig.plan.challenge_all = True
    try:
        with capture_logs() as logs:
            await guarded("prioritise", lambda: run_prioritisation_cycle(app), app.metrics)()
    finally:
        await app.close()

    blocked = [e for e in logs if e["event"] == "exchange_blocked"]
    assert [e["reason"] for e in blocked] == ["Cloudflare challenge"]
    assert not [e for e in logs if e["event"] == "job_failed" or "exc_info" in e]
    assert app.metrics.exchange_blocked.get(job="prioritise", reason="Cloudflare challenge") == 1
    assert app.metrics.job_errors.get(job="prioritise") == 0
