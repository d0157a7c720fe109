"""SimExchange: the Exchange port over the engine, errors mapped, faults injected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.clock import VirtualClock
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import (
    ExchangeUnavailable,
    InsufficientBalance,
    InvalidOrder,
    NotFound,
    OrderOutcomeUnknown,
    RateLimited,
)
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from bot.sim.faults import FaultPlan
from tests.sim.sim_helpers import ALICE, BOB, Desk


def _sell(client_id: str, amount: str, price: str | None = None) -> OrderRequest:
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderRequest(
        client_id=client_id,
        market="abcusdt",
        side=Side.SELL,
        type=kind,
        amount=Decimal(amount),
        price=Decimal(price) if price is not None else None,
    )


@pytest.fixture
def exchange(desk: Desk) -> SimExchange:
    return SimExchange(desk.engine, ALICE, clock=desk.clock)


async def test_place_get_find_and_cancel(exchange: SimExchange) -> None:
    placed = await exchange.place_order(_sell("c-1", "2", "12.00"))

    got = await exchange.get_order(placed.id)
    found = await exchange.find_order("abcusdt", "c-1")
    opened = await exchange.open_orders("abcusdt")
    cancelled = await exchange.cancel_order(placed.id)

    assert placed.state is OrderState.OPEN
    assert got == placed
    assert found == placed
    assert [o.id for o in opened] == [placed.id]
    assert cancelled.state is OrderState.CANCELLED
    assert await exchange.open_orders() == []


async def test_fills_and_balances_in_domain_terms(desk: Desk, exchange: SimExchange) -> None:
    desk.limit(BOB, Side.BUY, "3", "10.00")

    order = await exchange.place_order(_sell("c-2", "3"))
    fills = await exchange.order_trades(order.id)
    balances = {b.currency: b for b in await exchange.balances()}

    assert order.state is OrderState.FILLED
    assert order.avg_price == Decimal("10.00")
    assert sum(f.amount for f in fills) == Decimal(3)
    assert balances["abc"].available == Decimal(997)
    assert balances["usdt"].available == Decimal(100_000) + Decimal(30) * Decimal("0.998")


async def test_a_resting_order_read_again_shows_each_new_fill(
    desk: Desk, exchange: SimExchange
) -> None:
    placed = await exchange.place_order(_sell("c-9", "3", "11.00"))
    seen = []
    for _ in range(3):
        desk.limit(BOB, Side.BUY, "1", "11.00")
        order = await exchange.get_order(placed.id)
        fills = await exchange.order_trades(placed.id)
        seen.append((order.filled, order.state, [f.amount for f in fills]))
    fresh = SimExchange(desk.engine, ALICE, clock=desk.clock)

    assert seen == [
        (Decimal(1), OrderState.OPEN, [Decimal(1)]),
        (Decimal(2), OrderState.OPEN, [Decimal(1)] * 2),
        (Decimal(3), OrderState.FILLED, [Decimal(1)] * 3),
    ]
    assert await fresh.order_trades(placed.id) == await exchange.order_trades(placed.id)
    assert await fresh.get_order(placed.id) == await exchange.get_order(placed.id)


async def test_errors_are_mapped_to_the_bot_tree(exchange: SimExchange) -> None:
    with pytest.raises(InsufficientBalance):
        await exchange.place_order(_sell("c-3", "5000", "12.00"))
    with pytest.raises(InvalidOrder):
        await exchange.place_order(_sell("c-4", "1", "12.001"))
    with pytest.raises(NotFound):
        await exchange.get_order("999")
    with pytest.raises(NotFound):
        await exchange.order_book("nosuchusdt")


async def test_orders_filter_by_domain_state(exchange: SimExchange) -> None:
    kept = await exchange.place_order(_sell("c-5", "1", "12.00"))
    gone = await exchange.place_order(_sell("c-6", "1", "13.00"))
    await exchange.cancel_order(gone.id)

    opened = await exchange.orders("abcusdt", OrderState.OPEN)
    cancelled = await exchange.orders("abcusdt", OrderState.CANCELLED)
    pending = await exchange.orders("abcusdt", OrderState.PENDING)

    assert [o.id for o in opened] == [kept.id]
    assert [o.id for o in cancelled] == [gone.id]
    assert pending == []


async def test_lost_response_places_the_order_but_raises_unknown(desk: Desk) -> None:
    plan = FaultPlan(seed=1)
    exchange = SimExchange(desk.engine, ALICE, clock=desk.clock, faults=plan)
    plan.force("lost_response")

    with pytest.raises(OrderOutcomeUnknown) as e:
        await exchange.place_order(_sell("c-7", "1", "12.00"))
    found = await exchange.find_order("abcusdt", "c-7")

    assert e.value.client_id == "c-7"
    assert found is not None
    assert found.state is OrderState.OPEN
    assert plan.counters["lost_response"] == 1


async def test_transient_faults_raise_transient_errors(desk: Desk) -> None:
    plan = FaultPlan(seed=1)
    exchange = SimExchange(desk.engine, ALICE, clock=desk.clock, faults=plan)
    plan.force("status_5xx")
    plan.force("rate_limited")

    with pytest.raises(ExchangeUnavailable):
        await exchange.markets()
    with pytest.raises(RateLimited) as limited:
        await exchange.markets()

    assert limited.value.retry_after_s == plan.retry_after_s
    assert len(await exchange.markets()) == 1


async def test_demo_exchange_has_balances_and_living_markets() -> None:
    clock = VirtualClock()
    engine, credentials = build_demo_engine(clock, seed=5)
    exchange = SimExchange(engine, DEMO_KEY, clock=clock)

    markets = {m.id: m for m in await exchange.markets()}
    before = await exchange.ticker("btcusdt")
    await clock.advance(3600)
    after = await exchange.ticker("btcusdt")
    book = await exchange.order_book("qubicusdt", 10)

    assert credentials == {DEMO_KEY: "demo-secret"}
    assert not markets["lunausdt"].enabled
    assert {b.currency for b in await exchange.balances()} >= {"btc", "qubic", "ltc", "doge"}
    assert after.last != before.last
    assert len(book.bids) == 10
    assert book.best_bid is not None
    assert book.best_ask is not None
    assert book.best_bid < book.best_ask
