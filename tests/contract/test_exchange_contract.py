"""One contract, two implementations: ``SimExchange`` in-process and ``SafeTradeClient`` over
real HTTP to the simulator's server. Both must behave the same at the ``Exchange`` port."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.clock import SystemClock
from bot.domain.orders import OrderRequest, OrderState, OrderType, Side
from bot.exchange.errors import DefinitiveError, InsufficientBalance, InvalidOrder, NotFound
from bot.exchange.port import Exchange
from bot.exchange.safetrade.client import SafeTradeClient
from bot.sim.demo import DEMO_BALANCES, DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.exchange import SimExchange
from bot.sim.server import SimServer


@pytest.fixture(params=["sim", "http"])
async def exchange(request: pytest.FixtureRequest) -> AsyncIterator[Exchange]:
    clock = SystemClock()  # the HTTP leg runs real aiohttp timeouts
    engine, credentials = build_demo_engine(clock, seed=11)
    if request.param == "sim":
        sim = SimExchange(engine, DEMO_KEY, clock=clock)
        yield sim
        await sim.close()
        return
    async with SimServer(engine, credentials=credentials, clock=clock, port=0) as server:
        client = SafeTradeClient(
            server.base_url, DEMO_KEY, DEMO_SECRET, clock=clock, rng=random.Random(5)
        )
        yield client
        await client.close()


async def _far_ask(exchange: Exchange, market: str) -> Decimal:
    book = await exchange.order_book(market)
    assert book.best_ask is not None
    return (book.best_ask * 2).quantize(Decimal("0.01"))


async def test_markets_carry_precisions_minimums_and_state(exchange: Exchange) -> None:
    markets = {m.id: m for m in await exchange.markets()}

    btc = markets["btcusdt"]
    assert (btc.base, btc.quote) == ("btc", "usdt")
    assert btc.amount_precision >= 0
    assert btc.price_precision >= 0
    assert btc.min_amount > 0
    assert markets["lunausdt"].enabled is False


async def test_all_tickers_in_one_call_agree_with_single_ticker(exchange: Exchange) -> None:
    tickers = await exchange.tickers()
    one = await exchange.ticker("ethusdt")

    assert {"btcusdt", "ethusdt", "qubicusdt"} <= set(tickers)
    assert one.market == "ethusdt"
    assert one.last > 0
    assert isinstance(one.quote_volume, Decimal)


async def test_order_book_sides_are_sorted(exchange: Exchange) -> None:
    book = await exchange.order_book("btcusdt", depth=20)

    bids = [lv.price for lv in book.bids]
    asks = [lv.price for lv in book.asks]
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]


async def test_balances_are_the_demo_account(exchange: Exchange) -> None:
    balances = {b.currency: b for b in await exchange.balances()}

    for currency, amount in DEMO_BALANCES.items():
        assert balances[currency].available == amount


async def test_resting_limit_lifecycle_place_find_list_cancel(exchange: Exchange) -> None:
    price = await _far_ask(exchange, "ethusdt")
    request = OrderRequest(
        "sb-contract-1", "ethusdt", Side.SELL, OrderType.LIMIT, Decimal("0.5"), price
    )

    placed = await exchange.place_order(request)
    found = await exchange.find_order("ethusdt", "sb-contract-1")
    listed = await exchange.open_orders("ethusdt")
    locked = {b.currency: b for b in await exchange.balances()}["eth"].locked
    cancelled = await exchange.cancel_order(placed.id)
    after = await exchange.get_order(placed.id)

    assert placed.state is OrderState.OPEN
    assert placed.amount == Decimal("0.5")
    assert found is not None
    assert found.id == placed.id
    assert [o.id for o in listed] == [placed.id]
    assert locked == Decimal("0.5")
    assert cancelled.state is OrderState.CANCELLED
    assert after.state is OrderState.CANCELLED
    assert await exchange.open_orders("ethusdt") == []


async def test_market_sell_fills_and_its_trades_add_up(exchange: Exchange) -> None:
    request = OrderRequest("sb-contract-2", "btcusdt", Side.SELL, OrderType.MARKET, Decimal("0.01"))

    order = await exchange.place_order(request)
    final = await exchange.get_order(order.id)
    trades = await exchange.order_trades(order.id)

    assert final.state is OrderState.FILLED
    assert final.filled == Decimal("0.01")
    assert sum((t.amount for t in trades), Decimal(0)) == final.filled
    assert len({t.trade_id for t in trades}) == len(trades)
    assert all(t.price > 0 for t in trades)


async def test_find_order_returns_none_for_an_order_never_placed(exchange: Exchange) -> None:
    assert await exchange.find_order("btcusdt", "sb-never-placed-1") is None


async def test_insufficient_balance_is_refused(exchange: Exchange) -> None:
    request = OrderRequest("sb-contract-3", "btcusdt", Side.SELL, OrderType.MARKET, Decimal("1000"))

    with pytest.raises(InsufficientBalance):
        await exchange.place_order(request)


async def test_amount_off_the_lot_grid_is_an_invalid_order(exchange: Exchange) -> None:
    market = {m.id: m for m in await exchange.markets()}["btcusdt"]
    odd = market.lot / 10
    request = OrderRequest(
        "sb-contract-4", "btcusdt", Side.SELL, OrderType.MARKET, market.min_amount + odd
    )

    with pytest.raises(InvalidOrder):
        await exchange.place_order(request)


async def test_unknown_order_is_not_found(exchange: Exchange) -> None:
    with pytest.raises(NotFound):
        await exchange.get_order("987654321")


async def test_unknown_market_is_refused_definitively(exchange: Exchange) -> None:
    request = OrderRequest("sb-contract-5", "nopeusdt", Side.SELL, OrderType.MARKET, Decimal("1"))

    with pytest.raises(DefinitiveError):
        await exchange.place_order(request)


async def test_cancel_all_leaves_nothing_open(exchange: Exchange) -> None:
    price = await _far_ask(exchange, "ethusdt")
    for i in range(3):
        await exchange.place_order(
            OrderRequest(
                f"sb-contract-6{i}", "ethusdt", Side.SELL, OrderType.LIMIT, Decimal("0.1"), price
            )
        )

    cancelled = await exchange.cancel_all("ethusdt")

    assert len(cancelled) == 3
    assert await exchange.open_orders() == []
