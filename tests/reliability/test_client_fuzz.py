"""Fuzz every ``SafeTradeClient`` endpoint with malformed, truncated, wrongly typed and huge
bodies from a real local server: the only error ever raised is ``MalformedResponse``.

``place_order`` may also raise ``OrderOutcomeUnknown``: an unreadable answer to an order
POST means the order may exist, which is exactly what that error says (it is resolved by
client-id lookup, never by re-sending).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import SystemClock
from bot.domain.orders import OrderRequest, OrderType, Side
from bot.exchange.errors import MalformedResponse, OrderOutcomeUnknown
from bot.exchange.retry import RetryPolicy
from bot.exchange.safetrade.client import SafeTradeClient

Call = Callable[[SafeTradeClient], Awaitable[object]]

REQUEST = OrderRequest(
    market="btcusdt", side=Side.SELL, type=OrderType.LIMIT, amount=Decimal("0.1"),
    price=Decimal(65000), client_id="sb-fuzz-1",
)  # fmt: skip
ENDPOINTS: dict[str, Call] = {
    "server_time": lambda c: c.server_time(),
    "markets": lambda c: c.markets(),
    "tickers": lambda c: c.tickers(),
    "ticker": lambda c: c.ticker("btcusdt"),
    "order_book": lambda c: c.order_book("btcusdt"),
    "public_trades": lambda c: c.public_trades("btcusdt"),
    "candles": lambda c: c.candles("btcusdt", 1, 0, 60),
    "balances": lambda c: c.balances(),
    "get_order": lambda c: c.get_order("1"),
    "orders": lambda c: c.orders("btcusdt"),
    "open_orders": lambda c: c.open_orders("btcusdt"),
    "order_trades": lambda c: c.order_trades("1"),
    "place_order": lambda c: c.place_order(REQUEST),
    "cancel_order": lambda c: c.cancel_order("1"),
    "cancel_all": lambda c: c.cancel_all("btcusdt"),
    "find_order": lambda c: c.find_order("btcusdt", "sb-fuzz-1"),
}

VALID_SHAPES: list[Any] = [
    {"id": 1, "market": "btcusdt", "side": "sell", "ord_type": "limit", "price": "1",
     "origin_volume": "1", "executed_volume": "0", "state": "wait",
     "created_at": "2026-01-01T00:00:00Z"},
    {"id": "btcusdt", "base_unit": "btc", "quote_unit": "usdt", "amount_precision": 4,
     "price_precision": 2, "min_amount": "0.0001", "state": "enabled"},
    {"currency": "btc", "balance": "1", "locked": "0"},
    {"asks": [["1", "2"]], "bids": [["1", "x"]]},
    {"ticker": {"last": "1", "buy": "1", "sell": "2", "vol": "3"}},
    [[0, 1, 2, 3, 4, 5]],
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)  # fmt: skip


def _mutated(shape: Any, key: str, value: Any) -> Any:
    if isinstance(shape, dict):
        return {**shape, (key if key in shape else next(iter(shape))): value}
    return [value, *shape]


bodies = st.one_of(
    json_values.map(json.dumps),
    st.builds(_mutated, st.sampled_from(VALID_SHAPES), st.sampled_from(["id", "price", "state",
              "created_at", "origin_volume", "balance", "asks"]), json_values).map(json.dumps),
    st.builds(lambda s, cut: json.dumps(s)[: max(1, cut)], st.sampled_from(VALID_SHAPES),
              st.integers(1, 60)),
    st.builds(lambda s, n: json.dumps([s] * n), st.sampled_from(VALID_SHAPES),
              st.integers(500, 3000)),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)  # fmt: skip


class BodyServer:
    """Answers every request with ``self.body`` as JSON, status 200."""

    def __init__(self) -> None:
        self.body = "{}"
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(text=self.body, content_type="application/json")


async def _start(srv: BodyServer) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", srv.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    srv.base_url = f"http://127.0.0.1:{port}/api/v2"
    return runner


async def _outcome(client: SafeTradeClient, name: str) -> str:
    try:
        await ENDPOINTS[name](client)
    except MalformedResponse:
        return "malformed"
    except OrderOutcomeUnknown:
        return "unknown" if name == "place_order" else "OrderOutcomeUnknown"
    except Exception as e:  # the finding this test exists to catch
        return f"{type(e).__name__}: {e}"
    return "ok"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_any_body_from_any_endpoint_is_ok_or_malformed(name: str) -> None:
    loop = asyncio.new_event_loop()  # hypothesis drives examples; server and client share it
    server = BodyServer()
    runner = loop.run_until_complete(_start(server))
    clock = SystemClock()
    client = SafeTradeClient(
        server.base_url, "k", "s", clock=clock, rng=random.Random(1),
        retry=RetryPolicy(clock, random.Random(1), attempts=1), time_sync_interval_s=1e9,
        rate_limit_per_s=1e6,
    )  # fmt: skip

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def check(body: str) -> None:
        server.body = body
        outcome = loop.run_until_complete(_outcome(client, name))
        assert outcome in {"ok", "malformed", "unknown"}, (body[:200], outcome)

    try:
        check()
    finally:
        loop.run_until_complete(client.close())
        loop.run_until_complete(runner.cleanup())
        loop.close()
