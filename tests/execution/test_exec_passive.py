"""Limit, iceberg and adaptive executors on the in-process simulator, in virtual time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.domain.orders import OrderState
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from bot.sim.demo import DEMO_KEY, build_demo_engine
from bot.sim.exchange import SimExchange
from tests.execution.exec_helpers import Desk, Runners, make_execution


async def test_limit_rests_above_the_bid_fills_and_reprices_after_timeout(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.wide_book()
    execution = make_execution(
        "lim1",
        strategy=StrategyName.LIMIT,
        allocated="10",
        horizon_s=100,
        limit_offset_bps=Decimal(50),
    )
    task = asyncio.create_task(runner.run(execution))

    await clock.advance(5)
    desk.buy("4")  # lifts our 1.005 ask first
    desk.bid("1.0030", "1")  # the book moves up (still below our ask)
    await clock.advance(40)
    orders = await store.orders_for("lim1")
    await clock.advance(100)
    result = await task

    assert orders[0].price == Decimal("1.0050")
    assert orders[0].state is OrderState.CANCELLED
    assert orders[0].filled == Decimal(4)
    assert orders[1].price == Decimal("1.0081")
    assert orders[1].amount == Decimal(6)
    assert result.state is ExecutionState.PARTIAL  # policy "leave"
    assert result.sold == Decimal(4)
    assert result.proceeds == Decimal("4.0200")
    assert await desk.bot_open_orders() == []


async def test_limit_crosses_the_spread_at_the_horizon_when_configured(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    desk.wide_book()
    runner = runners(guards=replace(guards, final_sweep="cross"))
    execution = make_execution(
        "lim2",
        strategy=StrategyName.LIMIT,
        allocated="5",
        horizon_s=60,
        limit_offset_bps=Decimal(50),
    )

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.COMPLETED
    assert result.sold == Decimal(5)
    assert result.avg_price == Decimal(1)
    last = (await store.orders_for("lim2"))[-1]
    assert last.created_at.timestamp() >= (result.started_at or result.created_at).timestamp() + 60
    assert await desk.bot_open_orders() == []


async def test_iceberg_shows_one_clip_refills_and_reprices_when_the_book_moves(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.wide_book()
    execution = make_execution(
        "ice1",
        strategy=StrategyName.ICEBERG,
        allocated="10",
        horizon_s=300,
        limit_offset_bps=Decimal(50),
        display_frac=Decimal("0.2"),
    )
    task = asyncio.create_task(runner.run(execution))

    await clock.advance(1)
    visible = list(await desk.exchange.open_orders("abcusdt"))
    desk.buy("2")  # takes the first clip
    await clock.advance(3)
    second = await desk.exchange.open_orders("abcusdt")
    desk.clear()  # the book moves away, down
    desk.bid("0.9900", "5")
    desk.ask("1.0000", "1")
    await clock.advance(3)
    third = await desk.exchange.open_orders("abcusdt")
    await clock.advance(400)
    result = await task

    assert [(o.amount, o.price) for o in visible] == [(Decimal(2), Decimal("1.0050"))]
    assert [(o.amount, o.price) for o in second] == [(Decimal("1.6"), Decimal("1.0050"))]
    assert [(o.amount, o.price) for o in third] == [
        (Decimal("1.6"), Decimal("0.9999"))
    ]  # held at the bound
    assert result.sold == Decimal(2)
    assert result.state is ExecutionState.PARTIAL
    assert await desk.bot_open_orders() == []


async def _sell_on_demo(strategy: StrategyName, seed: int) -> tuple[Decimal, ExecutionState]:
    clock = VirtualClock()
    engine, _ = build_demo_engine(clock, seed)
    engine.deposit(DEMO_KEY, "xyo", Decimal(30_000))
    guards = ExecutionGuards(max_slippage_bps=Decimal(300), min_order_value=Decimal(1))
    runners = Runners(
        SimExchange(engine, DEMO_KEY, clock=clock), MemoryExecutionStore(), clock, guards
    )
    runner = runners(seed=seed)
    execution = make_execution(
        f"{strategy}-{seed}",
        market="xyousdt",
        strategy=strategy,
        allocated="30000",
        horizon_s=1800,
        slices=10,
        max_slippage_bps=Decimal(300),
    )
    result = await clock.run(runner.run(execution))
    assert result.shortfall_bps is not None
    return result.shortfall_bps, result.state


async def test_adaptive_pays_less_than_twap_in_a_thin_wide_book() -> None:
    seeds = range(8)

    twap = [await _sell_on_demo(StrategyName.TWAP, s) for s in seeds]
    adaptive = [await _sell_on_demo(StrategyName.ADAPTIVE, s) for s in seeds]

    assert all(state is ExecutionState.COMPLETED for _, state in twap + adaptive)
    twap_mean = sum(bps for bps, _ in twap) / len(twap)
    adaptive_mean = sum(bps for bps, _ in adaptive) / len(adaptive)
    assert adaptive_mean < twap_mean - 20, (adaptive_mean, twap_mean)
    assert sum(a < t for (a, _), (t, _) in zip(adaptive, twap, strict=True)) >= 6


async def test_limit_sells_an_amount_worth_the_minimum_only_at_its_own_price(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    desk.bid("0.9990", "100")  # 10 at the bid: 9.99, below the 10 minimum
    desk.ask("1.0200", "100")
    runner = runners(guards=replace(guards, min_order_value=Decimal(10)))
    execution = make_execution(
        "lim-min", strategy=StrategyName.LIMIT, allocated="10", horizon_s=60,
        limit_offset_bps=Decimal(20),
    )  # fmt: skip
    task = asyncio.create_task(runner.run(execution))

    await clock.advance(5)
    [order] = await store.orders_for("lim-min")
    desk.buy("10")
    await clock.advance(120)
    result = await task

    assert order.price == Decimal("1.0010")
    assert order.amount * order.price >= Decimal(10)
    assert (result.state, result.sold) == (ExecutionState.COMPLETED, Decimal(10))


async def test_adaptive_finishes_once_everything_is_sold_not_at_the_horizon(
    desk: Desk, runner: ExecutionRunner, clock: VirtualClock
) -> None:
    desk.wide_book()
    execution = make_execution(
        "ad-done", strategy=StrategyName.ADAPTIVE, allocated="1.5", horizon_s=600
    )  # below two minimum orders: it rests whole
    task = asyncio.create_task(runner.run(execution))

    await clock.advance(5)
    desk.buy("3")  # lifts our ask, inside the spread, first
    await clock.advance(700)
    result = await task

    assert (result.state, result.sold) == (ExecutionState.COMPLETED, Decimal("1.5"))
    assert result.started_at is not None
    assert result.finished_at is not None
    assert (result.finished_at - result.started_at).total_seconds() < 60
    assert await desk.bot_open_orders() == []
