"""Discovery picks the family a simulator serves; an override is honoured; a sale completes."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest

from bot.clock import SystemClock
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import NotFound
from bot.exchange.safetrade.client import SafeTradeClient
from bot.exchange.safetrade.discovery import discover
from bot.exchange.safetrade.profiles import PRIVATE, PUBLIC, Family
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.server import SimServer


@asynccontextmanager
async def served(
    families: Iterable[str] | None, profile: Family | None = None
) -> AsyncIterator[SafeTradeClient]:
    clock = SystemClock()
    engine, credentials = build_demo_engine(clock, seed=5)
    async with SimServer(engine, credentials=credentials, clock=clock, families=families) as srv:
        client = SafeTradeClient(
            srv.base_url,
            DEMO_KEY,
            DEMO_SECRET,
            clock=clock,
            rng=random.Random(1),
            rate_limit_per_s=1000,
            profile=profile,
        )
        try:
            yield client
        finally:
            await client.close()


async def sell_a_little(client: SafeTradeClient) -> None:
    """A market sell, then its trades through the family's order-trades route."""
    request = OrderRequest(
        market="btcusdt",
        side=Side.SELL,
        type=OrderType.MARKET,
        amount=Decimal("0.01"),
        client_id="sb-discovery-1",
    )
    order = await client.place_order(request)
    done = await client.get_order(order.id)
    fills = await client.order_trades(order.id)

    assert done.state is OrderState.FILLED
    assert fills
    assert sum(f.amount for f in fills) == Decimal("0.01")
    assert {f.order_id for f in fills} == {order.id}
    assert await client.find_order("btcusdt", "sb-discovery-1") is not None


@pytest.mark.parametrize("family", list(Family))
async def test_discovery_picks_the_only_family_served(family: Family) -> None:
    async with served({family.value}) as client:
        found = await discover(client, SystemClock(), private=True)
        await sell_a_little(client)
        routes = client.routes.summary()

    assert found.failed == {}
    assert {routes[c] for c in PUBLIC} == {family.value}
    assert client.routes.private_family is family
    assert {routes[c] for c in PRIVATE if c in routes} == {family.value}


async def test_all_families_served_discovery_prefers_trade() -> None:
    async with served(None) as client:
        found = await discover(client, SystemClock(), private=True)
        await sell_a_little(client)

    assert set(found.chosen.values()) == {"trade"}
    assert client.routes.private_family is Family.TRADE


async def test_an_override_is_honoured_without_probing_other_families() -> None:
    async with served({"peatio"}, profile=Family.TRADE) as client:
        with pytest.raises(NotFound):
            await client.markets()  # the trade family is not served, and never looked past
        assert client.routes.summary()["markets"] == "trade"

    async with served(None, profile=Family.SEED) as client:
        assert (await client.order_book("btcusdt", 5)).bids
        await sell_a_little(client)
        assert client.routes.chosen == {}  # fixed: nothing discovered


async def test_open_orders_use_a_comma_state_list_on_trade_and_one_state_elsewhere() -> None:
    for family in ("trade", "seed"):
        async with served({family}) as client:
            request = OrderRequest(
                market="btcusdt",
                side=Side.SELL,
                type=OrderType.LIMIT,
                amount=Decimal("0.01"),
                price=Decimal("1000000"),
                client_id=f"sb-rest-{family}",
            )
            order = await client.place_order(request)
            listed = await client.open_orders("btcusdt")

        assert [o.id for o in listed] == [order.id]
