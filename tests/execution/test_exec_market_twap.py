"""Market and TWAP executors on the in-process simulator, in virtual time."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from decimal import Decimal

from bot.clock import VirtualClock
from bot.domain.decisions import StrategyName
from bot.domain.executions import ExecutionState
from bot.domain.orders import OrderState
from bot.execution.guards import ExecutionGuards
from bot.execution.memory_store import MemoryExecutionStore
from bot.execution.runner import ExecutionRunner
from tests.execution.exec_helpers import Desk, Runners, make_execution


def _build_book(desk: Desk) -> None:
    desk.bid("1.0000", "3")
    desk.bid("0.9950", "3")
    desk.bid("0.9900", "10")
    desk.bid("0.9000", "100")  # beyond the 200 bps guard
    desk.ask("1.0100", "5")


async def test_market_sells_into_the_bids_down_to_the_guard_only(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    _build_book(desk)
    execution = make_execution(
        "mkt1",
        strategy=StrategyName.MARKET,
        allocated="20",
        horizon_s=60,
        max_slippage_bps=Decimal(200),
    )

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.PARTIAL
    assert result.sold == Decimal(16)
    assert result.arrival_mid == Decimal("1.0050")
    assert result.proceeds == Decimal("3.0000") + Decimal("2.9850") + Decimal("9.9000")
    assert result.avg_price is not None
    assert result.avg_price >= Decimal("0.99")
    assert result.shortfall_bps is not None
    assert result.shortfall_bps > 0
    assert await desk.bot_open_orders() == []
    fills = await store.fills_for("mkt1")
    assert min(f.price for f in fills) >= Decimal("0.9849")


async def test_market_completes_and_splits_by_max_order_size(
    desk: Desk,
    store: MemoryExecutionStore,
    clock: VirtualClock,
    guards: ExecutionGuards,
    runners: Runners,
) -> None:
    _build_book(desk)
    runner = runners(guards=replace(guards, max_order_amounts={"abcusdt": Decimal(2)}))
    execution = make_execution("mkt2", strategy=StrategyName.MARKET, allocated="5.5", horizon_s=60)

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.COMPLETED
    assert result.sold == Decimal("5.5")
    orders = await store.orders_for("mkt2")
    assert [o.amount for o in orders] == [Decimal(2), Decimal(2), Decimal("1.5")]
    assert all(o.state is OrderState.FILLED for o in orders)


async def test_twap_sells_in_slices_over_the_horizon(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.deep_book(ask="5")
    start = clock.time()
    execution = make_execution(
        "twap1", strategy=StrategyName.TWAP, allocated="10", horizon_s=600, slices=5
    )

    result = await clock.run(runner.run(execution))

    assert result.state is ExecutionState.COMPLETED
    assert result.sold == Decimal(10)
    orders = await store.orders_for("twap1")
    assert [o.amount for o in orders] == [Decimal(2)] * 5
    times = [o.created_at.timestamp() - start for o in orders]
    assert times[0] == 0
    assert all(b - a > 90 for a, b in itertools.pairwise(times))
    assert times[-1] < 600
    assert await desk.bot_open_orders() == []
    assert runner.tracker.held_locks == 0  # no per-order lock outlives its order's work


async def test_twap_rolls_unfilled_remainder_into_next_slice(
    desk: Desk, runner: ExecutionRunner, store: MemoryExecutionStore, clock: VirtualClock
) -> None:
    desk.bid("1.0000", "1")  # the first slice finds only 1 of 2 above the guard
    desk.ask("1.0100", "5")
    execution = make_execution(
        "twap2", strategy=StrategyName.TWAP, allocated="6", horizon_s=300, slices=3
    )
    run = asyncio.create_task(runner.run(execution))
    await clock.advance(10)
    desk.bid("1.0000", "100")
    await clock.advance(400)
    result = await run

    assert result.sold == Decimal(6)
    orders = await store.orders_for("twap2")
    assert orders[0].amount == Decimal(2)
    assert orders[0].state is OrderState.CANCELLED
    assert orders[0].filled == Decimal(1)
    assert orders[1].amount == Decimal(3)  # slice 2 target 4, sold 1
    assert await desk.bot_open_orders() == []
